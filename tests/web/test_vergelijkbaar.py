"""Vergelijkbare gemeenten and the indicator choice of Vergelijken on the real store (issue
17.3): the page's group and positions, values derived by hand from the raw KWB file, Dutch
4xx answers naming the field, the bounds with a group, and the page weight."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

UTRECHT_GROUP = ["GM0344", "GM0014", "GM0772", "GM0855", "GM0599", "GM0518", "GM0392", "GM0268",
                 "GM0758", "GM0307", "GM0202"]


def _table(text: str, caption_id: str) -> str:
    return text.split(f'id="{caption_id}"', 1)[1].split("</table>", 1)[0]


def test_real_position_woz_hand_derived(client):
    """kwb2025_clean.csv, g_wozbag of the 11 (x 1 000 euro): 313 339 342 350 383 387 391 419
    446 490 (Utrecht) 505 (Haarlem): Utrecht 2nd of 11 (hoger is beter), median 387."""
    src = Path("/work/shared/data/cbs-kwb-gemeente-wonen-2020-2025/kwb2025_clean.csv")
    if src.exists():
        with open(src, encoding="utf-8") as fh:
            woz = {r["gwb_code"]: float(r["g_wozbag"]) for r in csv.DictReader(fh) if r["gwb_code"] in UTRECHT_GROUP}
        assert sorted(woz.values())[5] == 387000 and sorted(woz, key=woz.get)[-2:] == ["GM0344", "GM0392"]
    r = client.get("/vergelijkbare-gemeenten", params={"gemeente": "GM0344", "formaat": "csv-en",
                                                       "tabel": "vergelijkbare_gemeenten"})
    assert r.status_code == 200
    row = next(line for line in r.text.splitlines() if ",woz_gemiddeld," in line).split(",")
    header = r.text.splitlines()[0].lstrip("\ufeff").split(",")
    rec = dict(zip(header, row))
    assert (rec["period"], float(rec["value"]), rec["group_rank"], rec["group_size"]) == ("2025", 490.0, "2", "11")
    assert (float(rec["group_median"]), float(rec["group_min"]), float(rec["group_max"])) == (387.0, 313.0, 505.0)


def test_page_shows_the_group_by_name_and_links_the_comparison(client):
    r = client.get("/vergelijkbare-gemeenten", params={"gemeente": "Utrecht (GM0344)"})
    assert r.status_code == 200 and len(r.content) < 300_000
    group = _table(r.text, "cap-groep")
    assert re.findall(r'href="/gebied/(GM\d{4})"', group) == UTRECHT_GROUP
    assert "Groningen" in group and "zeer sterk stedelijk" in group and "374.238" in group
    # the rule in words, and the source by its title
    assert "omgevingsadressendichtheid (2024)" in r.text and "CBS wijk- en buurtkaart 2024" in r.text
    href = re.search(r'href="(/vergelijken\?vergelijkbaar=GM0344[^"]*)"', r.text).group(1)
    cmp = client.get(href.replace("&amp;", "&"))
    assert cmp.status_code == 200 and len(cmp.content) < 300_000
    head = _table(cmp.text, "cap-vergelijking").split("</thead>", 1)[0]
    assert re.findall(r'href="/gebied/([^"]+)"', head) == UTRECHT_GROUP
    assert "Vergelijkbare gemeenten van Utrecht" in cmp.text


def test_gemeente_page_offers_it(client):
    r = client.get("/gebied/GM0344")
    assert 'href="/vergelijkbare-gemeenten?gemeente=GM0344"' in r.text
    assert "/vergelijkbare-gemeenten" not in client.get("/gebied/WK034403").text


@pytest.mark.parametrize("params,field", [
    ({"gemeente": "WK034403"}, "gemeente"), ({"gemeente": "Xyzzy"}, "gemeente")])
def test_not_a_gemeente_is_a_dutch_404_naming_the_field(client, params, field):
    r = client.get("/vergelijkbare-gemeenten", params=params)
    assert r.status_code == 404 and "text/html" in r.headers["content-type"]
    assert f"Veld ‘{field}’" in r.text


def test_vergelijkbaar_counts_against_the_bound_both_sides(client):
    codes = ["GM0003", "GM0010", "GM0024", "GM0037", "GM0047", "GM0050", "GM0059", "GM0060", "GM0072"]
    ok = client.get("/vergelijken", params={"vergelijkbaar": "GM0344", "codes": " ".join(codes), "jaar": [2024]})
    assert ok.status_code == 200       # 11 + 9 = 20
    over = client.get("/vergelijken", params={"vergelijkbaar": "GM0344", "codes": " ".join(codes + ["GM0074"]),
                                              "jaar": [2024]})
    assert over.status_code == 400 and "U koos 21 gebieden (waarvan 11 vergelijkbare gemeenten)" in over.text
    bad = client.get("/vergelijken", params={"vergelijkbaar": "Overvecht (WK034403)", "jaar": [2024]})
    assert bad.status_code == 404 and "Veld ‘vergelijkbaar’" in bad.text


def test_theme_and_chosen_indicators(client):
    base = {"gebied": ["utrecht-overvecht", "G4"], "jaar": [2016, 2020]}
    # one theme: exactly its indicators, in catalogue order (veiligheid: 6 in the catalogue)
    r = client.get("/vergelijken", params={**base, "thema": "veiligheid", "formaat": "csv-en"})
    inds = {line.split(",")[2] for line in r.text.splitlines()[1:]}
    # the catalogue's indicators (the API also lists the wijkindex and its domains, theme
    # "wijkindex", which Vergelijken does not offer: they have their own page)
    cat = {i["id"]: i["theme"] for i in client.get("/api/v1/indicators").json() if i["theme"] != "wijkindex"}
    assert inds == {i for i, t in cat.items() if t == "veiligheid"} and len(inds) == 6
    # two ticked indicators and the theme: the union
    r = client.get("/vergelijken", params={**base, "thema": "veiligheid", "indicator": ["roker_pct", "eenzaam_pct"],
                                           "formaat": "csv-en"})
    assert {line.split(",")[2] for line in r.text.splitlines()[1:]} == inds | {"roker_pct", "eenzaam_pct"}
    # only ticked ones: those two (and the page keeps them ticked)
    page = client.get("/vergelijken", params={**base, "indicator": ["roker_pct", "eenzaam_pct"]})
    assert set(re.findall(r'id="tabel-([a-z0-9_]+)"', page.text)) <= {"roker_pct", "eenzaam_pct"}
    assert 'value="roker_pct" id="i-roker_pct" checked' in page.text
    # none: all indicators (the download holds every catalogue indicator)
    r = client.get("/vergelijken", params={**base, "formaat": "csv-en"})
    assert {line.split(",")[2] for line in r.text.splitlines()[1:]} == set(cat)


@pytest.mark.parametrize("params,text", [({"thema": "sport"}, "Onbekend thema ‘sport’"),
                                          ({"indicator": "xx"}, "Onbekende indicator ‘xx’")])
def test_unknown_theme_or_indicator_is_a_dutch_404(client, params, text):
    r = client.get("/vergelijken", params={"gebied": "G4", "jaar": [2020], **params})
    assert r.status_code == 404 and text in r.text


def test_chart_median_of_the_group_needs_three_values():
    from wijkmonitor.web.compare import MEDIAN, _chart_values

    def cell(v):
        return dict(value=v, status="ok" if v is not None else "geheim")
    rows = [dict(year=2020, cells=[cell(10.0), cell(1.0), cell(5.0), cell(4.0)]),   # median of 1, 5, 4 = 4
            dict(year=2021, cells=[cell(11.0), cell(2.0), cell(None), cell(8.0)]),  # two values: none
            dict(year=2022, cells=[cell(None), cell(3.0), cell(6.0), cell(9.0)])]
    assert _chart_values(rows, MEDIAN, [1, 2, 3]) == {2020: 4.0, 2022: 6.0}
    assert _chart_values(rows, 0, []) == {2020: 10.0, 2021: 11.0}


def test_group_charts_show_the_gemeente_and_the_median(client):
    r = client.get("/vergelijken", params={"vergelijkbaar": "Utrecht", "codes": "utrecht-overvecht",
                                           "jaar": [2020, 2024], "indicator": "woz_gemiddeld"})
    assert r.status_code == 200
    title = re.search(r'<title id="vgl-woz_gemiddeld-t">([^<]+)</title>', r.text).group(1)
    assert title == "Gemiddelde WOZ-waarde: Utrecht, Mediaan van de 10 vergelijkbare gemeenten, Utrecht Overvecht"
