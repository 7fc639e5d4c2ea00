"""CBS KWB Excel releases (``kwb-YYYY.xlsx`` layout, CBS short names) in the offline mirror.

Currently the gemeente-Utrecht subsets in ``cbs-kwb-steden/utrecht/`` (2023: housing, benefits;
2024: population only). Columns are CBS short names, which are the canonical variable names; the
declared list per year is in ``mappings/kwb_xlsx.yaml``. A literal ``.`` = geheim. Read with
openpyxl in read-only mode.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd

from . import _kwb
from .base import SourceError, SourceResult, mapping, require_columns

NAME = "kwb_xlsx"
NOTE = ("City subset of the CBS KWB Excel release; the national CBS StatLine export of the same "
        "table (kwb_statline_csv), where present, is authoritative.")


def read_sheet(path: Path, sheet: str | None, *, year: int | None = None) -> pd.DataFrame:
    """First row = header; every cell kept as read (text or number)."""
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (OSError, KeyError, ValueError) as exc:
        raise SourceError(path, f"kan Excel-bestand niet lezen: {exc}", year=year) from exc
    try:
        if sheet is not None and sheet not in wb.sheetnames:
            raise SourceError(path, f"werkblad {sheet!r} ontbreekt (wel: {wb.sheetnames})",
                              year=year)
        ws = wb[sheet] if sheet is not None else wb.worksheets[0]
        rows = list(ws.iter_rows(values_only=True))
    finally:
        wb.close()
    if not rows:
        raise SourceError(path, "leeg werkblad", year=year)
    header = [str(h).strip() if h is not None else f"_kolom{i + 1}" for i, h in enumerate(rows[0])]
    body = [r for r in rows[1:] if any(v is not None and str(v).strip() for v in r)]
    return pd.DataFrame(body, columns=header, dtype=object)


def read_year(data_dir: Path, year: int, spec: dict, meta: dict) -> SourceResult:
    """One declared KWB xlsx file."""
    data_dir = Path(data_dir)
    path = data_dir / spec["_file"]
    frame = _kwb.strip_text(read_sheet(path, spec.get("_sheet"), year=year))
    code_col = spec.get("_code_column", meta["_code_column"])
    name_col = spec.get("_name_column", meta["_name_column"])
    level_col = spec.get("_level_column", meta["_level_column"])
    change_col = spec.get("_change_column", meta.get("_change_column"))
    columns = dict(spec["columns"])
    require_columns(frame.columns, [code_col, name_col, level_col] + list(columns),
                    file=path, year=year)
    frame[code_col] = frame[code_col].astype(str).str.strip()
    _kwb.check_level(frame, code_column=code_col, level_column=level_col, file=path, year=year)
    _kwb.check_unique(frame[code_col], file=path, year=year, field=code_col)
    source_id = f"kwb-{year}-xlsx-{_slug(path)}"
    obs = _kwb.melt(frame, code_column=code_col, columns=columns, geo_year=year, period=year,
                    source_id=source_id, file=path, year=year)
    regions = _kwb.regions(frame[code_col], frame[name_col], year,
                           change_codes=frame[change_col] if change_col in frame else None)
    info = _kwb.source_info(meta, spec, source_id=source_id,
                            location=_kwb.relative_location(path, data_dir), adapter=NAME,
                            note=NOTE)
    return SourceResult(info=info, observations=obs, regions=regions)


def _slug(path: Path) -> str:
    return path.parent.name.lower()


def read(data_dir: Path) -> list[SourceResult]:
    """Every declared KWB xlsx file."""
    spec_all = mapping(NAME)
    meta = spec_all.get("_meta", {})
    return [read_year(Path(data_dir), int(y), s, meta) for y, s in spec_all.items()
            if isinstance(y, int)]
