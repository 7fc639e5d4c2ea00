"""The contract every source adapter fulfils.

An adapter turns one published file (or one online table) into

* an **observations** frame, long format, one row per region x period x variable, with the
  columns in :data:`OBS_COLUMNS`, and
* optionally a **regions** frame (:data:`REGION_COLUMNS`) naming the regions it saw,
* a :class:`SourceInfo` saying where the numbers came from (provenance).

Rules every adapter follows (tests check them on the real mirror):

* Variable names are the canonical names declared in ``variables.yaml``; the translation from
  a source's own column names is a declared table per source and year
  (``mappings/<adapter>.yaml``), never a guess. A missing expected column raises
  :class:`SourceError` naming file, year and column.
* CBS special values (``.``, ``-99997``, ``-99995``, ``-99999999``, absent keys, blanks) become
  rows with ``value`` NaN and a ``status`` saying why, never zeros.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from .. import yamlio

HERE = Path(__file__).resolve().parent

#: Observation status values.
STATUS_OK = "ok"
STATUS_SECRET = "geheim"  # CBS suppressed the value (privacy / reliability)
STATUS_MISSING = "ontbreekt"  # not published, not applicable or not in the file

OBS_COLUMNS = ["region_code", "geo_year", "period", "variable", "value", "status", "source_id"]
"""Columns of an observations frame.

``geo_year`` is the year of the regional division (indeling) the code belongs to; ``period`` is
the year the figure describes. They differ for series republished on a later division (RIVM
50090NED: periods 2012/2016/2020 on the 2020 division; Leefbaarometer 2.0 on 2016).
"""

REGION_COLUMNS = ["code", "year", "level", "name", "gemeente_code", "wijk_code"]
LEVELS = ("land", "gemeente", "wijk", "buurt")

# Special values as they appear in CBS products, and what they mean.
SPECIAL_VALUES: dict[str, str] = {
    ".": STATUS_SECRET,  # StatLine / KWB xls: "gegevens ontbreken of zijn geheim"
    "-99997": STATUS_SECRET,  # PDOK wijk- en buurtkaart: geheim
    "-99997.0": STATUS_SECRET,
    "-99995": STATUS_MISSING,  # PDOK: niet beschikbaar / onvoldoende gegevens
    "-99995.0": STATUS_MISSING,
    "-99999999": STATUS_MISSING,  # older PDOK layers: geen waarde
    "-99999999.0": STATUS_MISSING,
    "": STATUS_MISSING,
    "x": STATUS_SECRET,
    "-": STATUS_MISSING,
    "nan": STATUS_MISSING,
    "none": STATUS_MISSING,
}


class SourceError(ValueError):
    """Bad input in a source file: names the file, row (1-based, as a spreadsheet shows it),
    field and what is wrong."""

    def __init__(self, file: str | Path, message: str, *, row: int | None = None,
                 field: str | None = None, year: int | None = None):
        self.file = str(file)
        self.row = row
        self.field = field
        self.year = year
        parts = [f"{self.file}"]
        if year is not None:
            parts.append(f"jaar {year}")
        if row is not None:
            parts.append(f"rij {row}")
        if field is not None:
            parts.append(f"veld {field!r}")
        super().__init__(": ".join([", ".join(parts), message]))


@dataclass(frozen=True)
class SourceInfo:
    """Provenance of one source table as read: every value traces back to one of these."""

    source_id: str  # unique, stable id, e.g. "kwb-2024-statline-csv"
    table_id: str  # the publisher's table id, e.g. "85984NED" or "kwb-2023.xlsx"
    title: str
    publisher: str
    licence: str
    location: str  # file path (relative to the data dir) or URL
    retrieved: str  # ISO date the file was retrieved / published in the mirror
    adapter: str
    note: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class SourceResult:
    """What an adapter returns for one table."""

    info: SourceInfo
    observations: pd.DataFrame
    regions: pd.DataFrame | None = None
    warnings: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------
# Parsing helpers shared by all adapters
# ---------------------------------------------------------------------------------------

def parse_values(raw: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Parse a column of CBS values into ``(values, statuses)``.

    Accepts numbers, space-padded strings, decimal commas and CBS special values. Special and
    blank values give NaN with the status from :data:`SPECIAL_VALUES`. Anything else that is not
    a number raises ``ValueError`` listing the first offending positions (callers wrap it into a
    :class:`SourceError` with file and field).
    """
    if pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(raw.dtype):
        values = raw.to_numpy(dtype="float64", na_value=np.nan, copy=True)
        status = np.full(len(values), STATUS_OK, dtype=object)
        for code, st in ((-99997, STATUS_SECRET), (-99995, STATUS_MISSING),
                         (-99999999, STATUS_MISSING)):
            hit = values == code
            status[hit] = st
            values[hit] = np.nan
        status[np.isnan(values) & (status == STATUS_OK)] = STATUS_MISSING
        return values, status
    text = raw.astype("string").fillna("").str.strip()
    special = text.str.lower().map(SPECIAL_VALUES)
    is_special = special.notna().to_numpy()
    # decimal comma ("78,4") -> "78.4", but only when there is no dot as well
    comma_only = text.str.contains(",", regex=False) & ~text.str.contains(".", regex=False)
    numeric_text = text.where(~comma_only, text.str.replace(",", ".", regex=False))
    numeric_text = numeric_text.where(~is_special, None)
    values = pd.to_numeric(numeric_text, errors="coerce").to_numpy(dtype="float64", na_value=np.nan,
                                                                   copy=True)
    bad = special.isna().to_numpy() & np.isnan(values)
    if bad.any():
        positions = np.flatnonzero(bad)[:5]
        examples = ", ".join(f"positie {p}: {text.iloc[p]!r}" for p in positions)
        raise ValueError(f"geen getal: {examples}")
    status = special.fillna(STATUS_OK).to_numpy(dtype=object)
    # numeric special codes written as text
    for code, st in ((-99997, STATUS_SECRET), (-99995, STATUS_MISSING), (-99999999, STATUS_MISSING)):
        hit = values == code
        status[hit] = st
        values[hit] = np.nan
    return values, status


