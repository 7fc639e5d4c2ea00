"""CBS household wealth per gemeente, 2022-2024 (``cbs-vermogen-huishoudens-gemeente/``).

StatLine CSV exports (``;``, quoted, decimal comma, ``.`` = missing/secret), one period per file,
gemeenten by **name** on the **indeling 2025**; codes come from the 2024 gemeente list (same
342 gemeenten, see :mod:`.gemeentenamen`), unmatched names are reported, never coded.

Variables: ``m_hh_ver`` (median wealth, x 1 000 euro), ``g_hh_ver`` (mean wealth, x 1 000 euro)
and ``hh_particulier``: the export gives private households in **thousands with one decimal**
(``489,8``); it is stored as a count (x 1 000 -> 489 800), so it is rounded to 100 households.
Landsdelen and "niet in te delen" rows are not regions of this monitor and are not stored.
2024 figures are provisional (``2024*``), noted in the provenance.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from . import base, gemeentenamen
from .base import SourceError, SourceInfo, SourceResult
from .politie import _official_name, read_csv_rows

NAME = "vermogen"
MAPPING = "vermogen"
HEADER_ROW = 4  # 0-based: column labels; next row: units; data after that


def read_file(data_dir: Path, period: int) -> SourceResult:
    m = base.mapping(MAPPING)
    meta, fspec = m["_meta"], m["files"][period]
    rel = f"{meta['_folder']}/{fspec['_file']}"
    raw = read_csv_rows(Path(data_dir) / rel)
    title = str(raw.iloc[0, 0]).strip()
    if title != meta["_title"]:
        raise SourceError(rel, f"onverwachte titel {title!r}", row=1, year=period)
    period_line = str(raw.iloc[2, 0]).strip()
    if not period_line.startswith(f"Perioden: {period}"):
        raise SourceError(rel, f"verwacht 'Perioden: {period}', gevonden {period_line!r}", row=3,
                          year=period)
    labels = [str(x).strip() for x in raw.iloc[HEADER_ROW]]
    units = [str(x).strip() for x in raw.iloc[HEADER_ROW + 1]]
    base.require_columns(labels, m["columns"], file=rel, year=period)
    body = raw.iloc[HEADER_ROW + 2:].copy()
    body.columns = ["_name", *labels[1:]]
    body["_row"] = np.arange(len(body)) + HEADER_ROW + 3
    body = body[~body["_name"].str.startswith("Bron:")].reset_index(drop=True)
    body["_name"] = body["_name"].str.strip()
    for label, uspec in m["units"].items():
        unit = units[labels.index(label)]
        if unit != uspec["_unit"]:
            raise SourceError(rel, f"eenheid {unit!r}, verwacht {uspec['_unit']!r}",
                              row=HEADER_ROW + 2, field=label, year=period)

    is_gemeente = ~(body["_name"].str.endswith("(LD)") | body["_name"].isin(meta["_not_gemeenten"]))
    matched, unmatched = gemeentenamen.match_gemeenten(
        body.loc[is_gemeente, "_name"].tolist(), meta["_gemeente_list_year"], data_dir,
        exact_year_only=True)
    warnings = [f"{rel}: gemeentenaam {n!r} niet gevonden in de gemeentelijst "
                f"{meta['_gemeente_list_year']}; niet opgeslagen" for n in unmatched]
    keep = body.assign(_code=body["_name"].map(matched))
    keep = keep[keep["_code"].notna()].reset_index(drop=True)
    if keep["_code"].duplicated().any():
        raise SourceError(rel, f"code {keep['_code'][keep['_code'].duplicated()].iloc[0]} dubbel",
                          year=period)
    source_id = f"cbs-vermogen-{period}"
    obs = base.wide_to_observations(keep, code_column="_code", columns=m["columns"],
                                    geo_year=meta["_geo_year"], period=period,
                                    source_id=source_id, file=rel,
                                    first_row=int(keep["_row"].iloc[0]) if len(keep) else 1)
    for label, uspec in m["units"].items():
        hit = obs["variable"] == m["columns"][label]
        obs.loc[hit, "value"] = (obs.loc[hit, "value"] * uspec["_factor"]).round(6)
    regions = pd.DataFrame({"code": keep["_code"], "year": meta["_geo_year"], "level": "gemeente",
                            "name": keep["_name"].map(_official_name),
                            "gemeente_code": keep["_code"], "wijk_code": None})[base.REGION_COLUMNS]
    note = ("Indeling 2025; namen gekoppeld via gemeenten_2024. hh_particulier = 'x 1 000' x 1000 "
            "(afgerond op 100 huishoudens).")
    if fspec.get("_provisional"):
        note += f" {period}: voorlopige cijfers."
    info = SourceInfo(source_id=source_id, table_id=fspec["_file"],
                      title=f"{meta['_title']}, {period}", publisher=meta["_publisher"],
                      licence=meta["_licence"], location=rel, retrieved=fspec["_retrieved"],
                      adapter=NAME, note=note)
    return SourceResult(info=info, observations=obs, regions=regions, warnings=warnings)


def read(data_dir: Path) -> list[SourceResult]:
    """All periods declared in the mapping."""
    return [read_file(data_dir, int(p)) for p in base.mapping(MAPPING)["files"]]
