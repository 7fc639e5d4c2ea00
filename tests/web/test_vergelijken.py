"""Vergelijken (issue 17.3, 18.7): request bounds with a Dutch answer, a result paged so that
one page stays under 300 KB, and small-multiple charts."""

from __future__ import annotations

import re

import duckdb
import pytest

from wijkmonitor.web.data import WebStore


@pytest.fixture(scope="module")
def buurt_codes(real_store):
    con = duckdb.connect(str(real_store), read_only=True)
    codes = [r[0] for r in con.execute("SELECT DISTINCT code FROM regions WHERE level = 'buurt' "
                                       "AND year = 2024 ORDER BY code LIMIT 1500").fetchall()]
    con.close()
    assert len(codes) == 1500
    return codes


@pytest.fixture()
def no_lookups(monkeypatch):
    """Fails the test if the page looks up a single unit (the bounds must come first)."""
    def boom(self, uid):
        raise AssertionError(f"unit {uid} looked up before the bounds were checked")
    monkeypatch.setattr(WebStore, "unit", boom)


def test_1500_buurt_codes_get_a_dutch_message_without_work(client, buurt_codes, no_lookups):
    r = client.get("/vergelijken", params={"codes": " ".join(buurt_codes), "jaar": [2020]})
    assert r.status_code == 400 and "text/html" in r.headers["content-type"]
    assert "hoogstens 20 gebieden" in r.text
    assert len(r.content) < 20_000


def test_codes_limit_both_sides(client, buurt_codes):
    over = client.get("/vergelijken", params={"codes": " ".join(buurt_codes[:21]), "jaar": [2024]})
    assert over.status_code == 400 and "U koos 21 gebieden" in over.text
    ok = client.get("/vergelijken", params={"codes": " ".join(buurt_codes[:20]), "jaar": [2024]})
    assert ok.status_code == 200


def test_years_limit_both_sides(client):
    years = list(range(2008, 2025))  # 17
    over = client.get("/vergelijken", params={"gebied": "utrecht-overvecht", "jaar": years})
    assert over.status_code == 400 and "hoogstens 16" in over.text
    assert client.get("/vergelijken", params={"gebied": "utrecht-overvecht", "jaar": years[1:]}).status_code == 200


def test_large_comparison_is_paged_under_300_kb_with_charts(client):
    areas = [a["area_id"] for a in client.get("/api/v1/areas").json()][:18] + ["G4", "NL"]
    params = {"gebied": areas, "jaar": list(range(2012, 2025))}
    first = client.get("/vergelijken", params=params)
    assert first.status_code == 200 and len(first.content) < 300_000
    pages = re.findall(r'href="(/vergelijken\?[^"]*pagina=(\d+)[^"]*)"', first.text)
    assert pages, "a pager"
    n_pages = max(int(n) for _, n in pages)
    tables = set()
    for i in range(1, n_pages + 1):
        r = client.get("/vergelijken", params={**params, "pagina": i})
        assert len(r.content) < 300_000, i
        tables |= set(re.findall(r'id="tabel-([a-z0-9_]+)"', r.text))
        # one small chart (or the reason there is none) per indicator on the page
        assert r.text.count('class="wm-figure wm-multiple"') == len(re.findall(r'id="tabel-', r.text))
        assert 'class="wm-chart"' in r.text
    # every indicator with a figure is on exactly one page, and the download has them all
    csv = client.get("/vergelijken", params={**params, "formaat": "csv-en"}).text
    assert len(tables) >= 10 and all(t in csv for t in tables)


def test_areas_by_name_or_code(client):
    text = "Den Haag, Overvecht (WK034403), BU03440343 GM0599, Rotterdam Zuid, Xyzzy"
    r = client.get("/vergelijken", params={"codes": text, "jaar": [2020]})
    assert r.status_code == 200
    table = r.text.split('id="cap-vergelijking"', 1)[1].split("</thead>", 1)[0]
    assert re.findall(r'href="/gebied/([^"]+)"', table) == ["GM0518", "WK034403", "BU03440343", "GM0599",
                                                            "rotterdam-zuid"]
    assert "Niet gevonden: Xyzzy" in r.text
    # the autocomplete gives the name with its id, which resolves exactly
    s = client.get("/api/v1/suggest", params={"q": "overvecht"}).json()[0]
    assert s["name"] == "Utrecht Overvecht" and s["id"] == "utrecht-overvecht"
