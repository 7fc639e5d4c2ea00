"""What the website reads from the built store (read-only; nothing is recomputed here).

Each worker thread keeps one read-only DuckDB connection (DuckDB allows many readers); when
the store file is replaced by a new build (an atomic ``os.replace``) the connection and
everything cached are dropped and re-read (the *store version* is the file's inode, mtime and
size). The small tables (``area_index``, ``area_values``, ``sources``, the region names) are
cached in memory. ``/api/v1/value`` reads no table per request: :class:`ValueIndex` holds
``indicator_values`` (one row per region, indicator and period, as columns) and the records of
``area_values``, built once per store version on first use. Responses and page parts that
depend only on the store are kept in bounded LRU caches (:meth:`WebStore.lru`) of the same
store version.

A *unit* is anything a page can show: an area id (``utrecht-overvecht``), the rest of its
gemeente (``utrecht-overvecht~rest``), a group (``G4``, ``NL``), a programme set
(``alle:nplv``) or a CBS region code (``GM0344``, ``WK034403``, ``BU03440300``, ``NL00``).
Area, rest, group and set values come from ``area_values``; CBS regions from
``indicator_values`` (per period the division of that year, else the most recent one).
Values are ``None`` whenever the status is not ``ok``: a suppressed value never leaves here as a
number.
"""

from __future__ import annotations

import atexit
import contextvars
import functools
import json
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .. import analysis, config, store
from ..aggregate import AREA_STATUS_EXPLANATION
from ..areas import load_groups
from ..catalogue import Catalogue, load_catalogue
from ..compute import STATUS_EXPLANATION

#: Reason text for every status a value can have (empty for ``ok``).
REASONS = {**STATUS_EXPLANATION, **AREA_STATUS_EXPLANATION}
PROGRAMMES = {"nplv": "NPLV-focusgebieden (20)", "aandachtswijken": "40 aandachtswijken (2007)"}
LEVEL_NAMES = {"land": "land", "gemeente": "gemeente", "wijk": "wijk", "buurt": "buurt"}
GROUP_NAMES = {"G4": "G4 (vier grote steden)", "G14": "G14 (G18 zonder G4)",
               "G18": "G18 (gemeenten van de 40 aandachtswijken)",
               "NPLV19": "de 19 NPLV-gemeenten", "NL": "Nederland",
               "alle:nplv": "alle 20 NPLV-focusgebieden samen",
               "alle:aandachtswijken": "alle 40 aandachtswijken samen"}
LAND_CODE = "NL00"
VALUE_COLUMNS = ["unit", "indicator", "period", "value", "status", "reason", "estimate",
                 "numerator", "denominator", "source"]


@dataclass
class Unit:
    """What a page shows about one unit."""

    id: str
    kind: str  # area | rest | group | set | gemeente | wijk | buurt | land
    name: str
    gemeente: str | None = None
    gemeente_name: str | None = None
    programme: str | None = None
    level: str | None = None
    reference_year: int | None = None
    codes: list[str] = field(default_factory=list)
    note: str | None = None
    removed: str | None = None

    @property
    def is_area(self) -> bool:
        return self.kind == "area"

    @property
    def is_region(self) -> bool:
        return self.kind in ("gemeente", "wijk", "buurt", "land")

    @property
    def kind_label(self) -> str:
        if self.kind == "area":
            return ("NPLV-focusgebied" if self.programme == "nplv" else
                    "aandachtswijk (2007)" if self.programme == "aandachtswijken" else "eigen gebied")
        return {"rest": "rest van de gemeente", "group": "groep gemeenten", "set": "programma",
                "land": "land"}.get(self.kind, self.kind)


_MISSING = object()


def records(df: pd.DataFrame) -> list[dict]:
    """DataFrame -> JSON-safe records: NaN/NA -> ``None``, numpy scalars -> Python, timestamps
    -> ISO strings. Floats stay exactly the stored doubles (JSON writes their shortest form,
    ``14.8``, not ``pandas.to_json``'s ``14.800000000000001``)."""
    if df.empty:
        return []
    out = df.astype(object).where(df.notna(), None)
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(df[col]):
            out[col] = [None if v is None else pd.Timestamp(v).isoformat() for v in out[col]]
    # ``to_dict`` boxes every cell of an object frame to its Python type (numpy scalars
    # included, pandas >= 2); NaN/NA are None already: no second pass over every cell
    return out.to_dict("records")


def _native(v):
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and v != v:
        return None
    return v


def frame_json(df: pd.DataFrame) -> bytes:
    """The JSON array of :func:`records` of ``df`` (what the list endpoints send)."""
    return dumps(records(df))


def dumps(obj) -> bytes:
    """JSON bytes exactly as FastAPI's default ``JSONResponse`` writes ``obj``."""
    return json.dumps(obj, ensure_ascii=False, allow_nan=False, indent=None,
                      separators=(",", ":")).encode("utf-8")


class Unknown(LookupError):
    """An unknown unit or indicator (``what`` is ``"unit"`` or ``"indicator"``)."""

    def __init__(self, what: str, name: str):
        super().__init__(what, name)
        self.what, self.name = what, name


#: Within one web request (set by :class:`RequestMemo`), the store version seen first: every
#: cache look-up of the request then uses that version (one ``stat`` per request instead of
#: one per look-up, and one version for the whole page). Outside a request: a ``stat`` each time.
REQUEST_MEMO: contextvars.ContextVar[dict | None] = contextvars.ContextVar("wijkmonitor_request_memo",
                                                                           default=None)


