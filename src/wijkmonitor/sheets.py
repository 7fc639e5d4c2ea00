"""Spreadsheet files that open well in Dutch Excel and cannot attack the person who opens them.

Every CSV and XLSX that wijkmonitor writes (website downloads, the API's ``format=csv|xlsx``,
the intervention exports, the CLI's CSV) goes through this module:

* **Formula injection** (OWASP, "CSV Injection"): a text cell that starts with ``=``, ``+``,
  ``-``, ``@``, a tab or a carriage return gets a leading ``'`` (:func:`neutralise`), so Excel
  and LibreOffice show it as text instead of running it. A number is never touched: numeric
  cells stay numbers, and a text cell that is exactly a number literal (``-1,5``, ``-12``) is
  left as it is, because no formula can hide in it.
* **Dutch CSV** (:func:`csv_nl`, the website default): ``;``-separated, decimal comma, UTF-8
  with a byte-order mark, so a double-click in Excel NL gives columns and numbers.
  **Plain CSV** (:func:`csv_plain`, ``formaat=csv-en`` and the API): ``,`` and ``.``, UTF-8.
* **XLSX** (:func:`xlsx`): every text cell is written as a text cell (never a formula), numbers
  with a number format per column or per row (decimals from the catalogue), whole-number
  columns (years) as integers, a frozen header, an autofilter, and optional further sheets
  (sources and rules).

>>> neutralise("=1+1"), neutralise("-12,5"), neutralise(-3.0), neutralise("Overvecht")
("'=1+1", '-12,5', -3.0, 'Overvecht')
"""

from __future__ import annotations

import io
import math
import re
from typing import Iterable, Mapping, Sequence

import pandas as pd

#: First characters that make a spreadsheet read a cell as a formula (OWASP CSV injection).
DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")
#: A text that is exactly a number (either decimal mark, optional sign and exponent): harmless.
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")
#: Excel's limits.
MAX_SHEET_NAME = 31
MAX_CELL_TEXT = 32767


def neutralise(value):
    """``value`` made safe for a spreadsheet cell: a text that a spreadsheet would read as a
    formula gets a leading ``'``; every other value (numbers, None, dates) is returned as is."""
    if isinstance(value, str) and value[:1] in DANGEROUS_START and not _NUMBER.match(value):
        return "'" + value
    return value


def neutralise_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with :func:`neutralise` applied to every text cell (numeric columns are
    not touched)."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col].dtype):
            out[col] = out[col].map(neutralise, na_action="ignore").astype(object)
    # header cells too: a column name can come from data (e.g. a reference's name)
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out


def _integral_years(df: pd.DataFrame, integer_columns: Iterable[str]) -> pd.DataFrame:
    """Whole-number columns (years, ranks, counts of areas) as nullable integers, so that a
    year is ``2012``, never ``2012.0``."""
    out = df
    for col in integer_columns:
        if col in out.columns and pd.api.types.is_numeric_dtype(out[col].dtype) \
                and not pd.api.types.is_bool_dtype(out[col].dtype):
            s = out[col]
            finite = s.dropna()
            if len(finite) and not (finite == finite.round()).all():
                continue  # not whole numbers after all: leave them
            if out is df:
                out = df.copy()
            out[col] = s.round().astype("Int64")
    return out


def csv_nl(df: pd.DataFrame, *, integer_columns: Iterable[str] = ()) -> bytes:
    """Dutch CSV: ``;``-separated, decimal comma, UTF-8 with BOM, formulas neutralised."""
    df = neutralise_frame(_integral_years(df, integer_columns))
    return df.to_csv(index=False, sep=";", decimal=",").encode("utf-8-sig")


def csv_plain(df: pd.DataFrame, *, integer_columns: Iterable[str] = ()) -> bytes:
    """Machine CSV: ``,``-separated, decimal point, UTF-8 without BOM, formulas neutralised."""
    df = neutralise_frame(_integral_years(df, integer_columns))
    return df.to_csv(index=False).encode("utf-8")


def number_format(decimals: int | None) -> str:
    """Excel number format with thousands separators and ``decimals`` decimals
    (``0`` -> ``#,##0``, ``1`` -> ``#,##0.0``); Excel shows it in the reader's locale."""
    if decimals is None or decimals <= 0:
        return "#,##0"
    return "#,##0." + "0" * int(decimals)


def _cell_value(v):
    if v is None:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if v is pd.NA or v is pd.NaT:
        return None
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        try:
            v = v.item()  # numpy scalar -> Python
        except (ValueError, AttributeError):
            pass
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _text(text: str) -> str:
    """A text for a text cell: neutralised and cut to Excel's limit."""
    text = neutralise(text)
    return text[:MAX_CELL_TEXT] if len(text) > MAX_CELL_TEXT else text


