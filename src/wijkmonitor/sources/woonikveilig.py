""""Woon ik veilig?" per-gemeente JSON (``cbs-kwb-steden/woonikveilig-kwb2024-misdrijven/``).

One JSON per gemeente with its wijken and buurten, built by a third-party site from CBS OData.
Three separate sources come out of it, each with its own ``source_id`` because they duplicate
figures other adapters read from the publishers' own files:

* ``woonikveilig-kwb-2024``: KWB 2024 ``demografie`` (gemeente, wijk, buurt);
* ``woonikveilig-misdrijven``: registered crime, all offence types, per calendar year 2021-2025
  (Politie via CBS 47022NED), as ``misdrijven_totaal`` (gemeente, buurt). In the four gemeenten
  whose police buurten do not match the KWB buurten (``_buurt_unusable`` in the mapping) the
  buurt counts are 'ontbreekt';
* ``woonikveilig-misdrijven-wijk``: the same per wijk, as the sum of the wijk's buurten, only
  where every buurt of the wijk has a count that year (else 'ontbreekt');
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
    trends = []
    years: set[str] = set()
    for r in records:
        if r["level"] == "wijk":
            continue
        trend = (r["rec"].get(section) or {}).get(key) or {}
        if not isinstance(trend, dict):
            raise SourceError(path, f"{section}.{key} is geen object",
                              field=f"{r['code']}.{section}")
        years.update(trend)
        trends.append((r["code"], trend))
    try:
        ordered = sorted(years, key=int)
    except ValueError:
        bad = next(y for y in years if not str(y).strip().isdigit())
        raise SourceError(path, f"jaar {bad!r} is geen jaartal", field=f"{section}.{key}") from None
    rows = []
    for code, trend in trends:
        for y in ordered:
            v = trend.get(y)
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
                raise SourceError(path, f"geen getal: {v!r}", field=f"{code}.{section}.{key}.{y}")
            rows.append((code, int(y), variable, v))
    return rows


def _wijk_sums(crime: pd.DataFrame, regions: pd.DataFrame, source_id: str,
               geo_year: int) -> pd.DataFrame:
    """Per wijk and year the sum of its buurten's counts; 'ontbreekt' unless every buurt of
    the wijk (as listed in the files) has a shown count that year."""
    buurten = regions.loc[regions["level"] == "buurt", ["code", "wijk_code"]]
    b = crime[crime["region_code"].str[:2] == "BU"].merge(
        buurten, left_on="region_code", right_on="code", how="right")
    n_buurten = buurten.groupby("wijk_code").size()
    ok = b[b["status"] == STATUS_OK]
    agg = ok.groupby(["wijk_code", "period"]).agg(value=("value", "sum"), n=("value", "size"))
    years = sorted(crime["period"].unique())
    full = pd.MultiIndex.from_product([n_buurten.index, years], names=["wijk_code", "period"])
    agg = agg.reindex(full).reset_index()
    complete = agg["n"].to_numpy() == n_buurten.reindex(agg["wijk_code"]).to_numpy()
    value = np.where(complete, agg["value"].to_numpy(dtype="float64"), np.nan)
    return pd.DataFrame({
        "region_code": agg["wijk_code"].to_numpy(), "geo_year": geo_year,
        "period": agg["period"].to_numpy(dtype="int64"), "variable": crime["variable"].iloc[0],
        "value": value, "status": np.where(complete, STATUS_OK, STATUS_MISSING).astype(object),
        "source_id": source_id})[OBS_COLUMNS]


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
    period = int(demo["_period"])
    # Every file is parsed once; the records of all 342 files are gathered first and turned
    # into frames once (per-file frames cost ~0.2 s each in pandas overhead alone).
    demo_recs: list[dict] = []
    rec_files: list[Path] = []
    codes, names, crime, health, warnings = [], [], [], [], []
    for path in files:
        records = _records(path)
        recs = [{"code": r["code"], **(r["rec"].get("demografie") or {})} for r in records]
        keys = {k for d in recs for k in d} - {"code"}
        require_columns(keys, columns, file=path, year=period)
        warnings += [f"{path.name}: demografie-sleutel {k!r} niet in mappings/woonikveilig.yaml; "
                     "genegeerd" for k in sorted(keys - known)]
        demo_recs += recs
        rec_files += [path] * len(recs)
        file_codes = [r["code"] for r in records]
        wijken = {c for c in file_codes if c.upper().startswith("WK")}
        warnings += [f"{path.name}: buurt {c} ligt in wijk {'WK' + c[2:8]}, die niet in het "
                     "bestand staat" for c in file_codes
                     if c.upper().startswith("BU") and "WK" + c[2:8] not in wijken]
        codes += file_codes
        names += [r["name"] for r in records]
        crime += _trend_rows(records, "veiligheid", spec["veiligheid"]["_trend_key"],
                             spec["veiligheid"]["variable"], path)
        health += _trend_rows(records, "gezondheid", spec["gezondheid"]["_trend_key"],
                              spec["gezondheid"]["variable"], path)
    table = pd.DataFrame.from_records(demo_recs, columns=["code"] + list(columns))
    for col in columns:  # JSON null / absent -> NaN; anything but a number names its file
        try:
            if table[col].map(type).isin([bool, str]).any():
                raise ValueError(col)
            table[col] = pd.to_numeric(table[col], errors="raise").astype("float64")
        except (ValueError, TypeError):
            bad = next(i for i, d in enumerate(demo_recs)
                       if d.get(col) is not None and (isinstance(d[col], bool)
                                                       or not isinstance(d[col], (int, float))))
            raise SourceError(rec_files[bad], f"geen getal: {demo_recs[bad][col]!r}",
                              field=f"{demo_recs[bad]['code']}.demografie.{col}", year=period) from None
    all_regions = _kwb.regions(codes, names, geo_year)
    dup = all_regions["code"].duplicated(keep="first").to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        first = codes.index(codes[i])
        raise SourceError(rec_files[i], f"regiocode {codes[i]!r} staat ook in {rec_files[first].name}",
                          field="code", year=geo_year)
    frames = [_kwb.melt(table, code_column="code", columns=columns, geo_year=geo_year,
                        period=period, source_id="woonikveilig-kwb-2024", file=folder,
                        first_row=1, year=period)]
    location = _kwb.relative_location(folder, data_dir)

    def info(section: str, source_id: str) -> object:
        return _kwb.source_info(meta, {**meta, **spec[section]}, source_id=source_id,
                                location=location, adapter=NAME, note=NOTE)

    crime_obs = _long(crime, "woonikveilig-misdrijven", geo_year)
    unusable = {str(g).upper() for g in spec["veiligheid"].get("_buurt_unusable", [])}
    codes_s = crime_obs["region_code"]
    hide = (codes_s.str[:2] == "BU") & ("GM" + codes_s.str[2:6]).isin(unusable)
    crime_obs.loc[hide, ["value", "status"]] = [np.nan, STATUS_MISSING]
    if unusable:
        warnings.append(f"misdrijven per buurt niet gebruikt in {', '.join(sorted(unusable))}: de "
                        "buurtindeling van de politie wijkt af (alleen gemeentetotalen)")
    wijk_id = spec["veiligheid"]["_wijk_source_id"]
    wijk_obs = _wijk_sums(crime_obs, all_regions, wijk_id, geo_year)
    wijk_info = _kwb.source_info(
        meta, {**meta, **spec["veiligheid"]}, source_id=wijk_id, location=location, adapter=NAME,
        title=spec["veiligheid"]["_title"] + "; per wijk: som van de buurten",
        note=NOTE + " Wijk totals are computed by wijkmonitor as the sum of the wijk's buurten "
        "(only where every buurt has a count).")
    return [
        SourceResult(info=info("demografie", "woonikveilig-kwb-2024"),
                     observations=pd.concat(frames, ignore_index=True), regions=all_regions,
                     warnings=warnings),
        SourceResult(info=info("veiligheid", "woonikveilig-misdrijven"), observations=crime_obs),
        SourceResult(info=wijk_info, observations=wijk_obs),
        SourceResult(info=info("gezondheid", "woonikveilig-gezondheid"),
                     observations=_long(health, "woonikveilig-gezondheid", geo_year)),
    ]