class RequestMemo:
    """Pure ASGI middleware: a fresh :data:`REQUEST_MEMO` for every request (the synchronous
    endpoints run in threads that get a copy of the request's context, holding the same dict)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        token = REQUEST_MEMO.set({})
        try:
            await self.app(scope, receive, send)
        finally:
            REQUEST_MEMO.reset(token)


def _rounding(tables: tuple[dict, set], unit: str, indicator: str, period: int, source) -> tuple:
    """``(source, level, n_parts)`` of one value from :meth:`WebStore._rounding_tables`: an
    area's row as ``area_values`` records it; a CBS region's own publication."""
    from ..uncertainty import level_of_code

    by_area, area_ids = tables
    hit = by_area.get((unit, indicator, period))
    if hit is not None:
        return hit
    if _is_cbs_code(unit) and unit not in area_ids:
        return source, level_of_code(unit), 1.0
    return None, None, 1.0


class LRU:
    """A bounded, thread-safe least-recently-used map (for serialized responses): at most
    ``maxsize`` entries and, with ``maxbytes``, at most that many bytes (``len`` of a value, or
    the sum of ``len`` of its items for a tuple)."""

    def __init__(self, maxsize: int, maxbytes: int | None = None):
        self.maxsize, self.maxbytes = maxsize, maxbytes
        self.nbytes = 0
        self._d: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self._flights: dict = {}  # key -> Event of the thread computing it

    @staticmethod
    def _size(value) -> int:
        if isinstance(value, tuple):
            return sum(len(v) for v in value)
        return len(value) if isinstance(value, (bytes, str)) else 0

    def get(self, key, default=None):
        with self._lock:
            try:
                self._d.move_to_end(key)
            except KeyError:
                return default
            return self._d[key]

    def put(self, key, value) -> None:
        with self._lock:
            if key in self._d:
                self.nbytes -= self._size(self._d.pop(key))
            self._d[key] = value
            self.nbytes += self._size(value)
            while len(self._d) > self.maxsize or (
                    self.maxbytes is not None and self.nbytes > self.maxbytes and len(self._d) > 1):
                self.nbytes -= self._size(self._d.popitem(last=False)[1])

    def get_or_put(self, key, fn):
        """The value under ``key``, else ``fn()`` (stored).

        Single flight: while one thread computes ``fn()`` for a key, other threads asking for
        the same key wait for that result instead of computing it again (under 50 connections
        the same uncached page was otherwise rendered by many threads at once, multiplying the
        CPU time and the memory of the render; ``benchmarks/bench_hardening.py``). If ``fn``
        raises, one of the waiting threads computes it next."""
        value = self.get(key, _MISSING)
        if value is not _MISSING:
            return value
        with self._lock:
            flight = self._flights.get(key)
            leader = flight is None
            if leader:
                flight = self._flights[key] = threading.Event()
        if not leader:
            flight.wait()
            value = self.get(key, _MISSING)
            if value is not _MISSING:
                return value
            return self.get_or_put(key, fn)  # the leader failed (or its entry was evicted at once)
        try:
            value = fn()
            self.put(key, value)
            return value
        finally:
            with self._lock:
                self._flights.pop(key, None)
            flight.set()

    def __len__(self) -> int:
        return len(self._d)


class WebStore:
    """Read-only access to one store file for the website."""

    #: entries per LRU cache of serialized responses or page parts (per store version)
    LRU_SIZE = 512

    def __init__(self, path: Path | str | None = None):
        self.path = Path(path) if path else config.store_path()
        self._local = threading.local()
        self._lock = threading.Lock()
        self._build_lock = threading.Lock()
        self._sig = None
        self._cache: dict = {}
        self._roots: list = []  # [(signature, connection)], newest last

    # -- connections and caches -------------------------------------------------------------
    def _signature(self):
        memo = REQUEST_MEMO.get()
        if memo is not None and self.path in memo:
            return memo[self.path]
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            raise store.StoreMissing.at(self.path) from None
        sig = (st.st_ino, st.st_mtime_ns, st.st_size)
        if memo is not None:
            memo[self.path] = sig
        return sig

    #: database instances of earlier store versions kept open for threads still reading them
    KEEP_ROOTS = 2

    def _root(self, sig):
        """The one database instance of store version ``sig`` in this process. Every thread
        reads through a cursor of it, so that the threads share one buffer pool and one DuckDB
        thread pool: a database per thread (as before) held its own copy of the blocks it read
        and its own threads, ~20 MB per request thread (measured: 20 threads reading the store,
        600 MB with a database each, 306 MB with cursors of one)."""
        with self._lock:
            if self._roots and self._roots[-1][0] == sig:
                return self._roots[-1][1]
            root = _open(self.path)
            _remember(root)
            self._roots.append((sig, root))
            while len(self._roots) > self.KEEP_ROOTS + 1:  # closing a root closes its cursors
                _, old = self._roots.pop(0)
                _forget(old)
                old.close()
            return root

    def close_connections(self) -> None:
        """Close every DuckDB connection of this store (before a fork: DuckDB's threads do not
        survive it). The caches stay; the next :meth:`con` opens a new database."""
        with self._lock:
            for _, root in self._roots:
                _forget(root)
                root.close()  # closes its cursors too
            self._roots.clear()
        self._local = threading.local()

    def con(self):
        """This thread's connection to the store as it is now: a cursor of :meth:`_root`."""
        sig = self._signature()
        con = getattr(self._local, "con", None)
        if con is None or self._local.sig != sig:
            if con is not None:
                _forget(con)
                try:
                    con.close()
                except Exception:  # its root was closed already (and closed it)
                    pass
            root = self._root(sig)
            with self._lock:
                con = root.cursor()
            con.execute("USE store")
            con.execute("SET enable_progress_bar = false")
            _remember(con)
            self._local.con, self._local.sig = con, sig
        return con

    def df(self, sql: str, params: list | None = None) -> pd.DataFrame:
        return self.con().execute(sql, params or []).df()

    def peek(self, key, default=None):
        """What :meth:`cached` holds under ``key`` for the current store version, else
        ``default`` (never computes)."""
        sig = self._signature()
        with self._lock:
            if sig != self._sig:
                return default
            return self._cache.get(key, default)

    def cached(self, key, fn):
        """``fn()`` computed once per store version (several threads may compute it at once
        the first time; use :meth:`built` for expensive values)."""
        sig = self._signature()
        with self._lock:
            if sig != self._sig:
                self._cache.clear()
                self._sig = sig
            if key in self._cache:
                return self._cache[key]
        value = fn()
        with self._lock:
            if self._sig == sig:  # not if the store was replaced meanwhile
                self._cache[key] = value
        return value

    def built(self, key, fn):
        """Like :meth:`cached`, but ``fn`` runs in one thread at a time (others wait for it)."""
        value = self.peek(key, _MISSING)
        if value is not _MISSING:
            return value
        with self._build_lock:
            return self.cached(key, fn)

    def lru(self, name: str, maxsize: int | None = None, maxbytes: int | None = None) -> LRU:
        """The LRU cache ``name`` of the current store version (a new, empty one after the
        store file was replaced)."""
        return self.cached(("lru", name), lambda: LRU(maxsize or self.LRU_SIZE, maxbytes))

    # -- small tables -------------------------------------------------------------------------
    @property
    def catalogue(self) -> Catalogue:
        return load_catalogue()

    def meta(self) -> dict:
        return self.cached("meta", lambda: dict(self.con().execute("SELECT key, value FROM meta").fetchall()))

    def area_index(self) -> pd.DataFrame:
        def load():
            df = self.df("SELECT * FROM area_index ORDER BY programme DESC, name")
            return df
        return self.cached("area_index", load)

    def area_values(self) -> pd.DataFrame:
        def load():
            df = self.df("SELECT * FROM area_values")
            df.loc[df["status"] != "ok", ["value", "numerator"]] = np.nan
            df["reason"] = df["status"].map(REASONS).fillna("")
            return df
        return self.cached("area_values", load)

    def sources(self) -> pd.DataFrame:
        return self.cached("sources", lambda: self.df("SELECT * FROM sources ORDER BY rank"))

    def rounding_context(self, df: pd.DataFrame) -> dict:
        """The publication of each row of a web value table (columns ``unit`` or ``code``,
        ``indicator``, ``period``, ``source``), as :func:`wijkmonitor.uncertainty.intervals`
        takes it: a CBS region's row names its ``source_id``; an area's row names its provenance,
        so its publication (source, level, number of parts added up) is looked up in
        ``area_values`` (:func:`wijkmonitor.uncertainty.rounding_context`). A count rounded by
        its publisher then gets the same interval as in `wijkmonitor value` and the report."""
        n = len(df)
        source, level = np.full(n, None, dtype=object), np.full(n, None, dtype=object)
        parts = np.ones(n)
        unit_col = "unit" if "unit" in df.columns else "code"
        if n and unit_col in df.columns:
            src = df["source"].to_numpy(object) if "source" in df.columns else np.full(n, None, object)
            tables = self._rounding_tables()  # once for all rows
            for i, (u, ind, per) in enumerate(zip(df[unit_col], df["indicator"], df["period"])):
                if pd.notna(per):
                    source[i], level[i], parts[i] = _rounding(tables, u, ind, int(per), src[i])
        return dict(source=source, level=level, n_parts=parts, base_source=np.full(n, None, dtype=object))

    def rounding_of(self, unit: str, indicator: str, period: int, source) -> tuple:
        """``(source, level, n_parts)`` of one value as :meth:`rounding_context` gives them
        (without a frame: the value endpoint asks this per request)."""
        return _rounding(self._rounding_tables(), unit, indicator, period, source)

    def _rounding_tables(self) -> tuple[dict, set]:
        """Per store version: ``(unit, indicator, period) -> (source, level, n_parts)`` of the
        rows of ``area_values``, and the ids of the units with rows there."""
        from ..uncertainty import rounding_context

        def load():
            av = self.area_values()
            ctx = rounding_context(av)
            out: dict = {}
            if ctx:
                keys = zip(av["unit_id"], av["indicator"], av["period"].astype(int))
                for k, s, lv, n in zip(keys, ctx["source"], ctx["level"], ctx["n_parts"]):
                    out.setdefault(k, (s, lv, n))  # the first row of a key, as the value index
            return out, set(av["unit_id"])
        return self.cached("area_rounding_context", load)

    def name_year_sql(self, alias: str = "") -> str:
        """The column ``name_year`` of ``regions`` (``alias.``-qualified); stores built before
        it existed have names of their own year only."""
        cols = self.cached("regions_columns", lambda: set(self.df("SELECT * FROM regions LIMIT 0").columns))
        return f"{alias}name_year" if "name_year" in cols else f"{alias}year AS name_year"

    def region_names(self) -> pd.DataFrame:
        """One row per CBS code: its most recent division's name, level and gemeente."""
        def load():
            return self.df(f"""
                SELECT code, year, level, name, {self.name_year_sql()}, gemeente_code, wijk_code FROM (
                  SELECT *, row_number() OVER (PARTITION BY code ORDER BY year DESC) rn FROM regions)
                WHERE rn = 1""").set_index("code")
        return self.cached("region_names", load)

    def groups(self) -> dict:
        return self.cached("groups", load_groups)  # parsing the YAML costs ~13 ms

    # -- units -------------------------------------------------------------------------------
    def unit(self, uid: str) -> Unit | None:
        """The :class:`Unit` for an id or code (``None`` if unknown)."""
        uid = uid.strip()
        idx = self.area_index()
        base = uid.split("~")[0]
        a = self.cached("area_rows", lambda: {r["area_id"]: r for r in idx.to_dict("records")}).get(base)
        if a is not None:
            removed = a["removed"] if isinstance(a.get("removed"), str) else (
                str(int(a["removed"])) if pd.notna(a.get("removed")) else None)
            u = Unit(id=a["area_id"], kind="area", name=a["name"], gemeente=a["gemeente_unit"],
                     gemeente_name=a["gemeente_name"], programme=a["programme"], level=a["level"],
                     reference_year=int(a["reference_year"]), codes=str(a["codes"]).split(","),
                     note=a["delineation_note"], removed=removed)
            if uid.endswith("~rest"):
                u = Unit(id=uid, kind="rest", name=f"{u.gemeente_name} zonder {u.name}",
                         gemeente=u.gemeente, gemeente_name=u.gemeente_name, level=u.level)
            return u
        if uid in GROUP_NAMES:
            return Unit(id=uid, kind="set" if uid.startswith("alle:") else "group", name=GROUP_NAMES[uid])
        up = uid.upper()
        names = self.region_names()
        if up in names.index:
            r = names.loc[up]
            gm = r["gemeente_code"] if isinstance(r["gemeente_code"], str) else (
                up if r["level"] == "gemeente" else None)
            gname = None
            if gm and gm in names.index:
                gname = names.loc[gm, "name"]
            # a code without a name in its latest division (NULL, read as NaN) is named by its code
            name = r["name"] if isinstance(r["name"], str) and r["name"] else up
            return Unit(id=up, kind=r["level"], name=name, gemeente=gm, gemeente_name=gname,
                        level=r["level"], reference_year=int(r["year"]))
        return None

    def group_of(self, gemeente: str | None) -> str | None:
        """The G-group of a gemeente: G4, else G14, else NPLV19 (None if in none)."""
        if not gemeente:
            return None
        groups = self.groups()
        for gid in ("G4", "G14", "NPLV19"):
            g = groups.get(gid)
            if g is not None and gemeente in g.members:
                return gid
        return None

    def references(self, u: Unit) -> list[tuple[str, str]]:
        """``(label, unit id)`` of the references shown next to a unit's values."""
        refs: list[tuple[str, str]] = []
        if u.kind == "area":
            refs.append((f"Eigen gemeente ({u.gemeente_name})", u.gemeente))
            refs.append((f"Rest van {u.gemeente_name}", f"{u.id}~rest"))
        elif u.kind in ("wijk", "buurt") and u.gemeente:
            refs.append((f"Eigen gemeente ({u.gemeente_name or u.gemeente})", u.gemeente))
        grp = self.group_of(u.gemeente)
        if grp and u.kind not in ("group", "set", "land"):
            refs.append((GROUP_NAMES[grp], grp))
        if u.id not in ("NL", LAND_CODE):
            refs.append(("Nederland", "NL"))
        return refs

    # -- values ------------------------------------------------------------------------------
    def unit_values(self, uid: str, indicator: str | None = None) -> pd.DataFrame:
        """Every value of one unit (all indicators or one), one row per indicator and period.

        Columns :data:`VALUE_COLUMNS`; ``value`` is NaN unless ``status == 'ok'``.
        """
        av = self.area_values()
        # per unit its rows, grouped once (a boolean filter over the table costs ms per request)
        by_unit = self.cached("area_values_by_unit",
                              lambda: {u: g for u, g in av.groupby("unit_id", sort=False)})
        sub = by_unit.get(uid, av.iloc[:0])
        # a gemeente that is some area's reference has its own rows there (the values the gap
        # uses, including successors after mergers); other CBS regions are read directly
        if not sub.empty or not _is_cbs_code(uid):
            if indicator:
                sub = sub[sub["indicator"] == indicator]
            out = sub.rename(columns={"unit_id": "unit", "method": "source"})
            return out[VALUE_COLUMNS].sort_values(["indicator", "period"]).reset_index(drop=True)
        return self.region_values([uid], indicator=indicator)

    def region_values(self, codes: list[str], *, indicator: str | None = None,
                      period: int | None = None) -> pd.DataFrame:
        """Values of CBS regions from ``indicator_values`` (per period the division of that
        year, else the most recent division)."""
        where = ["region_code = ANY(?)"]  # lets DuckDB push the filter into the scan
        params: list = [list(codes)]
        if indicator:
            where.append("indicator = ?"); params.append(indicator)
        if period is not None:
            where.append("period = ?"); params.append(int(period))
        df = self.df(f"""
            SELECT region_code AS unit, indicator, period,
                   CASE WHEN status = 'ok' THEN value END AS value, status, estimate,
                   CASE WHEN status = 'ok' THEN numerator END AS numerator, denominator,
                   source_id AS source
            FROM indicator_values WHERE {' AND '.join(where)}
            QUALIFY row_number() OVER (PARTITION BY region_code, indicator, period
                                       ORDER BY (geo_year = period) DESC, abs(geo_year - period), geo_year DESC) = 1
            ORDER BY indicator, period, region_code""", params)
        df["reason"] = df["status"].map(REASONS).fillna("")
        return df[VALUE_COLUMNS]

    def level_values(self, indicator: str, period: int, level: str,
                     gemeente: str | None = None) -> pd.DataFrame:
        """All CBS regions of one level (optionally within one gemeente) for one indicator and
        period, with name; ``value`` NaN unless ``ok``; last the value's 95 % interval
        (:data:`wijkmonitor.uncertainty.INTERVAL_COLUMNS`, as ``/api/v1/value`` gives it)."""
        where = ["v.indicator = ?", "v.period = ?", "r.level = ?"]
        params: list = [indicator, int(period), level]
        if gemeente:
            where.append("r.gemeente_code = ?"); params.append(gemeente)
        df = self.df(f"""
            SELECT v.region_code AS code, r.name, {self.name_year_sql("r.")}, r.gemeente_code AS gemeente, v.geo_year,
                   v.period, CASE WHEN v.status = 'ok' THEN v.value END AS value, v.status,
                   v.estimate, v.source_id AS source,
                   CASE WHEN v.status = 'ok' THEN v.numerator END AS numerator, v.denominator
            FROM indicator_values v JOIN regions r ON r.code = v.region_code AND r.year = v.geo_year
            WHERE {' AND '.join(where)}
            QUALIFY row_number() OVER (PARTITION BY v.region_code
                                       ORDER BY (v.geo_year = v.period) DESC, v.geo_year DESC) = 1
            ORDER BY v.region_code""", params)
        df["reason"] = df["status"].map(REASONS).fillna("")
        # the interval of each value (issue 15), by the function `/api/v1/value` uses: one
        # vectorised call for the whole level; numerator and denominator stay internal
        from ..uncertainty import interval_columns
        # the publication of each value: a count rounded by its publisher gets that interval
        n = len(df)
        iv = interval_columns(df, self.catalogue, indicator=indicator,
                              context=dict(source=df["source"].to_numpy(object), level=np.full(n, level, object),
                                           n_parts=np.ones(n), base_source=np.full(n, None, object)))
        return pd.concat([df.drop(columns=["numerator", "denominator"]), iv], axis=1)

    def indicator_periods(self, indicator: str) -> dict[str, list[int]]:
        """Periods with at least one shown value, per level (and ``gebied`` for areas)."""
        def load():
            from ..wijkindex import select as wi
            if indicator not in self.catalogue and wi.is_component(indicator):
                return wi.component_periods(self.con(), indicator)
            df = self.df("""SELECT DISTINCT r.level, v.period FROM indicator_values v
                            JOIN regions r ON r.code = v.region_code AND r.year = v.geo_year
                            WHERE v.indicator = ? AND v.status = 'ok' ORDER BY 2""", [indicator])
            out = {lv: sorted(g["period"].astype(int).tolist()) for lv, g in df.groupby("level")}
            av = self.area_values()
            a = av[(av["indicator"] == indicator) & (av["unit_kind"] == "area") & (av["status"] == "ok")]
            out["gebied"] = sorted(a["period"].astype(int).unique().tolist())
            return out
        return self.cached(("periods", indicator), load)

    def area_periods(self, min_values: int = 1) -> list[int]:
        """Periods in which at least ``min_values`` area values (any area, any indicator) are
        shown (``min_values=100`` finds the years most areas have figures for); once per store
        version (pages ask on every request)."""
        def load():
            av = self.area_values()
            a = av[(av["unit_kind"] == "area") & (av["status"] == "ok")]
            counts = a.groupby("period").size()
            return sorted(int(p) for p in counts[counts >= min_values].index)
        return list(self.cached(("area_periods", min_values), load))

    # -- one value (``/api/v1/value``), from memory ------------------------------------------
    def value_index(self) -> "ValueIndex":
        """The :class:`ValueIndex` of the current store version (built on first use, once)."""
        return self.built("value_index", lambda: ValueIndex(self))

    def value_json(self, unit: str, indicator: str, year: int, *, build: bool = True) -> bytes | None:
        """The JSON body of ``/api/v1/value/{unit}/{indicator}/{year}``.

        No query and no pandas once the index is built. With ``build=False`` returns ``None``
        instead of doing anything slow (building the index, resolving a unit id seen for the
        first time), so that an ``async`` endpoint can do that in a thread. Raises
        :class:`Unknown` for an unknown unit or indicator. A body is kept per store version
        (bounded LRU): the interval of a value costs ~0,3 ms of numpy per request otherwise.
        """
        key = (unit, indicator, year)
        cache = self.lru("value_json", 8192, maxbytes=8 * 2**20)
        body = cache.get(key)
        if body is None:
            body = self._value_json(unit, indicator, year, build=build)
            if body is not None:
                cache.put(key, body)
        return body

    def _value_json(self, unit: str, indicator: str, year: int, *, build: bool = True) -> bytes | None:
        idx = self.peek("value_index")
        if idx is None:
            if not build:
                return None
            idx = self.value_index()
        ref = idx.units.get(unit)
        if ref is None:
            if not build:
                return None
            u = self.unit(unit)
            if u is None:
                raise Unknown("unit", unit)
            ref = (u.id, u.name)
            if len(idx.units) < idx.MAX_UNITS:
                idx.units[unit] = ref
        ind = self.catalogue.get(indicator)
        if ind is None:
            from ..wijkindex import select as wi
            if not wi.is_component(indicator):
                raise Unknown("indicator", indicator)
            if not build:  # a query: in a thread
                return None
            uid, name = ref
            base = dict(unit=uid, unit_name=name, indicator=indicator,
                        indicator_name=wi.component_name(indicator), unit_of_measure=wi.UNIT, period=year)
            rec = wi.value_record(self.con(), uid, indicator, year)
            if rec is None:
                return dumps(base | dict(value=None, status="niet beschikbaar",
                                         reason=REASONS["niet beschikbaar"]))
            return dumps(base | dict(unit=uid, indicator=indicator, period=year) | rec)
        uid, name = ref
        base = dict(unit=uid, unit_name=name, indicator=indicator, indicator_name=ind.name,
                    unit_of_measure=ind.unit, period=year)
        rec = idx.record(uid, indicator, year)
        if rec is None:
            return dumps(base | dict(value=None, status="niet beschikbaar",
                                     reason=REASONS["niet beschikbaar"]))
        # the value's 95 % interval, as `wijkmonitor value` and the area page give it (issue 15)
        # an area value added up with a declared stand-in weight says so (``approximation``)
        from ..uncertainty import approximation_text, interval_fields
        # the publication of the value (a count rounded by its publisher gets that interval)
        source, level, n_parts = self.rounding_of(uid, indicator, int(year), rec.get("source"))
        return dumps(base | rec | dict(approximation=approximation_text(rec.get("source")))
                     | interval_fields(ind, rec["value"], rec["numerator"], rec["denominator"],
                                       status=rec["status"], method=rec.get("source"),
                                       source=source, level=level, n_parts=n_parts))

    # -- analysis (read from the analysis module, never re-derived) ---------------------------
    def gaps(self, areas, baseline: int, latest: int, reference: str = "gemeente",
             rule: str = "standaard") -> pd.DataFrame:
        # an LRU, not cached(): the keys come from requests (any list of areas)
        key = (tuple(areas) if isinstance(areas, list) else areas, baseline, latest, reference, rule)
        return self.lru("gaps_frames", 256).get_or_put(key, lambda: analysis.gaps(
            areas=areas, baseline=baseline, latest=latest, reference=reference,
            values=self.area_values(), index=self.area_index(), catalogue=self.catalogue, rule=rule,
            sources=self.sources()))

    def outcome(self, programme: str, baseline: int, latest: int, reference: str = "gemeente"
                ) -> pd.DataFrame:
        def load():
            g = self.gaps(programme, baseline, latest, reference)
            return analysis.outcome_table(g, values=self.area_values(), set_unit=f"alle:{programme}",
                                          catalogue=self.catalogue)
        return self.cached(("outcome", programme, baseline, latest, reference), load)

    def region_gaps(self, u: Unit, values: pd.DataFrame, ref_values: pd.DataFrame,
                    baseline: int, latest: int, reference: str = "gemeente") -> pd.DataFrame:
        """Gap and class of a CBS region against a reference unit, with the analysis module's
        rule (:func:`wijkmonitor.analysis.classify`, nearest available years per indicator)."""
        from ..uncertainty import Z, intervals, method_of

        def ok_map(df):
            out: dict = {}
            for r in df[df["status"] == "ok"][["indicator", "period", "value", "numerator",
                                              "denominator"]].itertuples(index=False):
                out.setdefault(r.indicator, {})[int(r.period)] = float(r.value)
                ses.setdefault(id(df), {}).setdefault(r.indicator, {})[int(r.period)] = (r.numerator, r.denominator)
            return out

        ses: dict = {}

        def se_of(df, d, ind, year):
            if year is None or year not in d:
                return np.nan
            num, den = ses.get(id(df), {}).get(ind.id, {}).get(year, (np.nan, np.nan))
            return float(intervals(ind, [d[year]], [num], [den])["se"][0])

        own, ref = ok_map(values), ok_map(ref_values)
        rows = []
        for ind_id, ind in self.catalogue.items():
            if not analysis.comparable(ind):
                continue
            v, r = own.get(ind_id, {}), ref.get(ind_id, {})
            avail = sorted(set(v) & set(r))
            by = analysis.nearest_year(avail, baseline, prefer="earlier")
            ly = analysis.nearest_year(avail, latest, prefer="later")
            vb, vl = v.get(by, np.nan), v.get(ly, np.nan)
            rb, rl = r.get(by, np.nan), r.get(ly, np.nan)
            tol = analysis.default_tolerance(ind, rb)
            se = np.sqrt(se_of(values, v, ind, by) ** 2 + se_of(values, v, ind, ly) ** 2
                         + se_of(ref_values, r, ind, by) ** 2 + se_of(ref_values, r, ind, ly) ** 2)
            cls = analysis.classify([vb], [vl], [rb], [rl], higher_is_better=ind.higher_is_better,
                                    tolerance=[tol], same_year=[by is None or by == ly], change_se=[se])[0]
            if ind.higher_is_better is None:
                change = abs(vl - rl) - abs(vb - rb)
            else:
                sign = 1.0 if ind.higher_is_better else -1.0
                change = max(0.0, sign * (rl - vl)) - max(0.0, sign * (rb - vb))
            if by is None or by == ly:
                change = np.nan
            rows.append(dict(indicator=ind_id, baseline_year=by, latest_year=ly, value_baseline=vb,
                             value_latest=vl, reference_baseline=rb, reference_latest=rl,
                             gap_baseline=vb - rb, gap_latest=vl - rl, tolerance=tol,
                             rule=analysis.rule_text(ind, tol, by, ly, reference, "standaard"),
                             change=change, change_lower=change - Z * se, change_upper=change + Z * se,
                             interval_method=method_of(ind), **{"class": cls}))
        return pd.DataFrame(rows)

    # -- search ------------------------------------------------------------------------------
    def search(self, q: str, limit: int = 50) -> pd.DataFrame:
        """Areas and CBS regions whose name or code matches ``q``: ``id, name, kind, detail``."""
        q = (q or "").strip()
        if not q:
            return pd.DataFrame(columns=["id", "name", "kind", "detail"])
        idx = self.area_index()
        ql = q.lower()
        hit = idx[idx["name"].str.lower().str.contains(ql, regex=False)
                  | idx["area_id"].str.lower().str.contains(ql, regex=False)
                  | idx["gemeente_name"].str.lower().str.contains(ql, regex=False)]
        rows = [dict(id=a.area_id, name=a.name,
                     kind="NPLV-focusgebied" if a.programme == "nplv" else "aandachtswijk (2007)",
                     detail=f"gemeente {a.gemeente_name}") for a in hit.itertuples()]
        regs = self.df("""
            SELECT code, year, level, name, gemeente_code FROM (
               SELECT *, row_number() OVER (PARTITION BY code ORDER BY year DESC) rn FROM regions
               WHERE upper(code) = upper(?) OR name ILIKE ?)
            WHERE rn = 1
            ORDER BY upper(code) = upper(?) DESC,
                     CASE level WHEN 'land' THEN 0 WHEN 'gemeente' THEN 1 WHEN 'wijk' THEN 2 ELSE 3 END,
                     length(name), name LIMIT ?""", [q, f"%{q}%", q, limit])
        names = self.region_names()
        for r in regs.itertuples():
            gname = names.loc[r.gemeente_code, "name"] if isinstance(r.gemeente_code, str) and \
                r.gemeente_code in names.index else None
            detail = f"{r.code}, indeling {r.year}" + (f", gemeente {gname}" if gname else "")
            rows.append(dict(id=r.code, name=r.name or r.code, kind=r.level, detail=detail))
        return pd.DataFrame(rows[:limit], columns=["id", "name", "kind", "detail"])


