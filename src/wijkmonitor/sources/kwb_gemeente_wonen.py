"""CBS KWB per gemeente 2020-2025, housing columns (``cbs-kwb-gemeente-wonen-2020-2025/``).

One cleaned CSV per KWB edition (``kwbYYYY_clean.csv``, ``,``-separated, decimal point), one row
per gemeente of that year's indeling, columns the CBS short names (declared in
``mappings/kwb_gemeente_wonen.yaml``). Checks per row: the ``year`` column equals the edition,
``recs`` is ``Gemeente`` and the code a ``GMxxxx`` code, codes unique. ``NA`` = ``ontbreekt``.

Units follow ``variables.yaml``: the re-publisher wrote the average WOZ value in euro, the
canonical ``g_wozbag`` is in 1 000 euro, so the declared ``_scale`` divides it by 1 000 (GM0363
2024: 498000 in the file, 498 in the store, as in every other KWB source).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from . import _kwb
from .base import SourceError, SourceResult, require_columns

NAME = "kwb_gemeente_wonen"
NOTE = ("Gemeente columns of the CBS KWB Excel edition as cleaned by a re-publisher (WOZ turned "
        "into euro, converted back here); a CBS StatLine export of the same table, where present, "
        "is authoritative.")


def read_year(data_dir: Path, year: int, spec: dict, meta: dict) -> SourceResult:
    """One declared ``kwbYYYY_clean.csv``."""
    data_dir = Path(data_dir)
    path = data_dir / spec["_file"]
    code_col, name_col = meta["_code_column"], meta["_name_column"]
    level_col, year_col = meta["_level_column"], meta["_year_column"]
    ids = [year_col, code_col, name_col, level_col]
    try:
        # value columns are parsed by pandas (numbers stay numbers: the fast path of
        # parse_values); a column with text in it stays text and is checked cell by cell
        frame = pd.read_csv(path, dtype={c: str for c in ids}, keep_default_na=False,
                            na_values=list(meta.get("_na_values", [])), encoding="utf-8-sig")
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise SourceError(path, f"kan CSV niet lezen: {exc}", year=year) from exc
    for col in ids:
        if col in frame.columns:
            frame[col] = frame[col].fillna("").str.strip()
    columns = dict(spec["columns"])
    require_columns(frame.columns, [year_col, code_col, name_col, level_col] + list(columns),
                    file=path, year=year)
    if frame.empty:
        raise SourceError(path, "geen rijen", year=year)
    bad_year = frame[year_col] != str(year)
    if bad_year.any():
        i = int(np.flatnonzero(bad_year.to_numpy())[0])
        raise SourceError(path, f"jaar {frame[year_col].iloc[i]!r} hoort niet in het bestand van "
                          f"{year}", row=i + 2, field=year_col, year=year)
    _kwb.check_level(frame, code_column=code_col, level_column=level_col, file=path, year=year)
    bad_code = ~frame[code_col].str.fullmatch(r"GM\d{4}")
    if bad_code.any():
        i = int(np.flatnonzero(bad_code.to_numpy())[0])
        raise SourceError(path, f"geen gemeentecode: {frame[code_col].iloc[i]!r}", row=i + 2,
                          field=code_col, year=year)
    _kwb.check_unique(frame[code_col], file=path, year=year, field=code_col)
    source_id = f"kwb-{year}-gemeente-wonen"
    obs = _kwb.melt(frame, code_column=code_col, columns=columns, geo_year=year, period=year,
                    source_id=source_id, file=path, year=year)
    for column, divisor in (meta.get("_scale") or {}).items():
        if column not in columns:
            continue
        hit = (obs["variable"] == columns[column]).to_numpy()
        obs.loc[hit, "value"] = obs.loc[hit, "value"] / float(divisor)
    regions = _kwb.regions(frame[code_col], frame[name_col], year)
    note = NOTE + (" " + spec["_note"] if spec.get("_note") else "")
    info = _kwb.source_info(meta, spec, source_id=source_id,
                            location=_kwb.relative_location(path, data_dir), adapter=NAME,
                            note=note)
    return SourceResult(info=info, observations=obs, regions=regions)


def read(data_dir: Path) -> list[SourceResult]:
    """Every declared edition."""
    return _kwb.read_editions(NAME, read_year, data_dir)
