""""Woon ik veilig?" per-gemeente JSON (``cbs-kwb-steden/woonikveilig-kwb2024-misdrijven/``).

One JSON per gemeente with its wijken and buurten, built by a third-party site from CBS OData.
Three separate sources come out of it, each with its own ``source_id`` because they duplicate
figures other adapters read from the publishers' own files:

* ``woonikveilig-kwb-2024``: KWB 2024 ``demografie`` (gemeente, wijk, buurt);
* ``woonikveilig-misdrijven``: registered crime, all offence types, per calendar year 2021-2025
  (Politie via CBS 47022NED), as ``misdrijven_totaal`` (gemeente, buurt);
* ``woonikveilig-gezondheid``: % ervaren gezondheid goed (18+), Gezondheidsmonitor years, as
  ``gez_ervaren_goed_18plus`` (gemeente, buurt).

JSON ``null`` or an absent key becomes NaN with status ``ontbreekt``. The ``wijkCode`` on buurt
records is wrong in these files; the wijk is derived from the buurt code instead.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from . import _kwb
from .base import (OBS_COLUMNS, STATUS_MISSING, STATUS_OK, SourceError, SourceResult,
                   empty_observations, mapping, require_columns)

NAME = "woonikveilig"
NOTE = ("Re-publication by a third-party site (loukanton/woonikveilig); the publishers' own files "
        "(CBS StatLine KWB 2024, Politie/CBS crime tables, RIVM 50090NED) are authoritative for "
        "the same region, period and variable.")
_LEVEL_PREFIX = {"gemeente": "GM", "wijk": "WK", "buurt": "BU"}


def _records(path: Path) -> list[dict]:
    """Gemeente, wijk and buurt records of one file, each with its level checked."""
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except (OSError, json.JSONDecodeError) as exc:
        raise SourceError(path, f"kan JSON niet lezen: {exc}") from exc
    top = {k: v for k, v in doc.items() if k not in ("wijken", "buurten")}
    out = [("gemeente", 0, top)]
    out += [("wijk", i + 1, w) for i, w in enumerate(doc.get("wijken") or [])]
    out += [("buurt", i + 1, b) for i, b in enumerate(doc.get("buurten") or [])]
    records = []
    for level, idx, rec in out:
        code = str(rec.get("code") or "").strip()
        if not code.upper().startswith(_LEVEL_PREFIX[level]):
            where = level if level == "gemeente" else f"{level}en[{idx - 1}]"
            raise SourceError(path, f"{where}: code {code!r} hoort niet bij niveau {level}",
                              field="code")
        records.append({"level": level, "code": code, "name": str(rec.get("name") or "").strip(),
                        "rec": rec})
    return records


def _long(rows: list[tuple[str, int, str, float | None]], source_id: str,
          geo_year: int) -> pd.DataFrame:
    if not rows:
        return empty_observations()
    codes, periods, variables, raw = zip(*rows)
    values = np.array([np.nan if v is None else float(v) for v in raw], dtype="float64")
    status = np.where(np.isnan(values), STATUS_MISSING, STATUS_OK).astype(object)
    return pd.DataFrame({"region_code": codes, "geo_year": geo_year,
                         "period": np.asarray(periods, dtype="int64"), "variable": variables,
                         "value": values, "status": status, "source_id": source_id})[OBS_COLUMNS]


def _trend_rows(records: list[dict], section: str, key: str, variable: str, path: Path):
    """Long rows of one ``<section>.<key>`` year->value dict; buurten/gemeente without it get
    'ontbreekt' rows for the years the file has."""
    have = [r for r in records if r["level"] in ("gemeente", "buurt")]
    years: set[int] = set()
    for r in have:
        trend = (r["rec"].get(section) or {}).get(key) or {}
        if not isinstance(trend, dict):
            raise SourceError(path, f"{section}.{key} is geen object",
                              field=f"{r['code']}.{section}")
        years.update(int(y) for y in trend)
    rows = []
    for r in have:
        trend = (r["rec"].get(section) or {}).get(key) or {}
        for y in sorted(years):
            v = trend.get(str(y))
            if v is not None and not isinstance(v, (int, float)):
                raise SourceError(path, f"geen getal: {v!r}",
                                  field=f"{r['code']}.{section}.{key}.{y}")
            rows.append((r["code"], y, variable, v))
    return rows


def read(data_dir: Path) -> list[SourceResult]:
    """The three sources over every gemeente file in the folder."""
    data_dir = Path(data_dir)
    spec = mapping(NAME)
    meta = spec["_meta"]
    geo_year = int(meta["_geo_year"])
    folder = data_dir / meta["_folder"]
    files = sorted(folder.glob("GM*.json"))
    if not files:
        raise SourceError(folder, "geen GMxxxx.json-bestanden gevonden")
    demo = spec["demografie"]
    columns = dict(demo["columns"])
    known = set(columns) | set(demo.get("_ignored", []))
    frames, region_frames, crime, health, warnings = [], [], [], [], []
    for path in files:
        records = _records(path)
        demo_recs = [{"code": r["code"], **(r["rec"].get("demografie") or {})} for r in records]
        keys = {k for d in demo_recs for k in d} - {"code"}
        require_columns(keys, columns, file=path, year=int(demo["_period"]))
        warnings += [f"{path.name}: demografie-sleutel {k!r} niet in mappings/woonikveilig.yaml; "
                     "genegeerd" for k in sorted(keys - known)]
        table = pd.DataFrame.from_records(demo_recs, columns=["code"] + list(columns))
        for col in columns:  # JSON null / absent -> NaN; keep numbers numeric
            table[col] = pd.to_numeric(table[col], errors="raise")
        frames.append(_kwb.melt(table, code_column="code", columns=columns, geo_year=geo_year,
                                period=int(demo["_period"]), source_id="woonikveilig-kwb-2024",
                                file=path, first_row=1, year=int(demo["_period"])))
        regions = _kwb.regions([r["code"] for r in records], [r["name"] for r in records],
                               geo_year)
        wijken = set(regions.loc[regions.level == "wijk", "code"])
        orphans = regions.loc[(regions.level == "buurt") & ~regions.wijk_code.isin(wijken), "code"]
        warnings += [f"{path.name}: buurt {c} ligt in wijk {c.replace('BU', 'WK')[:8]}, die niet "
                     "in het bestand staat" for c in orphans]
        region_frames.append(regions)
        crime += _trend_rows(records, "veiligheid", spec["veiligheid"]["_trend_key"],
                             spec["veiligheid"]["variable"], path)
        health += _trend_rows(records, "gezondheid", spec["gezondheid"]["_trend_key"],
                              spec["gezondheid"]["variable"], path)
    all_regions = pd.concat(region_frames, ignore_index=True)
    _kwb.check_unique(all_regions["code"], file=folder, year=geo_year, field="code", first_row=1)
    location = _kwb.relative_location(folder, data_dir)

    def info(section: str, source_id: str) -> object:
        return _kwb.source_info(meta, {**meta, **spec[section]}, source_id=source_id,
                                location=location, adapter=NAME, note=NOTE)

    return [
        SourceResult(info=info("demografie", "woonikveilig-kwb-2024"),
                     observations=pd.concat(frames, ignore_index=True), regions=all_regions,
                     warnings=warnings),
        SourceResult(info=info("veiligheid", "woonikveilig-misdrijven"),
                     observations=_long(crime, "woonikveilig-misdrijven", geo_year)),
        SourceResult(info=info("gezondheid", "woonikveilig-gezondheid"),
                     observations=_long(health, "woonikveilig-gezondheid", geo_year)),
    ]
