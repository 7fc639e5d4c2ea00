"""Uploads through the web form (/beheer/lokale-gegevens), on SQLite and PostgreSQL, with the
real area files and the real CBS codes: every malformed file of issue 8 (wrong codes, text in
number fields, duplicate rows, a huge file, a wrong encoding, an XLSX with formulas) comes back
with a Dutch error naming row, column and reason, and changes nothing.
"""

from __future__ import annotations

import html
import io
import re

import openpyxl
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from wijkmonitor.local import uploads, web
from wijkmonitor.local.models import AuditEntry, LocalUpload, LocalValue

PASSWORD = "correct horse battery"
HEADER = "region;indicator;year;value\n"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def app(db_url, monkeypatch):
    monkeypatch.setenv("WIJKMONITOR_SECRET_KEY", "test-" + "k" * 40)
    app = FastAPI()
    app.include_router(web.create_router(db_url))
    return app


def logged_in(app, name: str) -> tuple[TestClient, str]:
    c = TestClient(app, base_url="http://127.0.0.1")
    token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/beheer/inloggen").text)[1]
    r = c.post("/beheer/inloggen", data={"gebruikersnaam": name, "wachtwoord": PASSWORD,
                                         "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    return c, c.get("/api/v1/session").json()["csrf_token"]


def post_file(c: TestClient, token: str, data: bytes, filename: str, *, gemeente="GM0344",
              source="Gemeente Utrecht, eigen telling", mime="text/csv"):
    return c.post("/beheer/lokale-gegevens", follow_redirects=False,
                  data={"csrf_token": token, "gemeente": gemeente, "bron": source},
                  files={"bestand": (filename, data, mime)})


def rejected_rows(page: str) -> list[tuple[str, str, str, str]]:
    """(rij, kolom, reden, waarde) of the rejection table on the upload page."""
    m = re.search(r'<table class="utrecht-table">\s*<caption[^>]*id="afgewezen-caption".*?'
                  r'<tbody[^>]*>(.*?)</tbody>', page, re.S)
    if m is None:
        return []
    rows = []
    for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", m[1], re.S):
        cells = [html.unescape(re.sub(r"<[^>]+>", "", td)).strip()
                 for td in re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)]
        rows.append(tuple(cells))
    return rows


def counts(rows):
    return rows(LocalUpload), rows(LocalValue), rows(AuditEntry)


def xlsx(*lines) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    for line in lines:
        ws.append(list(line))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


DASH = "–"
CASES = {
    "wrong codes": (
        (HEADER + "WK034403;inwoners;2024;100\n"
                  "WK059910;inwoners;2024;200\n"       # a Rotterdam wijk
                  "BU99999999;inwoners;2024;1\n").encode(), "codes.csv", "text/csv",
        [("3", "region", "code hoort niet bij gemeente GM0344", "WK059910"),
         ("4", "region", "code hoort niet bij gemeente GM0344", "BU99999999")]),
    "text in number fields": (
        (HEADER + "WK034403;inwoners;2024;veel\n"
                  "WK034403;inwoners;twintig;5\n").encode(), "tekst.csv", "text/csv",
        [("2", "value", "geen getal", "veel"),
         ("3", "year", "geen jaartal (1900-2100)", "twintig")]),
    "duplicate rows": (
        (HEADER + "WK034403;inwoners;2024;100\n"
                  "WK034404;inwoners;2024;100\n"
                  "WK034403;inwoners;2024;101\n").encode(), "dubbel.csv", "text/csv",
        [("4", DASH, "dubbele rij: zelfde regio, indicator en jaar als rij 2",
          "WK034403 / inwoners / 2024")]),
    "wrong encoding": (
        ("region;indicator;year;value;toelichting\n"
         "WK034403;inwoners;2024;100;ok\n"
         "WK034403;inwoners;2023;99;telling ’s-Hertogenbosch é\n").encode("cp1252"),
        "ansi.csv", "text/csv", "UTF-8"),
    "xlsx with formulas": (
        xlsx(["region", "indicator", "year", "value"], ["WK034403", "inwoners", 2024, 100],
             ["WK034404", "inwoners", 2024, "=D2*2"]), "formules.xlsx", XLSX,
        [("3", "D", None, "=D2*2")]),
    "huge file": (
        (HEADER + "WK034403;inwoners;2024;100\n" * (uploads.MAX_UPLOAD_BYTES // 27 + 10)).encode(),
        "groot.csv", "text/csv", "te groot"),
}


def test_every_malformed_upload_is_refused_through_the_form(app, users, rows):
    """Each case: 422, the Dutch error summary linked to the file field, the rejection table
    with row, column, reason and value, and not a single row written (nor an audit entry)."""
    c, token = logged_in(app, "utrecht")
    before = counts(rows)
    for name, (data, filename, mime, expected) in CASES.items():
        r = post_file(c, token, data, filename, mime=mime)
        assert r.status_code == 422, (name, r.status_code)
        page = r.text
        assert '<html lang="nl"' in page and "<title>Fout: Lokale gegevens" in page, name
        assert 'role="alert"' in page and 'href="#bestand"' in page, name
        assert "Het bestand is afgewezen" in page, name
        assert "Afgewezen: er is niets opgeslagen" in page and filename in page, name
        table = rejected_rows(page)
        if isinstance(expected, str):  # file-level problem: the reason names it
            text = " ".join(" ".join(row) for row in table) + page
            assert expected in text, (name, table)
            if name == "wrong encoding":  # the row with the first bad byte
                assert [row[0] for row in table] == ["3"], table
            if name == "huge file":  # said without reading the whole upload
                assert "bestand te groot: meer dan 5.242.880 bytes" in page, name
                assert "maximaal 5.242.880 bytes (5 MB)" in page, name
        else:
            got = [(row[0], row[1], row[2] if exp[2] is not None else None, row[3])
                   for row, exp in zip(table, expected)]
            assert got == expected and len(table) == len(expected), (name, table)
            if name == "xlsx with formulas":
                assert "formule" in table[0][2], table
        assert counts(rows) == before, name
    # the form keeps what was typed, the list of earlier uploads is still empty
    assert 'value="Gemeente Utrecht, eigen telling"' in page
    assert "Nog geen uploads." in page


def test_request_larger_than_the_limit_is_refused_before_it_is_read(app, users, rows):
    c, token = logged_in(app, "utrecht")
    before = counts(rows)
    big = b"region;indicator;year;value\n" + b"WK034403;inwoners;2024;100\n" * 400_000
    assert len(big) > web.MAX_BODY_BYTES
    r = post_file(c, token, big, "enorm.csv")
    assert r.status_code == 413
    assert "te groot" in r.text and "er is niets opgeslagen" in r.text
    assert '<html lang="nl"' in r.text
    assert counts(rows) == before


def test_good_upload_through_the_form_lands_whole_with_its_source(app, users, rows):
    c, token = logged_in(app, "utrecht")
    data = (HEADER + "WK034403;inwoners;2024;35000\n"
                     "utrecht-overvecht;eenzaam_pct;2023;51,5\n"   # the focus area itself
                     "BU03440311;eenzaam_pct;2023;.\n").encode()
    r = post_file(c, token, data, "goed.csv")
    assert r.status_code == 303 and r.headers["location"] == "/beheer/lokale-gegevens"
    page = c.get("/beheer/lokale-gegevens").text
    assert "Upload 1 opgeslagen: 3 waarden." in page
    assert "goed.csv" in page and "Gemeente Utrecht, eigen telling" in page
    assert counts(rows)[:2] == (1, 3)

    # public API: every local value labelled as local, with its source, never as CBS
    anon = TestClient(app, base_url="http://127.0.0.1")
    values = anon.get("/api/v1/local-values", params={"area": "utrecht-overvecht"}).json()
    # the area's own value first, then those of its part (Overvecht = wijk WK034403)
    assert [(v["region"], v["indicator_id"], v["value"], v["status"]) for v in values] == [
        ("utrecht-overvecht", "eenzaam_pct", 51.5, "ok"), ("WK034403", "inwoners", 35000.0, "ok")]
    assert values[0]["origin"] == "lokaal"
    assert values[0]["source"] == "Gemeente Utrecht, eigen telling"
    wijk = anon.get("/api/v1/local-values", params={"area": "WK034403"}).json()
    assert [(v["region"], v["value"]) for v in wijk] == [("WK034403", 35000.0)]
    secret = anon.get("/api/v1/local-values", params={"gemeente": "GM0344",
                                                      "indicator": "eenzaam_pct"}).json()
    assert {(v["region"], v["status"], v["value"]) for v in secret} == {
        ("utrecht-overvecht", "ok", 51.5), ("BU03440311", "geheim", None)}


def test_editor_cannot_upload_for_another_gemeente(app, users, rows):
    c, token = logged_in(app, "utrecht")
    before = counts(rows)
    r = post_file(c, token, (HEADER + "WK059910;inwoners;2024;1\n").encode(), "rdam.csv",
                  gemeente="GM0599")
    assert r.status_code == 403 and "GM0599" in r.text
    r = post_file(c, token, (HEADER + "WK034403;inwoners;2024;1\n").encode(), "x.csv",
                  source="")
    assert r.status_code == 422 and "Vul de bron in" in r.text
    assert counts(rows) == before
