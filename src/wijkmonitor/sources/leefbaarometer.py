"""Leefbaarometer 2.0 (meting 2016): classes 2002-2016 and dimension scores 2012/2014/2016.

Mirror: ``leefbaarometer/`` (BZK Excel files, gemeente and wijk on the **2016 indeling**:
every year is recomputed on it, so ``geo_year`` is 2016 for all periods).

* ``lbm_klasse``: class 1 (zeer onvoldoende) .. 9 (uitstekend) of the total score.
* ``lbm_score`` and the dimensions ``lbm_won``, ``lbm_bev``, ``lbm_vrz``, ``lbm_vei``,
  ``lbm_fys``: deviations from the national mean on the model's scale (0 = NL, > 0 better).

Empty cells mean "too few addresses for a score": status ``ontbreekt``, never 0. This is
Leefbaarometer **2.0**; the 3.0 series (``lbm3_*``) uses another model and scale.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from . import base
from .base import SourceError, SourceInfo, SourceResult

NAME = "leefbaarometer"
MAPPING = "leefbaarometer"


def _read_sheet(path: Path, sheet: str, rel: str) -> pd.DataFrame:
    if not path.exists():
        raise SourceError(rel, "bestand ontbreekt")
    try:
        return pd.read_excel(path, sheet_name=sheet, engine="calamine")
    except ImportError:
        return pd.read_excel(path, sheet_name=sheet, engine="openpyxl")
    except ValueError as exc:  # unknown sheet
        raise SourceError(rel, f"werkblad {sheet!r} niet gevonden ({exc})") from exc


def _codes(frame: pd.DataFrame, column: str, level: str, rel: str) -> pd.Series:
    codes = frame[column].astype(str).str.strip()
    prefix = {"gemeente": "GM", "wijk": "WK"}[level]
    bad = ~codes.str.match(rf"^{prefix}[0-9]{{4}}" + ("[0-9A-Z]{2}$" if level == "wijk" else "$"))
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise SourceError(rel, f"geen {level}code: {codes.iloc[pos]!r}", row=pos + 2, field=column)
    return codes


def _info(source_id: str, rel: str, title: str, meta: dict, note: str) -> SourceInfo:
    return SourceInfo(source_id=source_id, table_id=Path(rel).name, title=title,
                      publisher=meta["_publisher"], licence=meta["_licence"], location=rel,
                      retrieved=str(meta["_retrieved"]), adapter=NAME, note=note)


def read_klasse(data_dir: Path, level: str) -> SourceResult:
    """The class 1-9 per year for one level (``gemeente`` or ``wijk``)."""
    m = base.mapping(MAPPING)
    meta, spec = m["_meta"], m["klasse"][level]
    rel = f"{meta['_folder']}/{spec['_file']}"
    frame = _read_sheet(Path(data_dir) / rel, spec["_sheet"], rel)
    base.require_columns(frame.columns, [spec["_code_column"]], file=rel, year=None)
    frame["_code"] = _codes(frame, spec["_code_column"], level, rel)
    source_id = f"lbm2-klasse-{level}"
    parts = []
    for year, columns in spec["columns"].items():
        base.require_columns(frame.columns, columns, file=rel, year=int(year))
        parts.append(base.wide_to_observations(frame, code_column="_code", columns=columns,
                                               geo_year=int(meta["_geo_year"]), period=int(year),
                                               source_id=source_id, file=rel))
    obs = pd.concat(parts, ignore_index=True)
    _check_classes(obs, rel)
    regions = base.regions_from_codes(frame["_code"], None, int(meta["_geo_year"]))
    info = _info(source_id, rel, f"{meta['_title']}: klasse totaalscore per {level}", meta,
                 "Leeg = te weinig adressen voor een score (status ontbreekt).")
    return SourceResult(info=info, observations=obs, regions=regions)


def read_scores(data_dir: Path, level: str) -> SourceResult:
    """Total and dimension scores (stand) 2012/2014/2016 for one level."""
    m = base.mapping(MAPPING)
    meta, spec = m["_meta"], m["scores"][level]
    rel = f"{meta['_folder']}/{spec['_file']}"
    frame = _read_sheet(Path(data_dir) / rel, spec["_sheet"], rel)
    base.require_columns(frame.columns, [spec["_code_column"], spec["_year_column"]],
                         file=rel, year=None)
    frame["_code"] = _codes(frame, spec["_code_column"], level, rel)
    years = pd.to_numeric(frame[spec["_year_column"]], errors="coerce")
    unexpected = ~years.isin(spec["_years"])
    if unexpected.any():
        pos = int(np.flatnonzero(unexpected.to_numpy())[0])
        raise SourceError(rel, f"onverwacht jaar {frame[spec['_year_column']].iloc[pos]!r}",
                          row=pos + 2, field=spec["_year_column"])
    source_id = f"lbm2-dimensies-{level}"
    parts = []
    for year in spec["_years"]:
        sub = frame[years == year].reset_index(drop=True)
        base.require_columns(sub.columns, spec["columns"], file=rel, year=int(year))
        if sub["_code"].duplicated().any():
            raise SourceError(rel, f"code {sub['_code'][sub['_code'].duplicated()].iloc[0]!r} "
                              "dubbel", year=int(year), field=spec["_code_column"])
        parts.append(base.wide_to_observations(sub, code_column="_code", columns=spec["columns"],
                                               geo_year=int(meta["_geo_year"]), period=int(year),
                                               source_id=source_id, file=rel))
    obs = pd.concat(parts, ignore_index=True)
    info = _info(source_id, rel, f"{meta['_title']}: dimensiescores (stand) per {level}", meta,
                 "Afwijking van het Nederlands gemiddelde; leeg = geen score (status ontbreekt).")
    return SourceResult(info=info, observations=obs)


def _check_classes(obs: pd.DataFrame, rel: str) -> None:
    ok = obs["status"] == base.STATUS_OK
    bad = ok & ~obs["value"].isin(range(1, 10))
    if bad.any():
        row = obs[bad].iloc[0]
        raise SourceError(rel, f"klasse buiten 1-9: {row['value']!r} ({row['region_code']})",
                          year=int(row["period"]), field="lbm_klasse")


def read(data_dir: Path) -> list[SourceResult]:
    """Classes and dimension scores, gemeente and wijk."""
    return [read_klasse(data_dir, "gemeente"), read_klasse(data_dir, "wijk"),
            read_scores(data_dir, "gemeente"), read_scores(data_dir, "wijk")]