class ValueIndex:
    """Every value ``/api/v1/value`` can return, in memory, for one store version.

    CBS regions: ``indicator_values`` with one row per region, indicator and period (the
    division of that year, else the most recent one: the rule of
    :meth:`WebStore.region_values`), as numpy columns sorted by region, indicator and period,
    with ``{region code: (first row, end)}``; a look-up is a dict hit and a binary search in the
    region's few dozen rows. Floats are the stored doubles, as ``records`` returns them, so the
    JSON is the same as that of the DataFrame path. Areas, rests,
    groups, sets and the gemeenten with rows in ``area_values``: one record per unit, indicator
    and period. ``units`` remembers ``(id, name)`` per requested unit string.
    """

    MAX_UNITS = 100_000

    def __init__(self, ws: WebStore):
        import pyarrow.compute as pc

        t0 = time.perf_counter()
        # a connection of its own, closed after the read: DuckDB's memory for the window
        # query is given back instead of staying with a worker thread's connection
        con = _open(ws.path)
        tbl = con.sql("""
            SELECT region_code, indicator, period,
                   CASE WHEN status = 'ok' THEN value END AS value, status, estimate,
                   CASE WHEN status = 'ok' THEN numerator END AS numerator, denominator,
                   source_id AS source
            FROM indicator_values
            QUALIFY row_number() OVER (PARTITION BY region_code, indicator, period
                                       ORDER BY (geo_year = period) DESC, abs(geo_year - period), geo_year DESC) = 1
            """).to_arrow_table()
        con.close()

        def codes(col):
            enc = pc.dictionary_encode(tbl.column(col)).combine_chunks()
            return enc.indices.to_numpy(zero_copy_only=False), enc.dictionary.to_pylist()

        region, region_names = codes("region_code")
        ind, self.indicators = codes("indicator")
        status, self.statuses = codes("status")
        source_idx, self.sources = codes("source")  # null stays null: index -1 below
        source_valid = tbl.column("source").is_valid().to_numpy(zero_copy_only=False)
        period = tbl.column("period").to_numpy().astype(np.int64)
        order = np.lexsort((period, ind, region))
        region = region[order]
        self.keys = (ind.astype(np.int64)[order] * 10_000 + period[order])
        self.status = status[order].astype(np.int16)
        self.source = np.where(source_valid, source_idx, -1)[order].astype(np.int32)
        self.estimate = tbl.column("estimate").to_numpy(zero_copy_only=False)[order]
        self.value, self.numerator, self.denominator = (
            np.asarray(tbl.column(c).to_numpy(zero_copy_only=False), dtype="float64")[order]
            for c in ("value", "numerator", "denominator"))
        starts = np.flatnonzero(np.r_[True, region[1:] != region[:-1]])
        ends = np.r_[starts[1:], len(region)]
        self.ranges = {region_names[region[s]]: (int(s), int(e)) for s, e in zip(starts, ends)}
        self.ind_code = {name: i for i, name in enumerate(self.indicators)}
        self.reasons = [REASONS.get(s, "") for s in self.statuses]
        del tbl, region, ind, status, period, order

        av = ws.area_values()
        frame = av.rename(columns={"unit_id": "unit", "method": "source"})[VALUE_COLUMNS]
        self.area: dict = {}
        for rec in records(frame):
            self.area.setdefault((rec["unit"], rec["indicator"], rec["period"]), rec)
        self.area_units = set(av["unit_id"])
        self.units: dict = {}
        self.build_seconds = time.perf_counter() - t0

    def record(self, uid: str, indicator: str, year: int) -> dict | None:
        """The value record of a unit (canonical id), indicator and year, or ``None``."""
        if uid in self.area_units or not _is_cbs_code(uid):
            return self.area.get((uid, indicator, year))
        rng = self.ranges.get(uid)
        ic = self.ind_code.get(indicator)
        if rng is None or ic is None or not 0 <= year < 10_000:
            return None
        s, e = rng
        key = ic * 10_000 + year
        i = s + int(np.searchsorted(self.keys[s:e], key))
        if i >= e or self.keys[i] != key:
            return None
        st = int(self.status[i])
        src = int(self.source[i])
        return dict(unit=uid, indicator=indicator, period=year, value=_num(self.value[i]),
                    status=self.statuses[st], reason=self.reasons[st],
                    estimate=bool(self.estimate[i]), numerator=_num(self.numerator[i]),
                    denominator=_num(self.denominator[i]),
                    source=self.sources[src] if src >= 0 else None)

    def nbytes(self) -> int:
        """Memory of the numpy columns (the dicts are counted by :func:`sys.getsizeof` of
        their entries, roughly)."""
        import sys
        arrays = (self.keys, self.status, self.source, self.estimate, self.value, self.numerator,
                  self.denominator)
        n = sum(a.nbytes for a in arrays)
        n += sys.getsizeof(self.ranges) + sum(sys.getsizeof(k) + 56 for k in self.ranges)
        n += sys.getsizeof(self.area) + sum(
            sys.getsizeof(k) + sys.getsizeof(r) + sum(sys.getsizeof(x) for x in r.values())
            for k, r in self.area.items())
        return n


