"""CBS KWB for Amsterdam 2020, 2023 and 2024 per buurt (``cbs-kwb-steden/amsterdam-2020-2024-buurt/``).

A research repository re-published the Amsterdam rows of KWB 2020, the income block of KWB 2023
and KWB 2024 with its own English column names (declared, with the evidence for each KWB short
name, in ``mappings/kwb_amsterdam_buurt.yaml``). Layout per file: ``;``-separated, decimal comma in
some columns and decimal point in others (both parse), codes space-padded in the two files with a
BOM, suppressed values an empty field (status ``ontbreekt``: the author had already turned CBS's
``.`` into nothing, so secret and not published cannot be told apart). There is no level column:
the level comes from the code (``GM``/``WK``/``BU``); every code must lie in gemeente Amsterdam.

The income caveat of the folder README is followed: the merged ``_2024.csv`` (buurt income
imputed with the wijk value) is not read, and in 2020 a buurt whose income columns equal its
wijk's (at least ``_min_equal`` of them, while the wijk has other buurten) is taken as imputed:
those columns become ``ontbreekt`` for that buurt (a warning counts them).

:func:`buurt_crosswalk` exposes the Gemeente Amsterdam table of buurt codes 2015 -> 2022
(``buurten.csv``); the areas module follows codes by persistence only, so it is not used by the
build (see the README).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from . import _kwb
from .base import (STATUS_MISSING, SourceError, SourceResult, level_of, mapping,
                   require_columns)

NAME = "kwb_amsterdam_buurt"
NOTE = ("City extract of the CBS KWB re-published by a research repository (columns renamed); a "
        "national CBS export of the same table, where present, is authoritative.")
CROSSWALK_COLUMNS = ["code_2015", "name_2015", "code_2022", "name_2022", "wijk_2022", "stadsdeel"]


def read_csv(path: Path, *, year: int | None = None) -> pd.DataFrame:
    """One ``;``-separated file, every cell as text, BOM and quotes handled."""
    try:
        frame = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise SourceError(path, f"kan CSV niet lezen: {exc}", year=year) from exc
    return _kwb.strip_text(frame)


def _check_codes(frame: pd.DataFrame, code_col: str, gemeente: str, path: Path, year: int) -> None:
    codes = frame[code_col]
    for i, code in enumerate(codes):
        level = level_of(code)
        if level not in ("gemeente", "wijk", "buurt"):
            raise SourceError(path, f"geen CBS-code van gemeente, wijk of buurt: {code!r}",
                              row=i + 2, field=code_col, year=year)
        if "GM" + code[2:6] != gemeente:
            raise SourceError(path, f"code {code!r} ligt niet in {gemeente}", row=i + 2,
                              field=code_col, year=year)
    _kwb.check_unique(codes, file=path, year=year, field=code_col)


def imputed_buurten(frame: pd.DataFrame, code_col: str, columns: list[str],
                    min_equal: int) -> np.ndarray:
    """Boolean mask of buurt rows whose values equal their wijk's in at least ``min_equal`` of
    ``columns`` (non-empty, compared as published text), unless the buurt is the only buurt of
    its wijk (then buurt = wijk is expected)."""
    codes = frame[code_col].astype(str)
    is_buurt = codes.str.startswith("BU").to_numpy()
    wijk_of = ("WK" + codes.str[2:8]).to_numpy()
    wijken = frame[codes.str.startswith("WK").to_numpy()].set_index(code_col)
    n_buurten = pd.Series(wijk_of[is_buurt]).value_counts()
    equal = np.zeros(len(frame), dtype=int)
    has_wijk = np.array([w in wijken.index for w in wijk_of]) & is_buurt
    for col in columns:
        mine = frame[col].astype(str).to_numpy()
        theirs = np.array([wijken.at[w, col] if ok else None for w, ok in zip(wijk_of, has_wijk)],
                          dtype=object)
        equal += (has_wijk & (mine != "") & (mine == theirs)).astype(int)
    alone = np.array([n_buurten.get(w, 0) <= 1 for w in wijk_of])
    return is_buurt & has_wijk & ~alone & (equal >= min_equal)


def read_year(data_dir: Path, year: int, spec: dict, meta: dict) -> SourceResult:
    """One declared file."""
    data_dir = Path(data_dir)
    path = data_dir / spec["_file"]
    frame = read_csv(path, year=year)
    code_col, name_col = meta["_code_column"], meta["_name_column"]
    columns = dict(spec["columns"])
    require_columns(frame.columns, [code_col, name_col] + list(columns), file=path, year=year)
    _check_codes(frame, code_col, meta["_gemeente"], path, year)
    geo_year, period = int(spec.get("_geo_year", year)), int(spec.get("_period", year))
    source_id = f"kwb-{year}-amsterdam-buurt"
    obs = _kwb.melt(frame, code_column=code_col, columns=columns, geo_year=geo_year,
                    period=period, source_id=source_id, file=path, year=year)
    warnings = []
    check = spec.get("_imputed_if_equal_to_wijk")
    if check:
        cols = list(check["_columns"])
        require_columns(frame.columns, cols, file=path, year=year)
        mask = imputed_buurten(frame, code_col, cols, int(check["_min_equal"]))
        if mask.any():
            hit_codes = set(frame.loc[mask, code_col])
            hit_vars = {columns[c] for c in cols if c in columns}
            hit = (obs["region_code"].isin(hit_codes) & obs["variable"].isin(hit_vars)).to_numpy()
            obs.loc[hit, "value"] = np.nan
            obs.loc[hit, "status"] = STATUS_MISSING
            warnings.append(f"{path.name}: inkomen van {int(mask.sum())} buurten gelijk aan dat "
                            "van de wijk (door de herpublicatie ingevuld): niet gelezen")
    regions = _kwb.regions(frame[code_col], frame[name_col], geo_year)
    note = NOTE + (" " + spec["_note"] if spec.get("_note") else "")
    info = _kwb.source_info(meta, spec, source_id=source_id,
                            location=_kwb.relative_location(path, data_dir), adapter=NAME,
                            note=note)
    return SourceResult(info=info, observations=obs, regions=regions, warnings=warnings)


def read(data_dir: Path) -> list[SourceResult]:
    """Every declared Amsterdam file."""
    spec_all = mapping(NAME)
    meta = spec_all["_meta"]
    return [read_year(Path(data_dir), int(y), s, meta) for y, s in spec_all.items()
            if isinstance(y, int)]


def buurt_crosswalk(data_dir: Path) -> pd.DataFrame:
    """Gemeente Amsterdam's table of buurt codes 2015 -> 2022 (``buurten.csv``), one row per buurt.

    Returns a DataFrame with :data:`CROSSWALK_COLUMNS` (CBS codes, e.g. ``BU03630000`` ->
    ``BU0363AE01``; the 2015 codes are those of every division up to 2021). The table is 1:1
    (439 buurten); buurten added after 2015 (about 80 of the 517 of 2024) are not in it.
    """
    meta = mapping(NAME)["_meta"]
    path = Path(data_dir) / meta["_crosswalk_file"]
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise SourceError(path, f"kan CSV niet lezen: {exc}") from exc
    need = ["BUURTCODE_CBS_2015", "BUURTNAAM_2015", "BUURTCODE_CBS_2022", "BUURTNAAM_2022",
            "WIJKCODE_2022", "STADSDEELNAAM"]
    require_columns(raw.columns, need, file=path, year=None)
    out = raw[need].apply(lambda s: s.str.strip())
    out.columns = CROSSWALK_COLUMNS
    out["wijk_2022"] = "WK0363" + out["wijk_2022"]
    for col in ("code_2015", "code_2022"):
        bad = ~out[col].str.match(r"^BU0363[0-9A-Z]{4}$")
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise SourceError(path, f"geen buurtcode van Amsterdam: {out[col].iloc[i]!r}",
                              row=i + 2, field=need[0] if col == "code_2015" else need[2])
    return out
