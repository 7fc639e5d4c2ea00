"""``wijkmonitor fetch --all``: fetch every table of the source registry into the fetched folder.

Layout under ``<out_dir>/registry/`` (``out_dir`` is :func:`config.fetched_dir` by default)::

    <table id>/manifest.json        what was fetched: Modified, retrieval date, URL, rows,
                                    the key found per canonical variable, unit factors, warnings
    <table id>/data.parquet         OData: the selected UntypedDataSet columns, text as served
    <table id>/DataProperties.json, TableInfos.json, names.json (region titles, if declared)
    <table id>/<level>.parquet      WFS: simplified GeoParquet per level (EPSG:4326)

Every table is written into ``.tmp-<table id>`` and moved into place only when complete
(the old folder is first renamed ``.old-<table id>`` and removed afterwards; a run that finds a
``.old-`` folder without its table puts it back). A killed fetch therefore leaves every finished
table usable and no half-written table, and nothing already fetched is lost.

A table is fetched when it is not there yet, when its CBS ``Modified`` (TableInfos) differs from
the manifest's, or when the registry now declares it differently (columns, keys, filter, layers;
:func:`declaration`); WFS layers have no ``Modified`` and are otherwise fetched once. Requests are retried with
exponential backoff (bounded); a table that stays unreachable is named in the report and the
command exits non-zero, keeping what is there. Columns are resolved against the live
DataProperties (exact key, its aliases, else ``<stem>_<n>``). A declared column that the live
table does not have (CBS revised the table, or an unverified stem is not there) does not sink
the table: every column that resolves is fetched, and each missing one is named (table,
variable, declared key and stem) in :attr:`FetchReport.missing`, in the manifest (``missing``,
also as a warning, which ``ingest`` repeats) and by the command, which still exits 0 because
the table itself was reached; the build then has no value for that variable in that table's
year (absent, never zero). A table with none of its declared columns, a stem that matches more
than one key, or a column whose unit changed to one that cannot be converted fails its table
clearly.

HTTP goes through :mod:`httpx`; pass ``transport=httpx.MockTransport(...)`` to replay recordings.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import httpx
import pandas as pd

from .registry import Family, Table, code_column, load_registry, names_entity, norm_unit, unit_factor

FOLDER = "registry"
MANIFEST = "manifest.json"
PAGE_SIZE_WFS = 1000
SIMPLIFY_DEGREES = 0.0001  # ~10 m: map quality, keeps buurt topology usable for overlays


class TableError(Exception):
    """A table could not be fetched as declared (Dutch message)."""


class Unreachable(TableError):
    """The service did not answer after the retries."""


@dataclass
class FetchReport:
    fetched: list[str] = field(default_factory=list)
    current: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    unreachable: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    #: table id -> declared columns the live table does not have (see :func:`missing_entry`);
    #: also for a table that is current, from its manifest. Not a failure: ``ok`` ignores it.
    missing: dict[str, list[dict]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.unreachable

    def missing_lines(self) -> list[str]:
        """One Dutch line per missing column, table by table."""
        return [missing_text(tid, m) for tid, entries in self.missing.items() for m in entries]


def registry_dir(out_dir: Path) -> Path:
    return Path(out_dir) / FOLDER


def read_manifest(out_dir: Path, table_id: str) -> dict | None:
    path = registry_dir(out_dir) / table_id / MANIFEST
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def select_tables(only: list[str] | None = None, since: int | None = None) -> list[Table]:
    """The fetchable tables, optionally only those named (table ids or family names) and
    those with a period in or after ``since``."""
    families = load_registry()
    tables = [t for fam in families.values() for t in fam.tables.values() if t.fetchable]
    if only:
        wanted = set(only)
        known = {t.table_id for t in tables} | set(families)
        unknown = sorted(wanted - known)
        if unknown:
            raise ValueError(f"onbekende tabel(len): {', '.join(unknown)}; zie src/wijkmonitor/"
                             "sources/registry/*.yaml (tabel-id of familienaam)")
        tables = [t for t in tables if t.table_id in wanted or t.family in wanted]
    if since is not None:
        tables = [t for t in tables if max(t.periods) >= since]
    return tables


def recover(out_dir: Path) -> list[str]:
    """Undo what a killed run left: restore ``.old-`` folders, drop ``.tmp-`` folders."""
    root = registry_dir(out_dir)
    notes = []
    if not root.is_dir():
        return notes
    for old in root.glob(".old-*"):
        target = root / old.name[len(".old-"):]
        if target.exists():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.rename(target)
            notes.append(f"{target.name}: vorige versie teruggezet (afgebroken vervanging)")
    for tmp in root.glob(".tmp-*"):
        shutil.rmtree(tmp, ignore_errors=True)
        notes.append(f"{tmp.name[len('.tmp-'):]}: half geschreven versie verwijderd")
    return notes


def _put_in_place(tmp: Path, target: Path) -> None:
    old = target.with_name(".old-" + target.name)
    if target.exists():
        if old.exists():
            shutil.rmtree(old)
        target.rename(old)
    tmp.rename(target)
    if old.exists():
        shutil.rmtree(old)


class Http:
    """GET with bounded retries and exponential backoff. A host that could not be connected to
    after all retries is not tried again in the same run (offline: one wait per host, not per
    table)."""

    def __init__(self, client: httpx.Client, *, retries: int = 4, backoff: float = 0.5,
                 sleep: Callable[[float], None] = time.sleep):
        self.client, self.retries, self.backoff, self.sleep = client, retries, backoff, sleep
        self.requests = 0
        self.dead_hosts: dict[str, str] = {}

    def get_json(self, url: str, params: dict | None = None) -> dict:
        host = httpx.URL(url).host
        if host in self.dead_hosts:
            raise Unreachable(f"{url}: {host} niet bereikbaar (eerder in deze run: {self.dead_hosts[host]})")
        last, transport_only = "", True
        for attempt in range(self.retries + 1):
            if attempt:
                self.sleep(min(self.backoff * 2 ** (attempt - 1), 30.0))
            self.requests += 1
            try:
                response = self.client.get(url, params=params)
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}"
                continue
            if response.status_code == 429 or response.status_code >= 500:
                last, transport_only = f"HTTP {response.status_code}", False
                continue
            if response.status_code >= 400:
                raise TableError(f"{url}: HTTP {response.status_code}")
            try:
                return response.json()
            except ValueError:
                raise TableError(f"{url}: antwoord is geen JSON") from None
        if transport_only:
            self.dead_hosts[host] = last
        raise Unreachable(f"{url}: niet bereikbaar na {self.retries + 1} pogingen ({last})")


def declaration(table: Table) -> str:
    """A short hash of what the registry declares for ``table`` (columns, keys, filter, layers):
    a table fetched under another declaration is fetched again."""
    import hashlib

    parts = [table.filter or "", json.dumps(table.layers, sort_keys=True)]
    if table.code_column or table.names:  # only when the table overrides its family's
        parts.append(f"code={table.code_column or ''}|names={table.names or ''}")
    parts += [f"{c.variable}={c.key or ''}|{c.stem}|{'/'.join(c.aliases)}|{c.unit}|{sorted(c.where.items())}"
              for c in table.columns]
    return hashlib.sha1("\n".join(parts).encode("utf-8")).hexdigest()[:12]


def _next_link(page: dict) -> str | None:
    return page.get("odata.nextLink") or page.get("@odata.nextLink")


def missing_entry(table: Table, col, *, suffixed: bool, level: str | None = None) -> dict:
    """What the manifest and the report say about a declared column the live table lacks:
    variable, declared key and stem, whether the key was cited, what was looked for and the
    period(s) that therefore have no value from this table."""
    entry = {"variable": col.variable, "key": col.key, "stem": col.stem,
             "verified": not col.unverified, "periods": list(table.periods),
             "looked_for": ([col.key] if col.key else []) + list(col.aliases)
             + [f"{col.stem}_<n>" if suffixed else col.stem]}
    if level is not None:
        entry["level"] = level
    return entry


def missing_text(table_id: str, entry: dict) -> str:
    """Dutch one-line message for one missing column (manifest warnings, CLI)."""
    what = f"sleutel {entry['key']}, stam {entry['stem']}" if entry.get("key") else f"stam {entry['stem']}"
    if not entry.get("verified", True):
        what += ", niet-geverifieerd"
    level = f" (niveau {entry['level']})" if entry.get("level") else ""
    periods = entry.get("periods") or []
    years = f" in {periods[0]}" if len(periods) == 1 else f" in {periods[0]}-{periods[-1]}" if periods else ""
    return (f"{table_id}: kolom {entry['variable']} ({what}) ontbreekt in de live tabel{level}; "
            f"de rest van de tabel is opgehaald, {entry['variable']} heeft uit deze tabel geen "
            f"waarden{years}")


def _resolve(table: Table, available: dict[str, str | None], *,
             suffixed: bool) -> tuple[dict, list[str], list[dict]]:
    """Resolve the declared columns against the live keys (``{key: unit}``).

    Returns
    -------
    resolved : dict
        ``{variable: {key, factor, unit, verified, where}}`` for every column found.
    warnings : list of str
        Dutch notes (key found by its stem only, unit converted).
    missing : list of dict
        The declared columns the live table does not have (:func:`missing_entry`).

    Raises :class:`TableError` naming every column whose stem is ambiguous or whose unit
    cannot be converted: those are there but cannot be read as declared.
    """
    resolved, warnings, problems, missing = {}, [], [], []
    for col in table.columns:
        found = None
        for key in ([col.key] if col.key else []) + list(col.aliases):
            if key in available:
                found = key
                break
        if found is None:
            pattern = re.compile(rf"{re.escape(col.stem)}_\d+" if suffixed else re.escape(col.stem))
            hits = [k for k in available if pattern.fullmatch(k)]
            if len(hits) == 1:
                found = hits[0]
                if col.key:
                    warnings.append(f"{table.table_id}: {col.variable}: sleutel {col.key} niet gevonden, "
                                    f"wel {found} (zelfde stam; tabel herzien?)")
            elif len(hits) > 1:
                problems.append(f"{col.variable}: stam {col.stem} komt {len(hits)} keer voor ({', '.join(hits)})")
                continue
        if found is None:
            missing.append(missing_entry(table, col, suffixed=suffixed))
            continue
        factor = col.factor
        live_unit = available.get(found)
        unit = col.unit
        if live_unit is not None and norm_unit(live_unit) != norm_unit(col.unit):
            factor = unit_factor(live_unit, col.canonical_unit)
            if factor is None:
                problems.append(f"{col.variable}: eenheid van {found} is {live_unit!r}, verwacht {col.unit!r} "
                                f"(niet om te rekenen naar {col.canonical_unit!r})")
                continue
            warnings.append(f"{table.table_id}: {col.variable}: eenheid {live_unit!r} in plaats van "
                            f"{col.unit!r}, omgerekend met factor {factor:g}")
            unit = live_unit
        resolved[col.variable] = {"key": found, "factor": factor, "unit": unit,
                                  "verified": not col.unverified, "where": col.where}
    if problems:
        raise TableError(f"{table.table_id}: kolommen niet zoals gedeclareerd: " + "; ".join(problems))
    if not resolved and missing:
        raise TableError(f"{table.table_id}: geen van de gedeclareerde kolommen gevonden ("
                         + ", ".join(f"{m['variable']}: {m['key'] or m['stem']}" for m in missing) + ")")
    return resolved, warnings, missing


class Fetcher:
    """Fetches registry tables into ``out_dir`` (see the module docstring)."""

    def __init__(self, out_dir: Path, client: httpx.Client, *, progress=None, retries: int = 4,
                 backoff: float = 0.5, sleep: Callable[[float], None] = time.sleep,
                 today: dt.date | None = None):
        self.out_dir = Path(out_dir)
        self.http = Http(client, retries=retries, backoff=backoff, sleep=sleep)
        self.progress = progress
        self._labels: dict = {}
        self.retrieved = (today or dt.date.today()).isoformat()

    # -- the run ---------------------------------------------------------------------
    def run(self, tables: list[Table]) -> FetchReport:
        report = FetchReport()
        root = registry_dir(self.out_dir)
        root.mkdir(parents=True, exist_ok=True)
        report.warnings.extend(recover(self.out_dir))
        families = load_registry()
        for table in tables:
            fam = families[table.family]
            task = self._task(table)
            try:
                status, warnings, missing = (self._odata(fam, table, task) if table.access == "odata"
                                             else self._wfs(fam, table, task))
            except Unreachable as exc:
                report.unreachable[table.table_id] = str(exc)
                self._done(task, "niet bereikbaar")
                continue
            except TableError as exc:
                report.failed[table.table_id] = str(exc)
                self._done(task, "mislukt")
                continue
            finally:
                shutil.rmtree(root / f".tmp-{table.table_id}", ignore_errors=True)
            report.warnings.extend(warnings)
            if missing:
                report.missing[table.table_id] = missing
                status += f", {len(missing)} kolom(men) ontbreken"
            (report.current if status.startswith("actueel") else report.fetched).append(table.table_id)
            self._done(task, status)
        return report

    def _task(self, table: Table):
        if self.progress is None:
            return None
        label = f"{table.table_id} ({table.family})"
        task = self.progress.add_task(label, total=None)
        self._labels[task] = label
        return task

    def _advance(self, task, n=1):
        """One page received (the total is unknown until the last page)."""
        if self.progress is not None and task is not None:
            self.progress.advance(task, n)

    def _done(self, task, status):
        if self.progress is not None and task is not None:
            self.progress.update(task, total=1, completed=1,
                                 description=f"{self._labels.get(task, '')}: {status}")

    def _tmp(self, table_id: str) -> Path:
        tmp = registry_dir(self.out_dir) / f".tmp-{table_id}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        return tmp

    def _finish(self, tmp: Path, table: Table, manifest: dict) -> None:
        manifest = {"format": 1, "table_id": table.table_id, "family": table.family,
                    "title": table.title, "retrieved": self.retrieved,
                    "declaration": declaration(table), **manifest}
        (tmp / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        _put_in_place(tmp, registry_dir(self.out_dir) / table.table_id)

    def _paged(self, url: str, params: dict | None, task) -> list[dict]:
        rows, pages = [], 0
        while url:
            page = self.http.get_json(url, params)
            rows.extend(page.get("value", []))
            pages += 1
            self._advance(task)
            url, params = _next_link(page), None
        return rows

    # -- OData -----------------------------------------------------------------------
    def _odata(self, fam: Family, table: Table, task) -> tuple[str, list[str], list[dict]]:
        base = f"{fam.service.rstrip('/')}/{table.table_id}"
        fmt = {"$format": "json"}
        infos = self.http.get_json(f"{base}/TableInfos", fmt).get("value") or [{}]
        modified = infos[0].get("Modified")
        old = read_manifest(self.out_dir, table.table_id)
        if (old and modified and old.get("modified") == modified
                and old.get("declaration") == declaration(table)):
            return "actueel", [], list(old.get("missing") or [])
        props = self._paged(f"{base}/DataProperties", fmt, task)
        available = {p["Key"]: p.get("Unit") for p in props if p.get("Key")}
        resolved, warnings, missing = _resolve(table, available, suffixed=True)
        dims = sorted({d for spec in resolved.values() for d in spec["where"]})
        period_col = fam.period_column
        select = [code_column(table, fam)] + ([period_col] if period_col else []) + dims
        select += sorted({spec["key"] for spec in resolved.values()})
        params = {**fmt, "$select": ",".join(dict.fromkeys(select))}
        if table.filter:
            params["$filter"] = table.filter
        rows = self._paged(f"{base}/{fam.dataset}", params, task)
        if not rows:
            raise TableError(f"{table.table_id}: de tabel gaf geen rijen")
        frame = pd.DataFrame(rows)
        absent = [c for c in select if c not in frame.columns]
        if absent:
            raise TableError(f"{table.table_id}: kolom {absent[0]} ontbreekt in de rijen")
        frame = frame[list(dict.fromkeys(select))].astype("string")
        for spec in resolved.values():  # every 'where' must select rows
            mask = pd.Series(True, index=frame.index)
            for dim, code in spec["where"].items():
                mask &= frame[dim].str.strip() == code
            if spec["where"] and not mask.any():
                raise TableError(f"{table.table_id}: geen rijen met "
                                 + ", ".join(f"{d} = {c}" for d, c in spec["where"].items()))
        tmp = self._tmp(table.table_id)
        frame.to_parquet(tmp / "data.parquet", index=False)
        (tmp / "DataProperties.json").write_text(json.dumps(props, ensure_ascii=False), encoding="utf-8")
        (tmp / "TableInfos.json").write_text(json.dumps(infos, ensure_ascii=False), encoding="utf-8")
        if names_entity(table, fam):
            names = self._paged(f"{base}/{names_entity(table, fam)}", fmt, task)
            (tmp / "names.json").write_text(json.dumps(
                {str(r["Key"]).strip(): str(r.get("Title") or "").strip() for r in names},
                ensure_ascii=False), encoding="utf-8")
        self._finish(tmp, table, {"access": "odata", "modified": modified, "url": f"{base}/{fam.dataset}",
                                  "filter": table.filter, "rows": len(frame), "columns": resolved,
                                  "missing": missing,
                                  "warnings": warnings + [missing_text(table.table_id, m) for m in missing]})
        return "opgehaald", warnings, missing

    # -- WFS -------------------------------------------------------------------------
    def _wfs(self, fam: Family, table: Table, task) -> tuple[str, list[str], list[dict]]:
        import geopandas as gpd
        from shapely.geometry import shape

        old = read_manifest(self.out_dir, table.table_id)
        if old and old.get("declaration") == declaration(table):
            return "actueel", [], list(old.get("missing") or [])
        url = fam.service.format(year=table.geo_year)
        tmp = None
        resolved_all, warnings, counts, missing_all = {}, [], {}, []
        frames = {}
        for level in table.levels:
            lay = table.layers[level]
            features, matched = [], None
            while True:
                page = self.http.get_json(url, {
                    "service": "WFS", "version": "2.0.0", "request": "GetFeature",
                    "typeNames": lay["layer"], "outputFormat": "application/json",
                    "srsName": "EPSG:4326", "count": PAGE_SIZE_WFS, "startIndex": len(features)})
                if page.get("type") != "FeatureCollection":
                    raise TableError(f"{table.table_id}: {lay['layer']}: antwoord is geen GeoJSON FeatureCollection")
                batch = page.get("features", [])
                features.extend(batch)
                self._advance(task)
                if page.get("numberMatched") not in (None, "unknown"):
                    matched = int(page["numberMatched"])
                returned = int(page.get("numberReturned", len(batch)))
                if returned == 0 or (matched is not None and len(features) >= matched) or returned < PAGE_SIZE_WFS:
                    break
            if not features:
                raise TableError(f"{table.table_id}: laag {lay['layer']} gaf geen features")
            keys = {}
            for f in features[:50]:
                keys.update({k: None for k in (f.get("properties") or {})})
            for needed in (lay["code"], lay["name"]):
                if needed not in keys:
                    raise TableError(f"{table.table_id}: laag {lay['layer']}: eigenschap {needed} ontbreekt")
            resolved, warn, missing = _resolve(table, keys, suffixed=False)
            for m in missing:
                m["level"] = level
            warnings += warn
            missing_all += missing
            resolved_all[level] = resolved
            cols = [lay["code"], lay["name"]] + (["water"] if "water" in keys else [])
            cols += sorted({s["key"] for s in resolved.values()})
            data = pd.DataFrame([{c: (f.get("properties") or {}).get(c) for c in cols} for f in features])
            geoms = [shape(f["geometry"]) if f.get("geometry") else None for f in features]
            gdf = gpd.GeoDataFrame(data, geometry=geoms, crs="EPSG:4326")
            gdf["geometry"] = gdf.geometry.simplify(SIMPLIFY_DEGREES, preserve_topology=True)
            frames[level] = gdf
            counts[level] = len(gdf)
        tmp = self._tmp(table.table_id)
        for level, gdf in frames.items():
            gdf.to_parquet(tmp / f"{level}.parquet", index=False)
        self._finish(tmp, table, {"access": "wfs", "modified": None, "url": url, "rows": counts,
                                  "layers": {lv: table.layers[lv] for lv in frames},
                                  "columns": resolved_all, "simplify_degrees": SIMPLIFY_DEGREES,
                                  "missing": missing_all,
                                  "warnings": warnings + [missing_text(table.table_id, m) for m in missing_all]})
        return "opgehaald", warnings, missing_all


def make_client(transport: httpx.BaseTransport | None = None, timeout: float = 120.0) -> httpx.Client:
    """The HTTP client used by :func:`fetch_all` (tests pass a ``MockTransport``)."""
    return httpx.Client(transport=transport, timeout=timeout, follow_redirects=True,
                        headers={"User-Agent": "wijkmonitor (open source; fetch --all)"})


#: Retry policy of :func:`fetch_all`: attempts after the first, and the first wait in seconds
#: (doubled per attempt, capped at 30 s): at most 0.5 + 1 + 2 + 4 = 7.5 s per request.
RETRIES = 4
BACKOFF = 0.5


def fetch_all(out_dir: Path, *, only: list[str] | None = None, since: int | None = None,
              transport: httpx.BaseTransport | None = None, progress=None,
              retries: int | None = None, backoff: float | None = None,
              sleep: Callable[[float], None] | None = None,
              today: dt.date | None = None) -> FetchReport:
    """Fetch every declared table (or those in ``only`` / from ``since``) into ``out_dir``."""
    tables = select_tables(only, since)
    with make_client(transport) as client:
        fetcher = Fetcher(out_dir, client, progress=progress,
                          retries=RETRIES if retries is None else retries,
                          backoff=BACKOFF if backoff is None else backoff,
                          sleep=sleep or time.sleep, today=today)
        return fetcher.run(tables)


__all__ = ["FetchReport", "Fetcher", "TableError", "Unreachable", "fetch_all", "make_client",
           "missing_text", "read_manifest", "recover", "registry_dir", "select_tables"]
