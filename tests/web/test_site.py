"""Fast tests of the website and API with FastAPI's TestClient on the real built store."""

from __future__ import annotations

import io
import re

import duckdb
import pandas as pd
import pytest

from wijkmonitor.compute import STATUS_EXPLANATION
from wijkmonitor.web.format import nl_gap, nl_number, nl_value

NBSP = "\u00a0"


def test_dutch_number_notation():
    assert nl_value(78.44, 1, "%") == f"78,4{NBSP}%"
    assert nl_number(17942942, 0) == "17.942.942"
    assert nl_number(-0.04, 1) == "0,0"
    assert nl_value(None) == "—" and nl_value(float("nan")) == "—"
    assert nl_gap(-1.26, 1, "%") == f"−1,3{NBSP}procentpunt"
    assert nl_gap(0.01, 1, "%") == f"0,0{NBSP}procentpunt"
    assert nl_gap(3.2, 1, "%").startswith("+3,2")


@pytest.mark.parametrize("url, expect", [
    ("/", ["Outcomemonitor", "Kleiner", "Te weinig", "Utrecht Overvecht", "Basisjaar"]),
    ("/gebied/utrecht-overvecht", ["Utrecht Overvecht", "Eigen gemeente (Utrecht)", "Rest van Utrecht",
                                   "G4 (vier grote steden)", "Nederland", "<svg"]),
    ("/gebied/GM0344", ["Utrecht", "G4 (vier grote steden)", "<svg"]),
    ("/gebied/WK034403", ["Overvecht", "Eigen gemeente (Utrecht)"]),
    ("/gebied/BU03440343", ["Eigen gemeente (Utrecht)"]),
    ("/vergelijken", ["Jaren", "Utrecht Overvecht"]),
    ("/indicator/angst_depressie_pct", ["Hoog risico op angst of depressie", "Minimumbasis", "Legenda", "<svg"]),
    ("/indicatoren", ["Indicatoren"]),
    ("/zoeken?q=Overvecht", ["utrecht-overvecht", "WK034403"]),
    ("/over", ["Waarom een cijfer soms ontbreekt"]),
    ("/toegankelijkheid", ["WCAG 2.1"]),
    ("/bronnen", ["Bron: CBS", "CC BY 4.0", "RIVM", "Politie", "Leefbaarometer"]),
])
def test_every_page_type_renders_real_data(client, url, expect):
    r = client.get(url)
    assert r.status_code == 200, r.text[:500]
    assert '<html lang="nl"' in r.text
    for text in expect:
        assert text in r.text, (url, text)
    # no asset from outside the site
    assert not re.search(r'(src|href)="(https?:)?//', r.text.replace('href="http://127.0.0.1', ""))


def test_start_links_reach_every_page_type(client):
    html = client.get("/").text
    hrefs = set(re.findall(r'href="([^"#]+)', html))
    for prefix in ("/gebied/", "/vergelijken", "/indicatoren", "/indicator/", "/zoeken", "/over",
                   "/toegankelijkheid", "/bronnen", "/api/docs"):
        assert any(h.startswith(prefix) for h in hrefs), prefix


def test_unknown_area_is_404_in_dutch(client):
    r = client.get("/gebied/XX9999")
    assert r.status_code == 404 and "Niet gevonden" in r.text


def test_outcome_table_counts_match_api(client):
    api = client.get("/api/v1/outcome", params=dict(programme="nplv", baseline=2012, latest=2024)).json()
    assert len(api) > 20
    classes = ["kleiner", "groter", "gelijk", "beter dan referentie", "te weinig waarnemingen"]
    for row in api:
        assert sum(row[c] for c in classes) == row["n_areas"] == 20
    csv = pd.read_csv(io.BytesIO(client.get("/", params=dict(programma="nplv", basisjaar=2012, laatstejaar=2024,
                                                             formaat="csv")).content))
    assert csv.set_index("indicator")[classes].to_dict("index") == \
        {r["indicator"]: {c: r[c] for c in classes} for r in api}


def test_api_fields(client):
    inds = client.get("/api/v1/indicators").json()
    assert {"id", "name", "polarity", "unit", "min_base"} <= set(inds[0])
    area = client.get("/api/v1/areas/utrecht-overvecht").json()
    assert area["gemeente"] == "GM0344" and "WK034403" in area["codes"]
    assert [r["unit"] for r in area["references"]] == ["GM0344", "utrecht-overvecht~rest", "G4", "NL"]
    vals = client.get("/api/v1/values", params=dict(unit="utrecht-overvecht", indicator="angst_depressie_pct")).json()
    assert vals and {"unit", "indicator", "period", "value", "status", "reason"} <= set(vals[0])
    gaps = client.get("/api/v1/gaps", params=dict(areas="utrecht-overvecht", baseline=2012, latest=2020)).json()
    assert {"area", "indicator", "baseline_year", "latest_year", "value_baseline", "value_latest",
            "reference_baseline", "reference_latest", "gap_baseline", "gap_latest", "class", "rule"} <= set(gaps[0])
    spec = client.get("/api/openapi.json").json()
    for path in ("/api/v1/indicators", "/api/v1/areas", "/api/v1/regions", "/api/v1/values", "/api/v1/gaps"):
        assert path in spec["paths"]
    docs = client.get("/api/docs").text
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in docs and "cdn" not in docs.lower()
    assert client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200