def wide_to_observations(frame: pd.DataFrame, *, code_column: str, columns: dict[str, str],
                         geo_year: int, period: int | str, source_id: str,
                         file: str | Path, first_row: int = 2) -> pd.DataFrame:
    """Melt a wide source table into observations.

    Parameters
    ----------
    frame:
        One row per region, already read.
    code_column:
        Column holding CBS region codes (already stripped).
    columns:
        ``{source column: canonical variable}``; every key must be in ``frame``.
    period:
        An int, or the name of a column of ``frame`` holding the period per row.
    first_row:
        The row number (as a spreadsheet shows it) of ``frame``'s first row, for error messages.
    """
    if not columns:
        return empty_observations()
    n = len(frame)
    codes = frame[code_column].astype(str).str.strip().to_numpy(dtype=object)
    periods = (frame[period].astype(int).to_numpy() if isinstance(period, str)
               else np.full(n, int(period)))
    values, statuses = [], []
    for source_col in columns:
        try:
            v, st = parse_values(frame[source_col])
        except ValueError as exc:  # name the row as the user sees it
            bad_pos = _first_bad_position(frame[source_col])
            raise SourceError(file, str(exc), row=first_row + bad_pos, field=source_col) from exc
        values.append(v)
        statuses.append(st)
    k = len(columns)
    # one frame for all columns (column blocks in declared order): building a frame per column
    # and concatenating them cost most of the time of small files
    return pd.DataFrame({
        "region_code": np.tile(codes, k),
        "geo_year": np.full(n * k, int(geo_year), dtype="int64"),
        "period": np.tile(periods.astype("int64"), k),
        "variable": np.repeat(np.array(list(columns.values()), dtype=object), n),
        "value": np.concatenate(values),
        "status": np.concatenate(statuses).astype(object),
        "source_id": np.full(n * k, source_id, dtype=object),
    })


def _first_bad_position(raw: pd.Series) -> int:
    for i, v in enumerate(raw.tolist()):
        try:
            parse_values(pd.Series([v], dtype=object))
        except ValueError:
            return i
    return 0


