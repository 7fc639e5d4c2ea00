"""``cbs-kwb/kwb-2019.csv``: a gemeente-level subset of CBS ``kwb-2019.xls`` (KWB 2019).

Comma-separated, English column names chosen by the uploader; translated to canonical variables
through ``mappings/kwb_csv_2019.yaml``. 355 gemeenten (the 2019 division); the row count is
checked so a truncated copy fails loudly.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import _kwb
from .base import SourceError, SourceResult, mapping, require_columns

NAME = "kwb_csv_2019"
NOTE = ("Course-exercise subset of CBS kwb-2019.xls (gemeenten only). The PDOK 2019 gemeente "
        "attributes (kwb_geojson) cover the same population figures.")


def read_year(data_dir: Path, year: int, spec: dict, meta: dict) -> SourceResult:
    """Read one declared file (``spec``) of this adapter."""
    data_dir = Path(data_dir)
    path = data_dir / spec["_file"]
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise SourceError(path, f"kan CSV niet lezen: {exc}", year=year) from exc
    frame = _kwb.strip_text(frame)
    code_col, name_col = spec["_code_column"], spec["_name_column"]
    columns = dict(spec["columns"])
    require_columns(frame.columns, [code_col, name_col] + list(columns), file=path, year=year)
    expected = spec.get("_expected_rows")
    if expected is not None and len(frame) != int(expected):
        raise SourceError(path, f"{len(frame)} rijen, verwacht {expected}", year=year)
    not_gm = ~frame[code_col].str.match(r"^GM\d{4}$")
    if not_gm.any():
        i = int(not_gm.to_numpy().nonzero()[0][0])
        raise SourceError(path, f"geen gemeentecode: {frame[code_col].iloc[i]!r}", row=2 + i,
                          field=code_col, year=year)
    _kwb.check_unique(frame[code_col], file=path, year=year, field=code_col)
    source_id = f"kwb-{year}-csv-gemeenten"
    obs = _kwb.melt(frame, code_column=code_col, columns=columns, geo_year=year, period=year,
                    source_id=source_id, file=path, year=year)
    regions = _kwb.regions(frame[code_col], frame[name_col], year)
    info = _kwb.source_info(meta, spec, source_id=source_id,
                            location=_kwb.relative_location(path, data_dir), adapter=NAME,
                            note=NOTE)
    return SourceResult(info=info, observations=obs, regions=regions)


def read(data_dir: Path) -> list[SourceResult]:
    """Every declared year of this adapter."""
    spec_all = mapping(NAME)
    meta = spec_all.get("_meta", {})
    return [read_year(Path(data_dir), int(y), s, meta) for y, s in spec_all.items()
            if isinstance(y, int)]
