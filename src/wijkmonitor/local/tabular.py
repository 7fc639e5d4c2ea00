"""Reading uploaded CSV/XLSX files safely into a table of strings.

Used by every import in this package (local values, targets, interventions). File-level checks
happen here, before any row is looked at:

* size: at most ``max_bytes`` (default :data:`MAX_UPLOAD_BYTES`) and :data:`MAX_ROWS` rows;
  an XLSX whose unpacked size is more than :data:`MAX_UNPACKED_FACTOR` times the limit is
  refused (zip bomb), and so is a worksheet of more than :data:`MAX_CELLS` cells, by its
  ``<dimension>`` or by the cells its XML really holds, before the workbook is parsed
  (:func:`check_xlsx`; also broken zips, bad checksums and encrypted files, in Dutch);
* CSV encoding: UTF-8 (with or without BOM); anything else is refused with the row where the
  first undecodable byte sits (save as "CSV UTF-8" in Excel);
* CSV separator: ``;``, ``,`` or tab, detected from the header row; every row must have as many
  fields as the header;
* XLSX: only the first sheet is read; a cell with a formula is refused (values only: a formula
  result depends on the program that last saved the file);
* headers: lower-cased, trimmed, spaces to ``_``; empty or duplicate headers are refused.

The result is a ``pandas.DataFrame`` of stripped strings (empty string for an empty cell)
indexed by the row number as a spreadsheet shows it (header = row 1).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import pandas as pd

from .bounds import YEAR_MAX, YEAR_MIN
from .errors import RowError, ValidationFailed

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_ROWS = 100_000
MAX_UNPACKED_FACTOR = 20
#: Cells in one worksheet (by its ``<dimension ref=...>`` and by the cells in its XML),
#: checked before the workbook is parsed.
MAX_CELLS = 1_000_000
_CHUNK = 1024 * 1024
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="\$?([A-Z]{1,3})\$?(\d{1,7})'
                        rb'(?::\$?([A-Z]{1,3})\$?(\d{1,7}))?"')
_CELL = re.compile(rb"<(?:\w+:)?c[\s>/]")
_ROW = re.compile(rb"<(?:\w+:)?row[\s>/]")


def _n(x: int) -> str:
    """An integer with Dutch thousands separators: 200000 -> ``200.000``."""
    return f"{x:,}".replace(",", ".")


def _norm_header(text: object) -> str:
    return " ".join(str(text if text is not None else "").split()).lower().replace(" ", "_")


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.datetime, dt.date)):
        return value.date().isoformat() if isinstance(value, dt.datetime) and \
            value.time() == dt.time(0) else value.isoformat()
    return str(value).strip()


def read_table(data: bytes | Path | str, filename: str | None = None, *,
               max_bytes: int = MAX_UPLOAD_BYTES, max_rows: int = MAX_ROWS) -> pd.DataFrame:
    """Read a CSV or XLSX upload into a string table indexed by spreadsheet row number.

    Parameters
    ----------
    data : bytes or path
        The file content, or a path to read it from.
    filename : str, optional
        Name used in messages and to choose CSV or XLSX (by extension; content sniffed too).

    Raises
    ------
    ValidationFailed
        For any file-level problem (size, encoding, formulas, headers, ragged rows).
    """
    if isinstance(data, (str, Path)):
        path = Path(data)
        filename = filename or path.name
        size = path.stat().st_size
        if size > max_bytes:
            raise _too_large(filename, size, max_bytes)
        data = path.read_bytes()
    filename = filename or "upload"
    if len(data) > max_bytes:
        raise _too_large(filename, len(data), max_bytes)
    if not data.strip():
        raise ValidationFailed("het bestand is leeg", file=filename)
    suffix = Path(filename).suffix.lower()
    is_zip = data[:4] == b"PK\x03\x04"
    if suffix in (".xlsx", ".xlsm") or is_zip:
        if not is_zip:
            raise ValidationFailed("dit is geen geldig XLSX-bestand", file=filename)
        table = _read_xlsx(data, filename, max_bytes, max_rows)
    elif suffix in (".csv", ".txt", ""):
        table = _read_csv(data, filename, max_rows)
    else:
        raise ValidationFailed(f"bestandstype {suffix!r} wordt niet ondersteund: "
                               "lever CSV (UTF-8) of XLSX aan", file=filename)
    return table


def _too_large(filename: str, size: int | None, limit: int) -> ValidationFailed:
    """The size error; ``size=None`` when only "more than ``limit``" is known (a stream that
    was not read to its end)."""
    what = f"meer dan {_n(limit)}" if size is None else _n(size)
    return ValidationFailed(f"bestand te groot: {what} bytes; maximaal {_n(limit)} bytes "
                            f"({limit // (1024 * 1024)} MB)", file=filename)


too_large_error = _too_large


def _read_csv(data: bytes, filename: str, max_rows: int) -> pd.DataFrame:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        row = data[:exc.start].count(b"\n") + 1
        raise ValidationFailed(
            "het bestand is geen UTF-8-tekst; sla het op als 'CSV UTF-8 (door komma's "
            "gescheiden)' en probeer opnieuw",
            [RowError(row, None, f"ongeldige UTF-8-byte 0x{data[exc.start]:02x} op positie "
                                 f"{exc.start}")], file=filename) from None
    if "\x00" in text:
        raise ValidationFailed("het bestand bevat binaire gegevens (NUL-tekens); lever een "
                               "CSV-tekstbestand aan", file=filename)
    first_line = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        rows = list(reader)
    except csv.Error:
        raise ValidationFailed("CSV niet te lezen: een veld is te lang (meer dan "
                               f"{_n(csv.field_size_limit())} tekens) of een aanhalingsteken "
                               "wordt niet gesloten", file=filename) from None
    if not rows:
        raise ValidationFailed("het bestand is leeg", file=filename)
    header, body = rows[0], rows[1:]
    columns = _check_header(header, filename)
    errors, records, index = [], [], []
    for i, row in enumerate(body, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(columns):
            errors.append(RowError(i, None, f"{len(row)} velden, verwacht {len(columns)} "
                                            f"(scheidingsteken {delimiter!r})"))
            continue
        records.append([cell.strip() for cell in row])
        index.append(i)
    if len(index) > max_rows:
        raise ValidationFailed(f"te veel rijen: {_n(len(index))}; maximaal {_n(max_rows)}",
                               file=filename)
    if errors:
        raise ValidationFailed("rijen met een verkeerd aantal velden", errors, file=filename)
    return pd.DataFrame(records, columns=columns,
                        index=pd.Index(index, name="row"), dtype=str)


def _read_xlsx(data: bytes, filename: str, max_bytes: int, max_rows: int) -> pd.DataFrame:
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    check_xlsx(data, filename, max_bytes, max_rows)
    try:
        wb = load_workbook(io.BytesIO(data), data_only=False, read_only=True)
    except Exception:  # openpyxl raises many types for broken files; none is shown
        raise ValidationFailed(BROKEN_XLSX, file=filename) from None
    try:
        ws = wb.worksheets[0]
        rows = []
        formulas: list[RowError] = []
        for r, row in enumerate(ws.iter_rows(), start=1):
            values = []
            for c, cell in enumerate(row, start=1):
                value = getattr(cell, "value", None)
                if getattr(cell, "data_type", None) == "f" or (
                        isinstance(value, str) and value.startswith("=") and len(value) > 1):
                    formulas.append(RowError(r, get_column_letter(c),
                                             "formule in cel: lever waarden aan, geen formules",
                                             str(value)))
                values.append(value)
            rows.append(values)
            if r > max_rows + 1:
                raise ValidationFailed(f"te veel rijen: meer dan {_n(max_rows)}; maximaal "
                                       f"{_n(max_rows)}", file=filename)
    except ValidationFailed:
        raise
    except Exception:  # a member that only openpyxl reads turned out broken
        raise ValidationFailed(BROKEN_XLSX, file=filename) from None
    finally:
        wb.close()
    if formulas:
        raise ValidationFailed(f"het werkblad bevat {len(formulas)} formule(s); sla de waarden "
                               "op (Plakken speciaal > Waarden) en probeer opnieuw", formulas,
                               file=filename)
    while rows and all(v is None for v in rows[-1]):
        rows.pop()
    if not rows:
        raise ValidationFailed("het werkblad is leeg", file=filename)
    header = [_cell_text(v) for v in rows[0]]
    while header and header[-1] == "":
        header.pop()
    columns = _check_header(header, filename)
    records, index = [], []
    for i, row in enumerate(rows[1:], start=2):
        cells = [_cell_text(v) for v in row[:len(columns)]]
        cells += [""] * (len(columns) - len(cells))
        if not any(cells):
            continue
        records.append(cells)
        index.append(i)
    return pd.DataFrame(records, columns=columns, index=pd.Index(index, name="row"), dtype=str)


BROKEN_XLSX = ("het XLSX-bestand is beschadigd of geen Excel-werkmap; open het in Excel en "
               "sla het opnieuw op als Excel-werkmap (.xlsx)")


def _col_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ch - 64)
    return n


def check_xlsx(data: bytes, filename: str, max_bytes: int = MAX_UPLOAD_BYTES,
               max_rows: int = MAX_ROWS, max_cells: int = MAX_CELLS) -> None:
    """Refuse a hostile or broken XLSX before any XML parser sees it.

    Checks, in order: a zip archive; the parts of an Excel workbook; the unpacked size (zip
    bomb); per worksheet the cell count of its ``<dimension ref=...>`` and then, streaming the
    XML in 1 MB pieces (never the whole sheet in memory), the number of ``<c>`` and ``<row>``
    elements it really has; and the checksum (CRC) of every part. Each problem is a Dutch
    :class:`ValidationFailed`.
    """
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        raise ValidationFailed("dit is geen geldig XLSX-bestand: het is geen (leesbaar) "
                               "zip-archief", file=filename) from None
    with zf:
        infos = zf.infolist()
        names = {i.filename for i in infos}
        if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
            raise ValidationFailed("dit zip-bestand is geen Excel-werkmap (xl/workbook.xml "
                                   "ontbreekt); lever een .xlsx uit Excel of LibreOffice aan",
                                   file=filename)
        unpacked = sum(i.file_size for i in infos)
        if unpacked > MAX_UNPACKED_FACTOR * max_bytes:
            raise ValidationFailed(f"bestand te groot: uitgepakt {_n(unpacked)} bytes; maximaal "
                                   f"{_n(MAX_UNPACKED_FACTOR * max_bytes)} bytes", file=filename)
        if any(i.flag_bits & 0x1 for i in infos):
            raise ValidationFailed("het XLSX-bestand is met een wachtwoord versleuteld; sla het "
                                   "zonder wachtwoord op", file=filename)
        sheets = [i for i in infos if i.filename.startswith("xl/worksheets/")
                  and i.filename.endswith(".xml")]
        for info in sheets:
            head = _read_start(zf, info, filename)
            match = _DIMENSION.search(head)
            if match:
                c1, r1, c2, r2 = match.groups()
                rows = abs(int(r2 or r1) - int(r1)) + 1
                cols = abs(_col_number(c2 or c1) - _col_number(c1)) + 1
                if rows * cols > max_cells:
                    raise ValidationFailed(
                        f"te veel cellen: het werkblad beslaat {_n(rows)} rijen x {_n(cols)} "
                        f"kolommen = {_n(rows * cols)} cellen; maximaal {_n(max_cells)}",
                        file=filename)
                if rows > max_rows + 1:
                    raise ValidationFailed(f"te veel rijen: {_n(rows - 1)}; maximaal "
                                           f"{_n(max_rows)}", file=filename)
        for info in infos:  # every part: CRC, and the real cells of the sheets
            _scan_member(zf, info, filename, info in sheets, max_rows, max_cells)


def _read_start(zf: zipfile.ZipFile, info: zipfile.ZipInfo, filename: str) -> bytes:
    try:
        with zf.open(info) as fh:
            return fh.read(64 * 1024)
    except Exception as exc:
        raise _member_error(info, exc, filename) from None


def _member_error(info: zipfile.ZipInfo, exc: Exception, filename: str) -> ValidationFailed:
    if isinstance(exc, zipfile.BadZipFile):
        return ValidationFailed(f"het XLSX-bestand is beschadigd: de controlesom (CRC) van "
                                f"onderdeel {info.filename[:80]} klopt niet; sla het opnieuw op",
                                file=filename)
    return ValidationFailed(f"{BROKEN_XLSX} (onderdeel {info.filename[:80]} is niet te lezen)",
                            file=filename)


def _scan_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, filename: str, sheet: bool,
                 max_rows: int, max_cells: int) -> None:
    cells = rows = 0
    tail = b""
    try:
        with zf.open(info) as fh:
            while chunk := fh.read(_CHUNK):
                if sheet:
                    # a tag split over two chunks is counted once: count in tail+chunk, minus
                    # what was already counted in the tail alone
                    window = tail + chunk
                    cells += len(_CELL.findall(window)) - len(_CELL.findall(tail))
                    rows += len(_ROW.findall(window)) - len(_ROW.findall(tail))
                    tail = chunk[-16:]
                    if cells > max_cells:
                        raise ValidationFailed(f"te veel cellen: meer dan {_n(max_cells)} in "
                                               f"één werkblad; maximaal {_n(max_cells)}",
                                               file=filename)
                    if rows > max_rows + 1:
                        raise ValidationFailed(f"te veel rijen: meer dan {_n(max_rows)}; "
                                               f"maximaal {_n(max_rows)}", file=filename)
    except ValidationFailed:
        raise
    except Exception as exc:
        raise _member_error(info, exc, filename) from None


def _check_header(header: list[str], filename: str) -> list[str]:
    columns = [_norm_header(h) for h in header]
    errors = []
    seen: dict[str, int] = {}
    for pos, name in enumerate(columns, start=1):
        if not name:
            errors.append(RowError(1, f"kolom {pos}", "lege kolomnaam"))
        elif name in seen:
            errors.append(RowError(1, name, f"kolomnaam komt dubbel voor (kolom {seen[name]} "
                                            f"en {pos})"))
        else:
            seen[name] = pos
    if errors:
        raise ValidationFailed("ongeldige kopregel", errors, file=filename)
    return columns


def require_columns(table: pd.DataFrame, filename: str,
                    required: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """Map each required logical column to the header present in ``table``.

    ``required`` maps a logical name to its accepted header names (first is the canonical one).
    Raises :class:`ValidationFailed` naming every missing column.
    """
    found, missing = {}, []
    for logical, aliases in required.items():
        hit = next((a for a in aliases if a in table.columns), None)
        if hit is None:
            missing.append(RowError(1, aliases[0], "verplichte kolom ontbreekt (toegestaan: "
                                                   + ", ".join(aliases) + ")"))
        else:
            found[logical] = hit
    if missing:
        raise ValidationFailed("verplichte kolommen ontbreken", missing, file=filename)
    return found


def parse_number(text: str) -> float | None:
    """A number from a cell: ``12.5``, ``12,5`` (decimal comma), ``-3``, ``1e3``.

    Returns ``None`` when the text is not a number. Thousands separators are refused because
    ``1.234`` is ambiguous between Dutch and English notation.
    """
    t = text.strip().replace("\u2212", "-")
    if not t:
        return None
    if "," in t:
        if t.count(",") != 1 or "." in t:
            return None
        t = t.replace(",", ".")
    try:
        value = float(t)
    except ValueError:
        return None
    if value != value or value in (float("inf"), float("-inf")):
        return None
    return value


def parse_year(text: str) -> int | None:
    """A year 1900-2100 from a cell, or ``None``."""
    t = text.strip()
    if t.endswith(".0"):
        t = t[:-2]
    if not (t.isascii() and t.isdigit()):  # str.isdigit() also accepts '²' and other digits int() refuses
        return None
    year = int(t)
    return year if YEAR_MIN <= year <= YEAR_MAX else None