#: Every per-thread connection the web layer opened and has not closed (closed at exit).
_OPEN_CONNECTIONS: list = []
_OPEN_LOCK = threading.Lock()


def _remember(con) -> None:
    with _OPEN_LOCK:
        _OPEN_CONNECTIONS.append(con)


def _forget(con) -> None:
    with _OPEN_LOCK:
        for i, c in enumerate(_OPEN_CONNECTIONS):
            if c is con:
                del _OPEN_CONNECTIONS[i]
                break


@atexit.register
def _collect_before_exit() -> None:
    """Close the web layer's connections and collect garbage cycles while the interpreter is
    still whole. DuckDB objects left in a cycle (a result or relation and its connection), or in
    the thread-local storage of a worker thread of the request pool, and freed only during the
    interpreter's finalization made the process abort at exit ("terminate called ... FATAL:
    exception not rethrown", exit status 134, e.g. after a TestClient session), and DuckDB's
    bindings list them as leaks. ``serve`` freezes its warmed-up objects (``gc.freeze``):
    unfreeze first."""
    import gc

    with _OPEN_LOCK:
        cons, _OPEN_CONNECTIONS[:] = list(_OPEN_CONNECTIONS), []
    for con in cons:
        try:
            con.close()
        except Exception:  # pragma: no cover - a connection already closed or broken
            pass
    gc.unfreeze()
    gc.collect()


def _open(path: Path) -> "duckdb.DuckDBPyConnection":
    """A read-only connection to the store file as it is now (:func:`store.connect`), without
    progress bars in the server's output."""
    con = store.connect(path)
    con.execute("SET enable_progress_bar = false")
    return con


def _num(x) -> float | None:
    x = float(x)
    return None if x != x else x


def _is_cbs_code(uid: str) -> bool:
    u = uid.upper()
    return u[:2] in ("GM", "WK", "BU", "NL") and any(ch.isdigit() for ch in u)


@functools.lru_cache(maxsize=8)
def get_store(path: str | None = None) -> WebStore:
    """One :class:`WebStore` per store path (per process)."""
    return WebStore(path)
