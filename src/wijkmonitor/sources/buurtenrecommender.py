"""Processed buurt table of provincie Utrecht.

File: ``cbs-kwb-steden/provincie-utrecht-buurtenrecommender/buurten.csv``.

969 buurten (KWB 2022 codes) of 26 gemeenten with renamed CBS KWB 2022 columns and Leefbaarometer
3.0 (meting 2020) scores. Two sources with their own ``source_id``:
``buurtenrecommender-kwb-2022`` and ``buurtenrecommender-lbm3-2020``. The author turned CBS
secret values into 0; for WOZ, % koopwoningen and inwoners a 0 is therefore treated as unknown
(status ``ontbreekt``), as the folder README advises.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import _kwb
from .base import SourceError, SourceResult, mapping, require_columns

NAME = "buurtenrecommender"
NOTE = ("Third-party processed table; CBS's own KWB 2022 file and the Leefbaarometer files are "
        "authoritative for the same buurt, year and variable.")


def read(data_dir: Path) -> list[SourceResult]:
    """The KWB 2022 and Leefbaarometer 3.0 sources of ``buurten.csv``."""
    data_dir = Path(data_dir)
    spec = mapping(NAME)
    meta = spec["_meta"]
    path = data_dir / meta["_file"]
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise SourceError(path, f"kan CSV niet lezen: {exc}") from exc
    frame = _kwb.strip_text(frame)
    code_col, name_col = meta["_code_column"], meta["_name_column"]
    if len(frame) != int(meta["_expected_rows"]):
        raise SourceError(path, f"{len(frame)} rijen, verwacht {meta['_expected_rows']}")
    bad = ~frame[code_col].str.match(r"^BU[0-9]{4}[0-9A-Z]{4}$")
    if bad.any():
        i = int(bad.to_numpy().nonzero()[0][0])
        raise SourceError(path, f"geen buurtcode: {frame[code_col].iloc[i]!r}", row=2 + i,
                          field=code_col)
    results = []
    regions = None
    for section, slug in (("kwb", "kwb-2022"), ("lbm3", "lbm3-2020")):
        sec = spec[section]
        geo_year, period = int(sec["_geo_year"]), int(sec["_period"])
        columns = dict(sec["columns"])
        require_columns(frame.columns, [code_col, name_col] + list(columns), file=path,
                        year=period)
        _kwb.check_unique(frame[code_col], file=path, year=geo_year, field=code_col)
        source_id = f"buurtenrecommender-{slug}"
        obs = _kwb.melt(frame, code_column=code_col, columns=columns, geo_year=geo_year,
                        period=period, source_id=source_id, file=path, year=period,
                        zero_is_missing=sec.get("_zero_is_missing", []))
        if regions is None:
            regions = _kwb.regions(frame[code_col], frame[name_col], geo_year)
        info = _kwb.source_info(meta, sec, source_id=source_id,
                                location=_kwb.relative_location(path, data_dir), adapter=NAME,
                                note=NOTE)
        results.append(SourceResult(info=info, observations=obs,
                                    regions=regions if section == "kwb" else None))
    return results
