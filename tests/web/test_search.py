"""Issue 17.2 on the real data: the exact queries of the issue, postcodes checked against the
raw KWB files, autocomplete JSON, and search results grouped by level without duplicates."""

from __future__ import annotations

import json
import re

import pytest

from wijkmonitor import config

WOONIKVEILIG = "cbs-kwb-steden/woonikveilig-kwb2024-misdrijven/data/gemeente"


def _pc4_buurten(pc4: str) -> set[str]:
    """Buurten whose most common postcode is ``pc4``, read straight from the raw files."""
    out = set()
    for path in (config.data_dir() / WOONIKVEILIG).glob("GM*.json"):
        for b in json.loads(path.read_text(encoding="utf-8"))["buurten"]:
            if str((b.get("demografie") or {}).get("postcode")) == pc4:
                out.add(b["code"])
    return out


def _links(html: str, group: str) -> list[str]:
    part = html.split(f'id="groep-{group}"', 1)
    if len(part) < 2:
        return []
    return re.findall(r'<th scope="row"[^>]*><a class="utrecht-link" href="/gebied/([^"]+)"',
                      part[1].split("</table>", 1)[0])


def _first_hit(html: str) -> str:
    return re.search(r'<th scope="row"[^>]*><a class="utrecht-link" href="/gebied/([^"]+)"', html)[1]


@pytest.mark.parametrize("q", ["3533", "3533 AB", "3533AB", "3533 ab"])
def test_postcode_gives_the_buurten_of_its_pc4(client, q):
    expected = _pc4_buurten("3533")
    assert expected == {"BU03440111", "BU03440112", "BU03440113", "BU03440114"}
    html = client.get("/zoeken", params={"q": q}).text
    assert set(_links(html, "postcode")) == expected
    assert "bij benadering" in html and "meest voorkomende postcode" in html
    if len(q) > 4:
        assert "de letters AB gebruiken we niet" in html


def test_postcode_that_is_nowhere_the_most_common_says_so(client):
    assert not _pc4_buurten("9999")
    html = client.get("/zoeken", params={"q": "9999"}).text
    assert "Geen enkele buurt heeft 9999 als meest voorkomende postcode" in html


@pytest.mark.parametrize("q", ["Den Haag", "den haag", "'s-Gravenhage", "s-Gravenhage", "s gravenhage"])
def test_den_haag(client, q):
    assert _first_hit(client.get("/zoeken", params={"q": q}).text) == "GM0518"


def test_rotterdam_zuid_finds_the_nplv_area_first(client):
    html = client.get("/zoeken", params={"q": "Rotterdam Zuid"}).text
    assert _first_hit(html) == "rotterdam-zuid"
    assert html.index("/gebied/rotterdam-zuid\"") < html.index("/gebied/rotterdam-zuidelijke-tuinsteden\"")


def test_overvecht_noord(client):
    """There is no CBS region Overvecht-Noord (the wijk is 'Wijk 03 Overvecht'): the areas and
    the wijk named Overvecht come first, with a note on the word that was not found."""
    html = client.get("/zoeken", params={"q": "overvecht noord"}).text
    assert _first_hit(html) == "utrecht-overvecht"
    assert "WK034403" in _links(html, "wijk")
    assert "zonder ‘noord’" in html


def test_typo_within_one_edit(client):
    assert _first_hit(client.get("/zoeken", params={"q": "Kanaaleneiland"}).text) == "utrecht-kanaleneiland"
    assert _first_hit(client.get("/zoeken", params={"q": "Sudwest Fryslan"}).text) == "GM1900"


def test_bijlmer_shows_no_old_and_new_codes_side_by_side(client):
    html = client.get("/zoeken", params={"q": "Bijlmer"}).text
    current = _links(html, "buurt")
    assert "BU0363TG01" in current and "BU03639402" not in current
    # the 2020 code is named as the earlier division of the 2024 buurt
    row = re.search(r'<tr[^>]*>(?:(?!</tr>).)*/gebied/BU0363TG01(?:(?!</tr>).)*</tr>', html, re.S)[0]
    assert "BU03639402" in row and "2017–2020" in row
    names = [re.sub(r"[^a-z]", "", n.lower()) for n in re.findall(
        r'<th scope="row"[^>]*><a[^>]*>([^<]+)</a>', html.split('id="groep-history"')[0])]
    assert len(names) == len(set(names)), names


def test_bijlmer_by_its_common_name(client):
    """'Bijlmer' (what residents call stadsdeel Zuidoost) opens the NPLV-focusgebied first; the
    wijk whose own name is longer ('Bijlmermuseum') is still found, and comes first when typed."""
    html = client.get("/zoeken", params={"q": "Bijlmer"}).text
    assert _first_hit(html) == "amsterdam-zuidoost"
    assert "WK0363TG" in _links(html, "wijk")
    assert _first_hit(client.get("/zoeken", params={"q": "Bijlmermuseum"}).text) == "WK0363TG"
    assert _first_hit(client.get("/zoeken", params={"q": "Amsterdam Zuidoost"}).text) == "amsterdam-zuidoost"
    assert client.get("/api/v1/suggest", params={"q": "bijlmer"}).json()[0]["url"] == "/gebied/amsterdam-zuidoost"


def test_groups_in_level_order_and_download(client):
    html = client.get("/zoeken", params={"q": "Utrecht"}).text
    order = [m for m in re.findall(r'id="groep-([a-z]+)"', html)]
    assert order[0] == "gemeente" and set(order) >= {"gemeente", "area"}
    csv = client.get("/zoeken", params={"q": "Utrecht", "formaat": "csv-en"}).text
    assert csv.splitlines()[1].startswith("GM0344,Utrecht,gemeente")


def test_suggest_json(client):
    res = client.get("/api/v1/suggest", params={"q": "overv"})
    assert res.status_code == 200
    items = res.json()
    assert 0 < len(items) <= 8
    assert items[0]["url"] == "/gebied/utrecht-overvecht"
    assert all(set(i) >= {"label", "url"} for i in items)
    assert client.get("/api/v1/suggest", params={"q": "o"}).json() == []
    assert client.get("/api/v1/suggest", params={"q": "3533"}).json()[0]["url"].startswith("/gebied/BU0344011")
    long = client.get("/api/v1/suggest", params={"q": "x" * 300})
    assert long.status_code == 422 and "detail" in long.json()


def test_long_or_odd_queries_do_not_fail(client):
    for q in ["x" * 200, "%", "'", "-", "()", "GM", "1234567"]:
        assert client.get("/zoeken", params={"q": q}).status_code == 200, q
    # beyond the declared bounds (200 characters, no control characters): a Dutch page, 422
    for q in ["x" * 201, "x" * 5000, "\u0000"]:
        r = client.get("/zoeken", params={"q": q})
        assert r.status_code == 422 and "text/html" in r.headers["content-type"], q
        assert "Deze pagina kan zo niet worden getoond" in r.text
