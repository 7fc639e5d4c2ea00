"""Registered crime per gemeente (Politie / CBS), mirror folder ``politie-misdrijven/``.

Three tables, declared in ``mappings/politie.yaml``:

* CBS **83648NED** 2010-2020 (``voorspelmodel.csv``): gemeente *names*, each year on its own
  indeling. The export's author replaced missing values by 0, so **every 0 is stored as
  status ``ontbreekt`` with value NaN** (a gemeente that did not exist that year has 0 in every
  measure; small gemeenten have 0 for the suppressed per-1000 rate). Names are matched to codes
  with :mod:`.gemeentenamen` (lists nearest to the year); unmatched names are reported in the
  warnings and not stored.
* CBS **83648NED** 2022 (``dataframe.geojson``): GM codes present, indeling 2022.
* Politie **47013NED** 2022-2024 (StatLine-style CSV, names, **indeling 2025**): stored as
  ``misdrijven_totaal_politie`` (definitions and rounding differ from 83648NED: never splice
  the two without an overlap check). Names are matched to the 2024 gemeente list (the 2025
  indeling has the same 342 gemeenten); a regions frame for 2025 is returned.

``Nederland`` becomes ``NL00``. Regionale eenheden, ``Buitenland`` and "niet in te delen" rows
are not regions of this monitor and are not stored (they are checked: the gemeenten plus
"Gemeenten; niet in te delen" must add up to Nederland for the Politie table).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from . import base, gemeentenamen
from .base import SourceError, SourceInfo, SourceResult

NAME = "politie"
MAPPING = "politie"
NATIONAL_NAME = "Nederland"


def _official_name(name: str) -> str:
    name = name.strip()
    return name[: -len(gemeentenamen.SUFFIX)] if name.endswith(gemeentenamen.SUFFIX) else name


def read_83648ned_2010_2020(data_dir: Path) -> SourceResult:
    m = base.mapping(MAPPING)
    spec = m["cbs_83648ned_2010_2020"]
    rel = f"{m['_meta']['_folder']}/{spec['_file']}"
    path = Path(data_dir) / rel
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    cols = spec["columns"]
    base.require_columns(frame.columns, [spec["_name_column"], spec["_period_column"],
                                         spec["_category_column"], *cols], file=rel, year=None)
    cat = frame[spec["_category_column"]] != spec["_category"]
    if cat.any():
        pos = int(np.flatnonzero(cat.to_numpy())[0])
        raise SourceError(rel, f"onverwachte soort misdrijf {frame[spec['_category_column']].iloc[pos]!r}",
                          row=pos + 2, field=spec["_category_column"])
    periods = pd.to_numeric(frame[spec["_period_column"]], errors="coerce")
    bad = ~periods.isin(spec["_years"])
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise SourceError(rel, f"onverwacht jaar {frame[spec['_period_column']].iloc[pos]!r}",
                          row=pos + 2, field=spec["_period_column"])
    frame["_period"] = periods.astype(int)
    frame["_row"] = np.arange(len(frame)) + 2
    frame["_name"] = frame[spec["_name_column"]].str.strip()

    source_id = "cbs-83648ned-2010-2020"
    warnings: list[str] = []
    parts, region_parts = [], []
    unmatched_years: dict[str, tuple[list[int], list[int]]] = {}
    for year in spec["_years"]:
        sub = frame[frame["_period"] == year].reset_index(drop=True)
        names = [n for n in sub["_name"].unique() if n != NATIONAL_NAME]
        matched, unmatched = gemeentenamen.match_gemeenten(names, year, data_dir)
        codes = sub["_name"].map(matched)
        codes[sub["_name"] == NATIONAL_NAME] = base.NATIONAL_CODE
        for name in unmatched:
            row = sub[sub["_name"] == name].iloc[0]
            has_data = any(_is_nonzero(row[c]) for c in cols)
            unmatched_years.setdefault(name, ([], []))[0 if has_data else 1].append(year)
        sub = sub.assign(_code=codes)[codes.notna()].reset_index(drop=True)
        obs = _observations(sub, cols, year, year, source_id, rel)
        parts.append(obs)
        all_zero = np.logical_and.reduce([~sub[c].map(_is_nonzero) for c in cols])
        present = sub[~all_zero & (sub["_code"] != base.NATIONAL_CODE)]
        region_parts.append(pd.DataFrame({"code": present["_code"], "year": year, "level": "gemeente",
                                          "name": present["_name"].map(_official_name),
                                          "gemeente_code": present["_code"], "wijk_code": None}))
    for name, (with_data, zeros) in unmatched_years.items():
        warnings.append(f"{rel}: gemeentenaam {name!r} niet gevonden in de gemeentelijsten van de "
                        f"mirror, niet opgeslagen; cijfers in {_years_text(with_data)}, "
                        f"alleen nullen in {_years_text(zeros)}")
    obs = pd.concat(parts, ignore_index=True)
    regions = pd.concat(region_parts, ignore_index=True)[base.REGION_COLUMNS]
    info = SourceInfo(source_id=source_id, table_id=spec["_table_id"], title=spec["_title"],
                      publisher=spec["_publisher"], licence=m["_meta"]["_licence"], location=rel,
                      retrieved=spec["_retrieved"], adapter=NAME,
                      note="Namen gekoppeld aan GM-codes via gemeentelijsten; elke 0 in deze export "
                           "is door de auteur ingevuld voor ontbrekend en is opgeslagen als ontbreekt.")
    return SourceResult(info=info, observations=obs, regions=regions, warnings=warnings)


def _years_text(years: list[int]) -> str:
    return ", ".join(map(str, years)) if years else "geen jaar"


def _is_nonzero(text) -> bool:
    try:
        return float(str(text).strip()) != 0.0
    except ValueError:
        return True  # "." or text: not an author's zero


def _observations(sub: pd.DataFrame, cols: dict, geo_year: int, period: int, source_id: str,
                  rel: str) -> pd.DataFrame:
    """Observations where an exact 0 is ``ontbreekt`` (the export filled missing with 0)."""
    obs = base.wide_to_observations(sub, code_column="_code", columns=cols, geo_year=geo_year,
                                    period=period, source_id=source_id, file=rel)
    zero = (obs["value"] == 0) & (obs["status"] == base.STATUS_OK)
    obs.loc[zero, "value"] = np.nan
    obs.loc[zero, "status"] = base.STATUS_MISSING
    return obs


def read_83648ned_2022(data_dir: Path) -> SourceResult:
    m = base.mapping(MAPPING)
    spec = m["cbs_83648ned_2022"]
    rel = f"{m['_meta']['_folder']}/{spec['_file']}"
    with open(Path(data_dir) / rel, encoding="utf-8") as fh:
        data = json.load(fh)
    frame = pd.DataFrame([f["properties"] for f in data["features"]])
    cols = spec["columns"]
    base.require_columns(frame.columns, [spec["_code_property"], *cols], file=rel, year=spec["_period"])
    frame["_code"] = frame[spec["_code_property"]].astype(str).str.strip()
    bad = ~frame["_code"].str.match(r"^GM\d{4}$")
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise SourceError(rel, f"geen gemeentecode: {frame['_code'].iloc[pos]!r}",
                          row=pos + 1, field=spec["_code_property"], year=spec["_period"])
    source_id = "cbs-83648ned-2022"
    obs = base.wide_to_observations(frame, code_column="_code", columns=cols,
                                    geo_year=spec["_geo_year"], period=spec["_period"],
                                    source_id=source_id, file=rel, first_row=1)
    info = SourceInfo(source_id=source_id, table_id=spec["_table_id"], title=spec["_title"],
                      publisher=spec["_publisher"], licence=m["_meta"]["_licence"], location=rel,
                      retrieved=spec["_retrieved"], adapter=NAME,
                      note="GeoJSON met GM-codes (indeling 2022); rij = featurenummer.")
    return SourceResult(info=info, observations=obs)


def read_csv_rows(path: Path) -> pd.DataFrame:
    """All rows of a ``;``-separated, quoted StatLine export as text, padded to equal width
    (title lines have one field, data lines several)."""
    import csv
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = [r for r in csv.reader(fh, delimiter=";")]
    width = max(len(r) for r in rows)
    return pd.DataFrame([r + [""] * (width - len(r)) for r in rows], dtype=object)


def read_statline_names_csv(path: Path, rel: str, *, skiprows: int, periods: list[int],
                            columns: dict[str, str]) -> tuple[pd.DataFrame, dict[int, str]]:
    """Read a StatLine/data.politie.nl CSV export with one value column per period.

    Returns the data rows (first column ``_name``, then one text column per ``(label, period)``
    as ``"<label>|<period>"``) and ``{period: column}`` for each mapped label.
    """
    raw = read_csv_rows(path)
    subjects = raw.iloc[skiprows - 2].tolist()   # "Onderwerp";"Geregistreerde misdrijven";...
    years = raw.iloc[skiprows - 1].tolist()      # "Perioden";"2022";"2023"
    body = raw.iloc[skiprows + 1:].reset_index(drop=True)
    body = body[~body[0].str.startswith("Bron:")].reset_index(drop=True)
    names = [f"{s.strip()}|{y.strip().rstrip('*')}" for s, y in zip(subjects, years)]
    names[0] = "_name"
    body.columns = names
    body["_name"] = body["_name"].str.strip()
    body["_row"] = np.arange(len(body)) + skiprows + 2
    expected = [f"{label}|{p}" for label in columns for p in periods]
    for p in periods:
        base.require_columns(body.columns, [f"{label}|{p}" for label in columns], file=rel, year=p)
    return body, {p: c for p in periods for c in expected if c.endswith(f"|{p}")}


def read_47013ned(data_dir: Path) -> list[SourceResult]:
    m = base.mapping(MAPPING)
    spec = m["politie_47013ned"]
    results = []
    for fspec in spec["_files"]:
        rel = f"{m['_meta']['_folder']}/{fspec['_file']}"
        body, _ = read_statline_names_csv(Path(data_dir) / rel, rel, skiprows=spec["_skiprows"],
                                          periods=fspec["_periods"], columns=spec["columns"])
        results.append(_politie_result(body, rel, fspec, spec, m, data_dir))
    return results


def _politie_result(body: pd.DataFrame, rel: str, fspec: dict, spec: dict, m: dict,
                    data_dir: Path) -> SourceResult:
    is_gemeente = ~(body["_name"].str.endswith("(RE)") | body["_name"].isin(spec["_not_gemeenten"])
                    | (body["_name"] == NATIONAL_NAME))
    gem_names = body.loc[is_gemeente, "_name"].tolist()
    matched, unmatched = gemeentenamen.match_gemeenten(gem_names, spec["_gemeente_list_year"],
                                                       data_dir, exact_year_only=True)
    warnings = [f"{rel}: gemeentenaam {n!r} niet gevonden in de gemeentelijst "
                f"{spec['_gemeente_list_year']}; niet opgeslagen" for n in unmatched]
    dup = pd.Series(list(matched.values())).duplicated()
    if dup.any():
        raise SourceError(rel, f"twee namen met dezelfde code {list(matched.values())[int(np.flatnonzero(dup)[0])]}")
    codes = body["_name"].map(matched)
    codes[body["_name"] == NATIONAL_NAME] = base.NATIONAL_CODE
    keep = body.assign(_code=codes)[codes.notna()].reset_index(drop=True)
    periods = fspec["_periods"]
    source_id = "politie-47013ned-" + "-".join(str(p) for p in periods)
    parts = []
    for p in periods:
        cols = {f"{label}|{p}": var for label, var in spec["columns"].items()}
        parts.append(base.wide_to_observations(keep, code_column="_code", columns=cols,
                                               geo_year=spec["_geo_year"], period=p,
                                               source_id=source_id, file=rel,
                                               first_row=int(keep["_row"].iloc[0])))
    obs = pd.concat(parts, ignore_index=True)
    gm = keep[keep["_code"] != base.NATIONAL_CODE]
    regions = pd.concat([
        pd.DataFrame([(base.NATIONAL_CODE, spec["_geo_year"], "land", "Nederland", None, None)],
                     columns=base.REGION_COLUMNS),
        pd.DataFrame({"code": gm["_code"], "year": spec["_geo_year"], "level": "gemeente",
                      "name": gm["_name"].map(_official_name), "gemeente_code": gm["_code"],
                      "wijk_code": None})], ignore_index=True)
    info = SourceInfo(source_id=source_id, table_id=spec["_table_id"],
                      title=f"{spec['_title']}, {', '.join(map(str, periods))}",
                      publisher=spec["_publisher"], licence=m["_meta"]["_licence"], location=rel,
                      retrieved=fspec["_retrieved"], adapter=NAME,
                      note="Indeling 2025; namen gekoppeld aan GM-codes via gemeenten_2024 "
                           "(zelfde 342 gemeenten). Regionale eenheden en 'niet in te delen' niet opgeslagen.")
    return SourceResult(info=info, observations=obs, regions=regions, warnings=warnings)


def read(data_dir: Path) -> list[SourceResult]:
    """All three crime tables."""
    return [read_83648ned_2010_2020(data_dir), read_83648ned_2022(data_dir),
            *read_47013ned(data_dir)]
