"""Shared helpers of the KWB (Kerncijfers wijken en buurten) offline-mirror adapters.

Not an adapter itself (not listed in ``ADAPTER_MODULES``). Keeps the per-adapter modules short:
building :class:`~wijkmonitor.sources.base.SourceInfo` from a mapping section, stripping
space-padded text frames, melting wide frames with code normalisation, and the status rules
for source-specific missing markers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from .base import (REGION_COLUMNS, STATUS_MISSING, SourceError, SourceInfo, empty_observations,
                   normalise_national, regions_from_codes, wide_to_observations)


def read_editions(name: str, read_year, data_dir: Path) -> list:
    """``read_year(data_dir, year, spec, meta)`` for every year section of mapping ``name``
    (the integer keys; ``_meta`` holds the shared settings)."""
    from .base import mapping

    spec_all = mapping(name)
    meta = spec_all["_meta"]
    return [read_year(Path(data_dir), int(y), s, meta) for y, s in spec_all.items()
            if isinstance(y, int)]


def relative_location(path: Path, data_dir: Path) -> str:
    """Path of a mirrored file relative to the data dir (posix), as stored in provenance."""
    try:
        return Path(path).resolve().relative_to(Path(data_dir).resolve()).as_posix()
    except ValueError:
        return Path(path).as_posix()


def source_info(meta: dict, spec: dict, *, source_id: str, location: str, adapter: str,
                retrieved: str | None = None, note: str | None = None,
                title: str | None = None, table_id: str | None = None) -> SourceInfo:
    """Provenance from the mapping's ``_meta`` section and one year/file section.

    Settings in mappings start with ``_`` (``_table_id``, ``_title``, ``_retrieved`` ...) so that
    :func:`~wijkmonitor.sources.base.mapping` only validates variable names.
    """
    return SourceInfo(
        source_id=source_id,
        table_id=str(table_id or spec["_table_id"]),
        title=title or spec.get("_title", ""),
        publisher=spec.get("_publisher", meta.get("_publisher", "CBS")),
        licence=spec.get("_licence", meta.get("_licence", "CC BY 4.0 (Bron: CBS)")),
        location=location,
        retrieved=str(retrieved or spec.get("_retrieved") or meta["_retrieved"]),
        adapter=adapter,
        note=note if note is not None else spec.get("_note", meta.get("_note", "")),
    )


def strip_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Strip the space padding of every text cell (StatLine pads to fixed widths)."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col].dtype):
            out[col] = out[col].map(lambda v: v.strip() if isinstance(v, str) else v)
    return out


def melt(frame: pd.DataFrame, *, code_column: str, columns: dict[str, str], geo_year: int,
         period: int | str, source_id: str, file: str | Path, first_row: int = 2,
         year: int | None = None, na_values: Iterable[str] = (),
         zero_is_missing: Iterable[str] = ()) -> pd.DataFrame:
    """Wide frame -> observations (country code normalised to ``NL00``).

    ``na_values`` are extra source markers meaning "not available" (e.g. R's ``NA``): they become
    NaN with status ``ontbreekt``. Variables in ``zero_is_missing`` treat a value of exactly 0 as
    unknown (status ``ontbreekt``), for re-publications that turned secret values into 0.
    """
    if not columns:
        return empty_observations()
    work = frame
    na_values = [str(v) for v in na_values]
    if na_values:
        work = frame.copy()
        for col in columns:
            work[col] = work[col].map(lambda v: "" if isinstance(v, str) and v.strip() in na_values
                                      else v)
    try:
        obs = wide_to_observations(work, code_column=code_column, columns=columns,
                                   geo_year=geo_year, period=period, source_id=source_id,
                                   file=file, first_row=first_row)
    except SourceError as exc:
        if year is not None and exc.year is None:
            raise SourceError(exc.file, str(exc).split(": ", 1)[-1], row=exc.row,
                              field=exc.field, year=year) from exc
        raise
    obs["region_code"] = normalise_national(obs["region_code"].astype(str))
    zero = list(zero_is_missing)
    if zero:
        hit = obs["variable"].isin(zero).to_numpy() & (obs["value"].to_numpy() == 0)
        obs.loc[hit, "value"] = np.nan
        obs.loc[hit, "status"] = STATUS_MISSING
    return obs


def regions(codes: Iterable[str], names: Iterable[str] | None, year: int,
            change_codes: Iterable | None = None) -> pd.DataFrame:
    """Regions frame (``REGION_COLUMNS``, plus ``change_code`` when given: CBS ``ind_wbi``)."""
    frame = regions_from_codes(list(codes), list(names) if names is not None else None, year)
    if change_codes is not None:
        frame["change_code"] = [None if c is None or (isinstance(c, float) and np.isnan(c))
                                or str(c).strip() in ("", ".") else str(c).strip()
                                for c in change_codes]
    return frame[REGION_COLUMNS + (["change_code"] if change_codes is not None else [])]


def check_level(frame: pd.DataFrame, *, code_column: str, level_column: str, file: str | Path,
                year: int, first_row: int = 2) -> None:
    """Fail when a row's level label (Land/Gemeente/Wijk/Buurt) disagrees with its code."""
    prefix = {"land": "NL", "gemeente": "GM", "wijk": "WK", "buurt": "BU"}
    labels = frame[level_column].astype(str).str.strip().str.lower()
    codes = frame[code_column].astype(str).str.strip().str.upper()
    expected = labels.map(prefix)
    bad = expected.isna() | (codes.str[:2] != expected)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise SourceError(file, f"soort regio {frame[level_column].iloc[i]!r} past niet bij code "
                          f"{frame[code_column].iloc[i]!r}", row=first_row + i, field=level_column,
                          year=year)


def check_unique(codes: pd.Series, *, file: str | Path, year: int, field: str,
                 first_row: int = 2) -> None:
    """Fail on a duplicated region code."""
    dup = codes.duplicated(keep="first")
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise SourceError(file, f"regiocode {codes.iloc[i]!r} komt dubbel voor",
                          row=first_row + i, field=field, year=year)
