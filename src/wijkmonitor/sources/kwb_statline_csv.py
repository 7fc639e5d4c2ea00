"""CBS StatLine CSV exports of "Kerncijfers wijken en buurten" (offline mirror ``cbs-kwb/``).

The 2024 export (table 85984NED) holds every region of the 2024 division (Land 1, Gemeente 342,
Wijk 3,393, Buurt 14,574) and is the **region backbone for 2024**: its regions frame carries
code, year, level, name, parents and the CBS ``ind_wbi`` (indelingswijziging) code as
``change_code``. A companion export of the same table has no code column; it is joined by row
position after checking, row by row, that the region name, the gemeente name and the population
agree (any difference is a :class:`SourceError`).

StatLine CSV layout: UTF-8 with BOM, ``;``-separated, quoted, text space-padded; ``.`` = secret.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from . import _kwb
from .base import SourceError, SourceResult, mapping, require_columns

NAME = "kwb_statline_csv"
NOTE = ("Authoritative CBS national export (StatLine); preferred over city re-publications "
        "(woonikveilig, Utrecht/Amsterdam/Heerlen extracts) for the same region, year and "
        "variable.")


def read_csv(path: Path) -> pd.DataFrame:
    """Read a StatLine CSV export as text, padding stripped."""
    try:
        frame = pd.read_csv(path, sep=";", encoding="utf-8-sig", dtype=str,
                            keep_default_na=False, quotechar='"')
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise SourceError(path, f"kan StatLine-CSV niet lezen: {exc}") from exc
    frame.columns = [c.strip("\ufeff") for c in frame.columns]
    return _kwb.strip_text(frame)


def read_year(data_dir: Path, year: int, spec: dict,
              meta: dict | None = None) -> list[SourceResult]:
    """Read one year's export (and its companion, if declared) as described by ``spec``."""
    data_dir = Path(data_dir)
    meta = meta or {}
    path = data_dir / spec["_file"]
    frame = read_csv(path)
    label_cols = [spec["_name_column"], spec["_code_column"], spec["_level_column"]]
    if spec.get("_change_column"):
        label_cols.append(spec["_change_column"])
    require_columns(frame.columns, label_cols + list(spec["columns"]), file=path, year=year)
    code_col = spec["_code_column"]
    _kwb.check_level(frame, code_column=code_col, level_column=spec["_level_column"], file=path,
                     year=year)
    _kwb.check_unique(frame[code_col], file=path, year=year, field=code_col)

    source_id = f"kwb-{year}-statline-csv"
    obs = _kwb.melt(frame, code_column=code_col, columns=dict(spec["columns"]), geo_year=year,
                    period=year, source_id=source_id, file=path, year=year)
    regions = _kwb.regions(frame[code_col], frame[spec["_name_column"]], year,
                           change_codes=frame[spec["_change_column"]]
                           if spec.get("_change_column") else None)
    location = _kwb.relative_location(path, data_dir)
    results = [SourceResult(
        info=_kwb.source_info(meta, spec, source_id=source_id, location=location, adapter=NAME,
                              note=NOTE),
        observations=obs, regions=regions)]

    companion = spec.get("companion")
    if companion:
        results.append(_read_companion(data_dir, year, spec, companion, frame, meta))
    return results


def _read_companion(data_dir: Path, year: int, spec: dict, comp: dict, main: pd.DataFrame,
                    meta: dict) -> SourceResult:
    path = data_dir / comp["_file"]
    frame = read_csv(path)
    require_columns(frame.columns, [comp["_name_column"], comp["_gemeente_name_column"],
                                    comp["_check_column"]] + list(comp["columns"]),
                    file=path, year=year)
    if len(frame) != len(main):
        raise SourceError(path, f"{len(frame)} rijen, maar het hoofdbestand {spec['_file']} heeft "
                          f"{len(main)} rijen: koppelen op rijpositie is niet mogelijk", year=year)
    checks = [
        (comp["_name_column"], spec["_name_column"], "regionaam"),
        (comp["_gemeente_name_column"], spec["_gemeente_name_column"], "gemeentenaam"),
        (comp["_check_column"], _population_column(spec), "aantal inwoners"),
    ]
    for comp_col, main_col, what in checks:
        left = frame[comp_col].to_numpy()
        right = main[main_col].to_numpy()
        bad = left != right
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise SourceError(path, f"{what} {left[i]!r} wijkt af van {right[i]!r} in "
                              f"{spec['_file']} (regio {main[spec['_code_column']].iloc[i]}); "
                              f"{int(bad.sum())} rijen verschillen, koppelen op rijpositie "
                              "geweigerd", row=2 + i, field=comp_col, year=year)
    frame = frame.copy()
    frame["_code"] = main[spec["_code_column"]].to_numpy()
    source_id = f"kwb-{year}-statline-csv-herkomst"
    obs = _kwb.melt(frame, code_column="_code", columns=dict(comp["columns"]), geo_year=year,
                    period=year, source_id=source_id, file=path, year=year)
    info = _kwb.source_info(
        meta, {**spec, **comp}, source_id=source_id,
        location=_kwb.relative_location(path, data_dir), adapter=NAME,
        title=f"{spec.get('_title', '')} (herkomst)",
        note=NOTE + " Export without codes: codes taken from " + spec["_file"]
        + " by row position after a row-by-row check of name, gemeente and population.")
    return SourceResult(info=info, observations=obs)


def _population_column(spec: dict) -> str:
    for label, var in spec["columns"].items():
        if var == "a_inw":
            return label
    raise SourceError(spec["_file"], "mapping mist de kolom voor a_inw (nodig voor de koppeling)")


def read(data_dir: Path) -> list[SourceResult]:
    """All declared StatLine KWB exports in the mirror."""
    spec_all = mapping(NAME)
    meta = spec_all.get("_meta", {})
    results: list[SourceResult] = []
    for year, spec in spec_all.items():
        if str(year).startswith("_"):
            continue
        results.extend(read_year(Path(data_dir), int(year), spec, meta))
    return results
