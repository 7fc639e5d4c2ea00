"""CBS KWB StatLine exports for Amsterdam (``cbs-kwb-steden/amsterdam/``), 2017 and 2019.

Rows: Nederland, gemeente Amsterdam, its wijken and buurten. The files were re-exported from R:
comma-separated, a row-number first column, StatLine labels with every space or punctuation
turned into ``.`` (declared per year in ``mappings/kwb_amsterdam.yaml``). 2017 keeps StatLine's
``.`` (geheim); in 2019 R turned it into ``NA``, so secret and not-published can no longer be
told apart: ``NA`` becomes status ``ontbreekt``. Codes are kept as text (Amsterdam buurt codes may
contain letters). The 2015 income block is not read (names only; see the mapping file).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import _kwb
from .base import SourceError, SourceResult, require_columns

NAME = "kwb_amsterdam"
NOTE = ("City extract of the CBS StatLine KWB table; a national CBS export of the same table, "
        "where present, is authoritative.")


def read_year(data_dir: Path, year: int, spec: dict, meta: dict) -> SourceResult:
    """One declared Amsterdam KWB export."""
    data_dir = Path(data_dir)
    path = data_dir / spec["_file"]
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise SourceError(path, f"kan CSV niet lezen: {exc}", year=year) from exc
    frame = _kwb.strip_text(frame)
    code_col, name_col = meta["_code_column"], meta["_name_column"]
    level_col, change_col = meta["_level_column"], meta["_change_column"]
    columns = dict(spec["columns"])
    require_columns(frame.columns, [code_col, name_col, level_col, change_col] + list(columns),
                    file=path, year=year)
    _kwb.check_level(frame, code_column=code_col, level_column=level_col, file=path, year=year)
    _kwb.check_unique(frame[code_col], file=path, year=year, field=code_col)
    source_id = f"kwb-{year}-statline-amsterdam"
    obs = _kwb.melt(frame, code_column=code_col, columns=columns, geo_year=year, period=year,
                    source_id=source_id, file=path, year=year,
                    na_values=spec.get("_na_values", []))
    regions = _kwb.regions(frame[code_col], frame[name_col], year,
                           change_codes=frame[change_col])
    note = NOTE + (" " + spec["_note"] if spec.get("_note") else "")
    info = _kwb.source_info(meta, spec, source_id=source_id,
                            location=_kwb.relative_location(path, data_dir), adapter=NAME,
                            note=note)
    return SourceResult(info=info, observations=obs, regions=regions)


def read(data_dir: Path) -> list[SourceResult]:
    """Every declared Amsterdam year."""
    return _kwb.read_editions(NAME, read_year, data_dir)
