"""Tables fetched with ``wijkmonitor fetch --all`` (see :mod:`.fetch_registry`), read back.

For every ``<dir>/registry/<table id>/manifest.json`` whose table is still declared in the
registry, the columns the fetch resolved (manifest ``columns``: canonical variable -> key,
unit factor, dimension codes) become observations; the region names come from the table's
region dimension (``names.json``) or the WFS name property. Special values (``.``, blanks,
``-99997`` ...) become statuses exactly as for the mirror files (:func:`base.parse_values`).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from . import base
from .base import SourceError, SourceInfo, SourceResult
from .fetch_registry import FOLDER, MANIFEST
from .registry import code_column, load_registry

#: Read from the fetched-tables directory too (see pipeline.ingest).
ONLINE = True
NAME = "registry-online"


class _Melt:
    """Collects columns of one table and parses them in one call (one pass of
    :func:`base.parse_values` over all raw cells instead of one per column)."""

    def __init__(self, geo_year: int, source_id: str, file: str):
        self.geo_year, self.source_id, self.file = geo_year, source_id, file
        self.parts: list[tuple] = []

    def add(self, codes, periods, raw: pd.Series, variable: str, factor: float, field: str) -> None:
        self.parts.append((np.asarray(codes), np.asarray(periods), raw.reset_index(drop=True),
                           variable, factor, field))

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return base.empty_observations()
        raw = pd.concat([p[2].astype("object") for p in self.parts], ignore_index=True)
        try:
            values, status = base.parse_values(raw)
        except ValueError:
            for codes, periods, col, variable, factor, field in self.parts:  # name the column
                try:
                    base.parse_values(col.astype("object"))
                except ValueError as exc:
                    raise SourceError(self.file, str(exc), field=field) from exc
            raise
        lengths = [len(p[0]) for p in self.parts]
        return pd.DataFrame({
            "region_code": np.concatenate([p[0] for p in self.parts]),
            "geo_year": np.full(len(raw), self.geo_year),
            "period": np.concatenate([p[1] for p in self.parts]).astype("int64"),
            "variable": np.repeat([p[3] for p in self.parts], lengths),
            "value": values * np.repeat([p[4] for p in self.parts], lengths),
            "status": status, "source_id": self.source_id})


def _read_odata(folder: Path, rel: str, manifest: dict, table, fam) -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = pd.read_parquet(folder / "data.parquet")
    code_col = code_column(table, fam)
    code = base.normalise_national(frame[code_col].fillna("").str.strip())
    if fam.period_column:
        period_raw = frame[fam.period_column].fillna("").str.strip()
        years = period_raw.str.extract(r"^(\d{4})", expand=False)
        if years.isna().any():
            bad = period_raw[years.isna()].iloc[0]
            raise SourceError(f"{rel}/data.parquet", f"onverwachte periode {bad!r}", field=fam.period_column)
        periods = years.astype(int).to_numpy()
    else:
        periods = np.full(len(frame), table.period)
    melt = _Melt(table.geo_year, f"registry-{table.table_id.lower()}", f"{rel}/data.parquet")
    masks: dict[tuple, np.ndarray] = {}
    codes = code.to_numpy()
    for variable, spec in manifest["columns"].items():
        where = tuple(sorted((spec.get("where") or {}).items()))
        if where not in masks:
            mask = np.ones(len(frame), dtype=bool)
            for dim, value in where:
                mask &= (frame[dim].fillna("").str.strip() == value).to_numpy()
            masks[where] = mask
        mask = masks[where]
        if mask.any():
            melt.add(codes[mask], periods[mask], frame[spec["key"]][mask], variable,
                     float(spec.get("factor", 1.0)), spec["key"])
    obs = melt.frame()
    names_path = folder / "names.json"
    names = json.loads(names_path.read_text(encoding="utf-8")) if names_path.exists() else {}
    uniq = pd.unique(code)
    raw_codes = frame[code_col].fillna("").str.strip()
    first_raw = dict(zip(code, raw_codes))
    regions = base.regions_from_codes(uniq, [names.get(first_raw.get(c, c), c) if names else None
                                             for c in uniq], table.geo_year)
    if not names:
        regions["name"] = None
    return obs, regions


def _read_wfs(folder: Path, rel: str, manifest: dict, table) -> tuple[pd.DataFrame, pd.DataFrame]:
    regs = []
    melt = _Melt(table.geo_year, f"registry-{table.table_id.lower()}", f"{rel}/<niveau>.parquet")
    for level, resolved in manifest["columns"].items():
        lay = manifest["layers"][level]
        path = folder / f"{level}.parquet"
        cols = [lay["code"], lay["name"]] + sorted({s["key"] for s in resolved.values()})
        frame = pd.read_parquet(path)
        if "water" in frame.columns:  # older gemeente layers split land and water parts
            frame = frame[frame["water"].astype(str).str.upper() != "JA"]
        frame = frame[cols].reset_index(drop=True)
        code = frame[lay["code"]].astype(str).str.strip()
        if code.duplicated().any():
            raise SourceError(f"{rel}/{level}.parquet", f"code {code[code.duplicated()].iloc[0]!r} dubbel",
                              field=lay["code"])
        periods = np.full(len(frame), table.period)
        for variable, spec in resolved.items():
            raw = pd.to_numeric(frame[spec["key"]], errors="coerce")  # JSON numbers; -99997 etc.
            melt.add(code.to_numpy(), periods, raw.map(lambda v: "" if pd.isna(v) else repr(float(v))),
                     variable, float(spec.get("factor", 1.0)), spec["key"])
        regs.append(base.regions_from_codes(code, frame[lay["name"]].fillna(""), table.geo_year))
    obs = melt.frame()
    regions = pd.concat(regs, ignore_index=True) if regs else None
    return obs, regions


def read(data_dir: Path) -> list[SourceResult]:
    """Every fetched registry table in ``data_dir`` (none in the plain mirror)."""
    root = Path(data_dir) / FOLDER
    if not root.is_dir():
        return []
    families = load_registry()
    tables = {tid: (fam, t) for fam in families.values() for tid, t in fam.tables.items()}
    results = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        path = folder / MANIFEST
        if not path.exists():
            continue
        rel = f"{FOLDER}/{folder.name}"
        if folder.name not in tables:
            continue  # no longer declared: not read (kept on disk)
        fam, table = tables[folder.name]
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
            if manifest.get("access") == "wfs":
                obs, regions = _read_wfs(folder, rel, manifest, table)
            else:
                obs, regions = _read_odata(folder, rel, manifest, table, fam)
        except SourceError:
            raise
        except (OSError, ValueError, KeyError, TypeError) as exc:  # damaged by hand or disk
            raise SourceError(rel, f"opgehaalde tabel is onleesbaar ({type(exc).__name__}: {exc}); "
                              f"haal hem opnieuw op met 'wijkmonitor fetch --all --only {table.table_id}' "
                              "na het verwijderen van deze map") from exc
        note = f"Online opgehaald van {manifest.get('url')}"
        if manifest.get("modified"):
            note += f" (CBS Modified {manifest['modified']})"
        if manifest.get("filter"):
            note += f", filter {manifest['filter']}"
        info = SourceInfo(source_id=f"registry-{table.table_id.lower()}", table_id=table.table_id,
                          title=table.title, publisher=fam.publisher, licence=fam.licence,
                          location=rel, retrieved=manifest["retrieved"], adapter=NAME, note=note)
        results.append(SourceResult(info=info, observations=obs, regions=regions,
                                    warnings=list(manifest.get("warnings") or [])))
    return results


def read_polygons(data_dir: Path, year: int, level: str, *, family: str = "pdok_wijkenbuurten",
                  crs: str = "EPSG:28992"):
    """The fetched polygons of one division year and level, in the columns of
    :data:`wijkmonitor.geometries.GEOMETRY_COLUMNS` (``code, year, level, name, geometry``).

    Reads the GeoParquet written by ``fetch --all`` for the WFS table of ``family`` whose
    ``geo_year`` is ``year``; water parts of older gemeente layers are dropped. Returns ``None``
    when that table or level was not fetched (the caller falls back to the mirror's files).
    """
    import geopandas as gpd

    fam = load_registry()[family]
    tables = [t for t in fam.tables.values() if t.geo_year == year and t.access == "wfs"]
    for table in tables:
        folder = Path(data_dir) / FOLDER / table.table_id
        path = folder / f"{level}.parquet"
        if not path.exists() or not (folder / MANIFEST).exists():
            continue
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        lay = manifest["layers"][level]
        frame = gpd.read_parquet(path)
        if "water" in frame.columns:
            frame = frame[frame["water"].astype(str).str.upper() != "JA"]
        out = gpd.GeoDataFrame({
            "code": frame[lay["code"]].astype(str).str.strip().to_numpy(),
            "year": year, "level": level,
            "name": frame[lay["name"]].fillna("").astype(str).to_numpy()},
            geometry=frame.geometry.to_numpy(), crs=frame.crs)
        return out.to_crs(crs).reset_index(drop=True)
    return None
