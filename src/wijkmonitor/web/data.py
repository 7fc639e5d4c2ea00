"""What the website reads from the built store (read-only; nothing is recomputed here).

Each worker thread keeps one read-only DuckDB connection (DuckDB allows many readers); when
the store file is replaced by a new build (an atomic ``os.replace``) the connection and the
small cached tables are dropped and re-read. The small tables (``area_index``,
``area_values``, ``sources``, the region names) are cached in memory; ``indicator_values``
(nearly a million rows) is queried per request.

A *unit* is anything a page can show: an area id (``utrecht-overvecht``), the rest of its
gemeente (``utrecht-overvecht~rest``), a group (``G4``, ``NL``), a programme set
(``alle:nplv``) or a CBS region code (``GM0344``, ``WK034403``, ``BU03440300``, ``NL00``).
Area, rest, group and set values come from ``area_values``; CBS regions from
``indicator_values`` (per period the division of that year, else the most recent one).
Values are ``None`` whenever the status is not ``ok``: a suppressed value never leaves here as a
number.
"""

from __future__ import annotations

import functools
import os
import threading
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


class WebStore:
    """Read-only access to one store file for the website."""

    def __init__(self, path: Path | str | None = None):
        self.path = Path(path) if path else config.store_path()
        self._local = threading.local()
        self._lock = threading.Lock()
        self._sig = None
        self._cache: dict = {}

    # -- connections and caches -------------------------------------------------------------
    def _signature(self):
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            raise store.StoreMissing(
                f"De store {self.path} bestaat nog niet: draai eerst 'wijkmonitor build'.") from None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def con(self):
        sig = self._signature()
        con = getattr(self._local, "con", None)
        if con is None or self._local.sig != sig:
            if con is not None:
                con.close()
            con = store.connect(self.path, read_only=True)
            self._local.con, self._local.sig = con, sig
        return con

    def df(self, sql: str, params: list | None = None) -> pd.DataFrame:
        return self.con().execute(sql, params or []).df()

    def cached(self, key, fn):
        sig = self._signature()
        with self._lock:
            if sig != self._sig:
                self._cache.clear()
                self._sig = sig
            if key in self._cache:
                return self._cache[key]
        value = fn()
        with self._lock:
            self._cache[key] = value
        return value

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

    def region_names(self) -> pd.DataFrame:
        """One row per CBS code: its most recent division's name, level and gemeente."""
        def load():
            return self.df("""
                SELECT code, year, level, name, gemeente_code, wijk_code FROM (
                  SELECT *, row_number() OVER (PARTITION BY code ORDER BY year DESC) rn FROM regions)
                WHERE rn = 1""").set_index("code")
        return self.cached("region_names", load)

    def groups(self) -> dict:
        return load_groups()

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
            return Unit(id=up, kind=r["level"], name=r["name"] or up, gemeente=gm, gemeente_name=gname,
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
                                       ORDER BY (geo_year = period) DESC, geo_year DESC) = 1
            ORDER BY indicator, period, region_code""", params)
        df["reason"] = df["status"].map(REASONS).fillna("")
        return df[VALUE_COLUMNS]

    def level_values(self, indicator: str, period: int, level: str,
                     gemeente: str | None = None) -> pd.DataFrame:
        """All CBS regions of one level (optionally within one gemeente) for one indicator and
        period, with name; ``value`` NaN unless ``ok``."""
        where = ["v.indicator = ?", "v.period = ?", "r.level = ?"]
        params: list = [indicator, int(period), level]
        if gemeente:
            where.append("r.gemeente_code = ?"); params.append(gemeente)
        df = self.df(f"""
            SELECT v.region_code AS code, r.name, r.gemeente_code AS gemeente, v.geo_year,
                   v.period, CASE WHEN v.status = 'ok' THEN v.value END AS value, v.status,
                   v.estimate, v.source_id AS source
            FROM indicator_values v JOIN regions r ON r.code = v.region_code AND r.year = v.geo_year
            WHERE {' AND '.join(where)}
            QUALIFY row_number() OVER (PARTITION BY v.region_code
                                       ORDER BY (v.geo_year = v.period) DESC, v.geo_year DESC) = 1
            ORDER BY v.region_code""", params)
        df["reason"] = df["status"].map(REASONS).fillna("")
        return df

    def indicator_periods(self, indicator: str) -> dict[str, list[int]]:
        """Periods with at least one shown value, per level (and ``gebied`` for areas)."""
        def load():
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
        shown (``min_values=100`` finds the years most areas have figures for)."""
        av = self.area_values()
        a = av[(av["unit_kind"] == "area") & (av["status"] == "ok")]
        counts = a.groupby("period").size()
        return sorted(int(p) for p in counts[counts >= min_values].index)

    # -- analysis (read from the analysis module, never re-derived) ---------------------------
    def gaps(self, areas, baseline: int, latest: int, reference: str = "gemeente") -> pd.DataFrame:
        key = ("gaps", tuple(areas) if isinstance(areas, list) else areas, baseline, latest, reference)
        return self.cached(key, lambda: analysis.gaps(
            areas=areas, baseline=baseline, latest=latest, reference=reference,
            values=self.area_values(), index=self.area_index(), catalogue=self.catalogue))

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
        def ok_map(df):
            out: dict = {}
            for r in df[df["status"] == "ok"][["indicator", "period", "value"]].itertuples(index=False):
                out.setdefault(r.indicator, {})[int(r.period)] = float(r.value)
            return out

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
            cls = analysis.classify([vb], [vl], [rb], [rl], higher_is_better=ind.higher_is_better,
                                    tolerance=[tol], same_year=[by is None or by == ly])[0]
            rows.append(dict(indicator=ind_id, baseline_year=by, latest_year=ly, value_baseline=vb,
                             value_latest=vl, reference_baseline=rb, reference_latest=rl,
                             gap_baseline=vb - rb, gap_latest=vl - rl, tolerance=tol,
                             rule=analysis.rule_text(ind, tol, by, ly, reference), **{"class": cls}))
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


def _is_cbs_code(uid: str) -> bool:
    u = uid.upper()
    return u[:2] in ("GM", "WK", "BU", "NL") and any(ch.isdigit() for ch in u)


@functools.lru_cache(maxsize=8)
def get_store(path: str | None = None) -> WebStore:
    """One :class:`WebStore` per store path (per process)."""
    return WebStore(path)