def empty_observations() -> pd.DataFrame:
    return pd.DataFrame({
        "region_code": pd.Series(dtype=object), "geo_year": pd.Series(dtype="int64"),
        "period": pd.Series(dtype="int64"), "variable": pd.Series(dtype=object),
        "value": pd.Series(dtype="float64"), "status": pd.Series(dtype=object),
        "source_id": pd.Series(dtype=object)})


def level_of(code: str) -> str:
    """CBS level of a region code: ``NL00``/``NL01`` land, ``GM`` gemeente, ``WK`` wijk, ``BU`` buurt."""
    prefix = code[:2].upper()
    return {"NL": "land", "GM": "gemeente", "WK": "wijk", "BU": "buurt"}.get(prefix, "onbekend")


def regions_from_codes(codes: Iterable[str], names: Iterable[str] | None, year: int) -> pd.DataFrame:
    """Build a regions frame from CBS codes; parents are derived from the code itself.

    A wijk ``WKggggww`` lies in ``GMgggg``; a buurt ``BUggggwwbb`` in ``WKggggww`` (Amsterdam's
    buurt codes contain letters since 2022, e.g. ``BU0363AA02``: never assume digits).
    """
    codes = [str(c).strip() for c in codes]
    names = [str(n).strip() for n in names] if names is not None else [None] * len(codes)
    rows = []
    for code, name in zip(codes, names):
        level = level_of(code)
        gm = "GM" + code[2:6] if level in ("gemeente", "wijk", "buurt") else None
        wk = "WK" + code[2:8] if level == "buurt" else None
        rows.append((code if level != "land" else "NL00", year, level, name, gm, wk))
    return pd.DataFrame(rows, columns=REGION_COLUMNS)


NATIONAL_CODE = "NL00"


def normalise_national(codes: pd.Series) -> pd.Series:
    """CBS writes the country as ``NL00`` (KWB) or ``NL01`` (other tables); use ``NL00``."""
    return codes.where(~codes.str.upper().str.startswith("NL"), NATIONAL_CODE)


# ---------------------------------------------------------------------------------------
# Declared variables and mappings
# ---------------------------------------------------------------------------------------

@functools.cache
def variables() -> dict[str, dict]:
    """The canonical variables (``variables.yaml``): name -> {description, unit, kind}."""
    with open(HERE / "variables.yaml", encoding="utf-8") as fh:
        data = yamlio.safe_load(fh.read())
    return {name: (spec or {}) for name, spec in data["variables"].items()}


@functools.cache
def mapping(adapter: str) -> dict:
    """The declared column mapping of one adapter (``mappings/<adapter>.yaml``)."""
    path = HERE / "mappings" / f"{adapter}.yaml"
    with open(path, encoding="utf-8") as fh:
        data = yamlio.safe_load(fh.read())
    known = variables()
    for section, table in data.items():
        if not isinstance(table, dict):
            continue
        for key, var in _walk_mapping(table):
            if var not in known:
                raise SourceError(path, f"onbekende variabele {var!r} (niet in variables.yaml)",
                                  field=f"{section}.{key}")
    return data


def _walk_mapping(table: dict):
    for key, value in table.items():
        if isinstance(value, dict):
            yield from _walk_mapping(value)
        elif isinstance(value, str) and not key.startswith("_"):
            yield key, value


def require_columns(available: Iterable[str], expected: Iterable[str], *, file: str | Path,
                    year: int | None) -> None:
    """Fail with a message naming file, year and the first missing column."""
    have = set(available)
    missing = [c for c in expected if c not in have]
    if missing:
        raise SourceError(file, f"verwachte kolom ontbreekt: {missing[0]!r}"
                          + (f" (en {len(missing) - 1} andere)" if len(missing) > 1 else ""),
                          year=year, field=missing[0])


def file_date(path: Path) -> str:
    """Retrieval date of a mirrored file: its modification date (ISO)."""
    return dt.date.fromtimestamp(path.stat().st_mtime).isoformat()