def test_gebied_page_numbers_are_the_api_numbers(client):
    """The overview row of the area page shows the API value in Dutch notation."""
    v = client.get("/api/v1/value/utrecht-overvecht/angst_depressie_pct/2020").json()
    assert v["status"] == "ok"
    html = client.get("/gebied/utrecht-overvecht").text
    assert nl_value(v["value"], 1, "%") in html
    csv = pd.read_csv(io.BytesIO(client.get("/gebied/utrecht-overvecht", params=dict(formaat="csv")).content))
    row = csv[csv["indicator"] == "angst_depressie_pct"].iloc[0]
    assert row["period"] == 2020 and row["value"] == pytest.approx(v["value"])


def test_vergelijken_downloads_equal_api(client):
    params = [("gebied", "utrecht-overvecht"), ("gebied", "rotterdam-zuid"), ("jaar", "2016"), ("jaar", "2020")]
    html = client.get("/vergelijken", params=params)
    assert html.status_code == 200 and "Download deze vergelijking" in html.text
    frames = {}
    for fmt in ("csv", "xlsx", "parquet"):
        body = client.get("/vergelijken", params=params + [("formaat", fmt)]).content
        frames[fmt] = (pd.read_csv(io.BytesIO(body)) if fmt == "csv" else
                       pd.read_excel(io.BytesIO(body), engine="openpyxl") if fmt == "xlsx" else pd.read_parquet(io.BytesIO(body)))
    csv = frames["csv"]
    assert set(csv["unit"]) == {"utrecht-overvecht", "rotterdam-zuid"} and set(csv["period"]) == {2016, 2020}
    for fmt in ("xlsx", "parquet"):
        pd.testing.assert_series_equal(frames[fmt]["value"].astype(float), csv["value"].astype(float),
                                       check_names=False)
    api = pd.DataFrame(client.get("/api/v1/values", params=[("unit", "utrecht-overvecht"), ("unit", "rotterdam-zuid"),
                                                             ("period", 2016), ("period", 2020)]).json())
    merged = csv.merge(api, on=["unit", "indicator", "period"], how="left", suffixes=("", "_api"))
    shown = merged[merged["status"] == "ok"]
    assert len(shown) > 50
    assert (shown["value"] - shown["value_api"]).abs().max() < 1e-9
    # every row that is not shown says why and has no number
    hidden = csv[csv["status"] != "ok"]
    assert hidden["value"].isna().all() and hidden["reason"].notna().all()


@pytest.fixture(scope="module")
def secret_buurt(real_store):
    con = duckdb.connect(str(real_store), read_only=True)
    try:
        row = con.execute("""
            SELECT v.indicator, v.region_code, v.period, v.status, r.gemeente_code
            FROM indicator_values v JOIN regions r ON r.code = v.region_code AND r.year = v.geo_year
            WHERE v.status = 'geheim' AND r.level = 'buurt' AND v.geo_year = v.period
              AND r.gemeente_code = 'GM0344' ORDER BY 1, 2 LIMIT 1""").fetchone()
    finally:
        con.close()
    assert row, "the real data has secret buurt values in Utrecht"
    return dict(zip(["indicator", "code", "period", "status", "gemeente"], row))


def test_suppressed_value_is_never_shown(client, secret_buurt):
    s = secret_buurt
    v = client.get(f"/api/v1/value/{s['code']}/{s['indicator']}/{s['period']}").json()
    assert v["value"] is None and v["status"] == "geheim" and v["reason"] == STATUS_EXPLANATION["geheim"]
    params = dict(niveau="buurt", gemeente=s["gemeente"], jaar=s["period"])
    html = client.get(f"/indicator/{s['indicator']}", params=params).text
    row = re.search(rf'<tr class="utrecht-table__row">(?:(?!</tr>).)*?{s["code"]}(?:(?!</tr>).)*</tr>', html, re.S)
    assert row, "the secret buurt is listed with its reason"
    cell = row.group(0)
    assert "—" in cell and STATUS_EXPLANATION["geheim"] in cell
    assert not re.search(r">\s*-?\d+,\d", cell.split(s["code"], 1)[1]), "no number in the row"
    for fmt in ("csv", "geojson"):
        body = client.get(f"/indicator/{s['indicator']}", params=params | dict(formaat=fmt)).content
        if fmt == "csv":
            df = pd.read_csv(io.BytesIO(body))
            r = df[df["code"] == s["code"]].iloc[0]
            assert pd.isna(r["value"]) and r["status"] == "geheim"
        else:
            import json
            feats = json.loads(body)["features"]
            f = next(f for f in feats if f["properties"]["code"] == s["code"])
            assert f["properties"]["value"] is None and f["properties"]["status"] == "geheim"
            assert any(g["geometry"] for g in feats), "GeoJSON carries polygons"


def test_search_finds_gemeente_wijk_buurt_and_area(client):
    res = client.get("/zoeken", params=dict(q="Utrecht", formaat="csv")).content
    df = pd.read_csv(io.BytesIO(res))
    assert {"gemeente", "NPLV-focusgebied"} <= set(df["kind"])
    assert "GM0344" in set(df["id"])
    assert "BU03440343" in client.get("/zoeken", params=dict(q="BU03440343")).text