def _fill_sheet(wb, ws, df: pd.DataFrame, *, decimals: Mapping[str, int | pd.Series | None],
                integer_columns: Iterable[str], widths: bool = True, formats: dict) -> None:
    """Write ``df`` row by row into the XlsxWriter worksheet ``ws`` (constant memory: a row is
    flushed to disk when the next one starts). Text goes through ``write_string`` (a shared or
    inline string, never a formula), numbers through ``write_number`` with their format."""
    integer_columns = set(integer_columns)
    df = _integral_years(df, integer_columns)
    columns = list(df.columns)

    def fmt(spec: str | None):
        if spec is None:
            return None
        if spec not in formats:
            formats[spec] = wb.add_format({"num_format": spec})
        return formats[spec]

    if "bold" not in formats:
        formats["bold"] = wb.add_format({"bold": True})
    for j, col in enumerate(columns):
        ws.write_string(0, j, _text(str(col)), formats["bold"])
    col_formats: list = []
    for col in columns:
        d = decimals.get(col) if decimals else None
        if isinstance(d, pd.Series):
            col_formats.append([fmt(number_format(x)) if x is not None and x == x else None
                                for x in d.reindex(df.index).tolist()])
        elif col in integer_columns:
            col_formats.append(fmt("0"))
        elif d is not None:
            col_formats.append(fmt(number_format(d)))
        else:
            col_formats.append(None)
    for i, row in enumerate(df.itertuples(index=False, name=None), start=1):
        for j, raw in enumerate(row):
            v = _cell_value(raw)
            if v is None:
                continue
            if isinstance(v, str):
                ws.write_string(i, j, _text(v))
            elif isinstance(v, bool):
                ws.write_boolean(i, j, v)
            elif isinstance(v, (int, float)):
                f = col_formats[j]
                if isinstance(f, list):
                    f = f[i - 1]
                ws.write_number(i, j, v, f) if f is not None else ws.write_number(i, j, v)
            else:  # dates and other objects: their text, never a formula
                ws.write_string(i, j, _text(str(v)))
    ws.freeze_panes(1, 0)
    if columns:
        ws.autofilter(0, 0, len(df), len(columns) - 1)
    if widths:
        for j, col in enumerate(columns):
            sample = [str(col)] + [str(x) for x in df[col].head(200).tolist() if x is not None]
            ws.set_column(j, j, min(60, max(8, max(len(s) for s in sample) + 2)))


def xlsx(df: pd.DataFrame, *, sheet: str = "gegevens",
         decimals: Mapping[str, int | pd.Series | None] | None = None,
         integer_columns: Iterable[str] = (),
         extra_sheets: Sequence[tuple[str, pd.DataFrame]] = ()) -> bytes:
    """An XLSX workbook of ``df``.

    Parameters
    ----------
    df
        The table; its column names become the header row.
    sheet
        Name of the first sheet (cut to Excel's 31 characters).
    decimals
        Per column the decimals of its number format: an int for the whole column, or a
        Series aligned with ``df`` for a format per row (a long table with an ``indicator``
        column); columns not named keep Excel's general format.
    integer_columns
        Columns written as whole numbers (years, ranks): ``2012``, never ``2012.0``.
    extra_sheets
        Further ``(name, table)`` sheets, e.g. the sources and rules of the table.

    Every text cell is a text cell (``write_string``) and :func:`neutralise`\\ d; a formula can
    never come out of the data. Written with XlsxWriter in constant-memory mode: rows stream to
    a temporary file, so a 50,000-row workbook does not hold every cell as an object (openpyxl,
    used before, held ~250 MB for the largest allowed download).
    """
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"constant_memory": True, "in_memory": False,
                                   "strings_to_formulas": False, "strings_to_urls": False,
                                   "strings_to_numbers": False})
    formats: dict = {}
    names: set[str] = set()
    for name, table, dec, ints in [(sheet, df, decimals or {}, integer_columns)] + \
            [(n, t, {}, ()) for n, t in extra_sheets]:
        title = _sheet_name(name)
        base, k = title, 2
        while title.lower() in names:  # Excel refuses two sheets of one name
            suffix = f" ({k})"
            title, k = base[:MAX_SHEET_NAME - len(suffix)] + suffix, k + 1
        names.add(title.lower())
        _fill_sheet(wb, wb.add_worksheet(title), table, decimals=dec, integer_columns=ints,
                    formats=formats)
    wb.close()
    return buf.getvalue()


def _sheet_name(name: str) -> str:
    name = re.sub(r"[\[\]:*?/\\]", " ", name).strip() or "gegevens"
    return name[:MAX_SHEET_NAME]
