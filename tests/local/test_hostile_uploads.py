"""Hostile and broken XLSX/CSV uploads (hardening issue, items 6 and 8).

Before: an XLSX of 160 KB with 8 million empty cells cost 27 s of CPU before it was refused;
a zip that is not an XLSX and a bad CRC gave English messages; a message read "te veel rijen:
200.000. maximaal 100.000". The files here are built in the test with zipfile and openpyxl.
Limits pinned as numbers: 1.000.000 cells per worksheet, 100.000 data rows, 5 MB per file.
"""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest

from wijkmonitor.local import tabular
from wijkmonitor.local.errors import ValidationFailed
from wijkmonitor.local.tabular import check_xlsx, read_table

CONTENT_TYPES = (b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.'
                 b'openxmlformats.org/package/2006/content-types"/>')


def xlsx_with_sheet(sheet_xml: bytes, *, level: int = 9) -> bytes:
    """A minimal workbook zip whose first worksheet is ``sheet_xml`` (only what the size
    checks look at; openpyxl would need more parts)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        zf.writestr("xl/workbook.xml", b"<workbook/>")
        zf.writestr("xl/worksheets/sheet1.xml", sheet_xml)
    return buf.getvalue()


def sheet(dimension: str | None, body: bytes = b"") -> bytes:
    dim = f'<dimension ref="{dimension}"/>'.encode() if dimension else b""
    return (b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
            b'spreadsheetml/2006/main">' + dim + b"<sheetData>" + body
            + b"</sheetData></worksheet>")


def refused(data: bytes, name: str = "hostile.xlsx", **kw) -> str:
    with pytest.raises(ValidationFailed) as err:
        read_table(data, name, **kw)
    return err.value.summary


def check_refused(data: bytes, **kw) -> str:
    with pytest.raises(ValidationFailed) as err:
        check_xlsx(data, "hostile.xlsx", **kw)
    assert err.value.file == "hostile.xlsx"
    return err.value.summary


def real_xlsx(rows: list[list]) -> bytes:
    wb = openpyxl.Workbook()
    for row in rows:
        wb.active.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_eight_million_empty_cells_in_a_small_file_are_refused_before_parsing(monkeypatch):
    # 8 000 rows of 1 000 empty cells: 8 million cells, about 32 MB of XML, a small zip
    row = b"<row>" + b"<c/>" * 1000 + b"</row>"
    data = xlsx_with_sheet(sheet(None, row * 8000))
    assert len(data) < 200_000
    parsed = []
    monkeypatch.setattr("openpyxl.load_workbook",
                        lambda *a, **k: parsed.append(1))  # the parser must never run
    message = refused(data)
    assert message == "te veel cellen: meer dan 1.000.000 in één werkblad; maximaal 1.000.000"
    assert parsed == []

    # the same with a lying <dimension>: the cells in the XML count, not the claim
    message = refused(xlsx_with_sheet(sheet("A1:B2", row * 8000)))
    assert message.startswith("te veel cellen") and parsed == []


def test_cell_limit_from_the_dimension_on_both_sides():
    # A1:J100000 is 10 x 100 000 = 1 000 000 cells: allowed; one row more is not
    check_xlsx(xlsx_with_sheet(sheet("A1:J100000")), "ok.xlsx")
    message = check_refused(xlsx_with_sheet(sheet("A1:J100001")))
    assert message == ("te veel cellen: het werkblad beslaat 100.001 rijen x 10 kolommen = "
                       "1.000.010 cellen; maximaal 1.000.000")
    # the whole grid in one claim
    message = check_refused(xlsx_with_sheet(sheet("A1:XFD1048576")))
    assert "1.048.576 rijen x 16.384 kolommen" in message
    # rows: 100 001 lines (header + 100 000 data rows) allowed, one more refused
    check_xlsx(xlsx_with_sheet(sheet("A1:A100001")), "ok.xlsx")
    assert check_refused(xlsx_with_sheet(sheet("A1:A100002"))) == \
        "te veel rijen: 100.001; maximaal 100.000"


def test_cell_limit_from_the_xml_on_both_sides():
    cells = b"<row>" + b'<c r="A1"><v>1</v></c>' * 50 + b"</row>"
    check_xlsx(xlsx_with_sheet(sheet(None, cells * 2)), "ok.xlsx", max_cells=100)
    assert check_refused(xlsx_with_sheet(sheet(None, cells * 2 + b"<row><c/></row>")),
                         max_cells=100).startswith("te veel cellen: meer dan 100 ")
    # a tag split over the 1 MB read boundary is counted once
    filler = b" " * (1024 * 1024 - 300)
    body = filler + b"<row>" + b"<c/>" * 100 + b"</row>"
    check_xlsx(xlsx_with_sheet(sheet(None, body)), "ok.xlsx", max_cells=100)
    with pytest.raises(ValidationFailed):
        check_xlsx(xlsx_with_sheet(sheet(None, body + b"<c/>")), "x.xlsx", max_cells=100)


def test_a_real_workbook_passes_and_is_read():
    data = real_xlsx([["region", "indicator", "year", "value"],
                      ["WK034403", "eenzaam_pct", 2022, 12.5]])
    check_xlsx(data, "echt.xlsx")
    table = read_table(data, "echt.xlsx")
    assert table.loc[2].tolist() == ["WK034403", "eenzaam_pct", "2022", "12.5"]


def test_broken_zips_get_dutch_messages():
    # a zip that is not an XLSX
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("notities.txt", "geen werkmap")
    assert refused(buf.getvalue()) == ("dit zip-bestand is geen Excel-werkmap (xl/workbook.xml "
                                       "ontbreekt); lever een .xlsx uit Excel of LibreOffice aan")
    # not a zip at all, with the PK signature
    assert refused(b"PK\x03\x04" + b"\x00" * 100).startswith("dit is geen geldig XLSX-bestand")
    # a bad CRC in a real workbook: flip one byte of the stored sheet data
    data = bytearray(real_xlsx([["region", "indicator", "year", "value"],
                                ["WK034403", "eenzaam_pct", 2022, 12.5]]))
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as src, \
            zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info.filename))
    data = bytearray(buf.getvalue())
    pos = data.find(b"eenzaam_pct")
    assert pos > 0
    data[pos] ^= 0x20
    message = refused(bytes(data))
    assert message.startswith("het XLSX-bestand is beschadigd: de controlesom (CRC) van "
                              "onderdeel xl/")
    for text in (refused(bytes(data)), refused(buf.getvalue()[:-30])):
        assert "Bad" not in text and "CRC-32" not in text and "File is not" not in text


def test_row_and_size_messages_use_dutch_numbers():
    header = "region;indicator;year;value\n"
    csv = (header + "WK034403;eenzaam_pct;2022;1\n" * 11).encode()
    assert refused(csv, "rijen.csv", max_rows=10) == "te veel rijen: 11; maximaal 10"
    big = (header + "WK034403;eenzaam_pct;2022;1\n" * 200_000).encode()
    assert refused(big, "rijen.csv", max_bytes=10**8) == \
        "te veel rijen: 200.000; maximaal 100.000"
    assert refused(b"x" * 5_242_881, "groot.csv") == (
        "bestand te groot: 5.242.881 bytes; maximaal 5.242.880 bytes (5 MB)")
    assert tabular.MAX_CELLS == 1_000_000  # the number the messages above promise
    message = refused(b'a;b\n"' + b"x" * 200_000 + b"\n", "lang.csv")
    assert message.startswith("CSV niet te lezen: een veld is te lang (meer dan 131.072 tekens)")
