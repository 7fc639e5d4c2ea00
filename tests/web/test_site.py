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
    ("/wijkindex?niveau=wijk&jaar=2024", ["Wijkindex", "onderste deciel", "90%-interval"]),
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
    # issue 15 added the class "onzeker" (niet te zeggen)
    classes = ["kleiner", "groter", "gelijk", "onzeker", "beter dan referentie", "te weinig waarnemingen"]
    for row in api:
        assert sum(row[c] for c in classes) == row["n_areas"] == 20
    csv = pd.read_csv(io.BytesIO(client.get("/", params=dict(programma="nplv", basisjaar=2012, laatstejaar=2024,
                                                             formaat="csv-en")).content))
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
    csv = pd.read_csv(io.BytesIO(client.get("/gebied/utrecht-overvecht", params=dict(formaat="csv-en")).content))
    row = csv[csv["indicator"] == "angst_depressie_pct"].iloc[0]
    assert row["period"] == 2020 and row["value"] == pytest.approx(v["value"])


def test_vergelijken_downloads_equal_api(client):
    params = [("gebied", "utrecht-overvecht"), ("gebied", "rotterdam-zuid"), ("jaar", "2016"), ("jaar", "2020")]
    html = client.get("/vergelijken", params=params)
    assert html.status_code == 200 and "Download deze vergelijking" in html.text
    frames = {}
    # csv-en and parquet keep the stable ids; the Dutch CSV and the XLSX have Dutch headers
    for fmt in ("csv-en", "csv", "xlsx", "parquet"):
        body = client.get("/vergelijken", params=params + [("formaat", fmt)]).content
        frames[fmt] = (pd.read_csv(io.BytesIO(body)) if fmt == "csv-en" else
                       pd.read_csv(io.BytesIO(body), sep=";", decimal=",", encoding="utf-8-sig") if fmt == "csv" else
                       pd.read_excel(io.BytesIO(body), engine="openpyxl") if fmt == "xlsx" else pd.read_parquet(io.BytesIO(body)))
    csv = frames["csv-en"]
    assert set(csv["unit"]) == {"utrecht-overvecht", "rotterdam-zuid"} and set(csv["period"]) == {2016, 2020}
    for fmt, col in (("xlsx", "waarde"), ("csv", "waarde"), ("parquet", "value")):
        pd.testing.assert_series_equal(frames[fmt][col].astype(float), csv["value"].astype(float),
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
    for fmt in ("csv-en", "geojson"):
        body = client.get(f"/indicator/{s['indicator']}", params=params | dict(formaat=fmt)).content
        if fmt == "csv-en":
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
    res = client.get("/zoeken", params=dict(q="Utrecht", formaat="csv-en")).content
    df = pd.read_csv(io.BytesIO(res))
    assert {"gemeente", "NPLV-focusgebied"} <= set(df["kind"])
    assert "GM0344" in set(df["id"])
    assert "BU03440343" in client.get("/zoeken", params=dict(q="BU03440343")).text


# ---------------------------------------------------------------------------------------
# What a reader needs to trust a page: why a number is missing, where am I, links down
# ---------------------------------------------------------------------------------------

def _cells(html: str, cls: str = "utrecht-table__cell--numeric") -> list[str]:
    return re.findall(rf'<td class="utrecht-table__cell {cls}">(.*?)</td>', html, re.S)


def test_numbers_are_in_dutch_notation(client):
    for url in ("/gebied/utrecht-overvecht", "/gebied/GM0344", "/indicator/angst_depressie_pct",
                "/vergelijken?gebied=utrecht-overvecht&gebied=G4&jaar=2016&jaar=2020"):
        cells = [re.sub(r"<[^>]+>", "", c) for c in _cells(client.get(url).text)]
        numbers = [c for c in cells if re.search(r"\d", c)]
        assert len(numbers) > 20, url
        english = [c for c in numbers if re.search(r"\d\.\d{1,2}(?!\d)", c)]
        assert english == [], (url, english[:5])
        assert any(re.search(r"\d,\d", c) for c in numbers), url


def test_every_missing_value_says_why(client):
    """Every dash in a table carries a status, and each status is explained on the page."""
    from wijkmonitor.web.data import REASONS

    for url in ("/gebied/utrecht-overvecht", "/gebied/BU03440343",
                "/vergelijken?gebied=utrecht-overvecht&gebied=rotterdam-zuid&jaar=2016&jaar=2020"):
        html = client.get(url).text
        shown = re.findall(r'<span class="wm-missing">— <span class="wm-reason">([^<]+)</span>', html)
        assert shown, url
        assert set(shown) <= set(REASONS) - {"ok"}, url
        legend = html.split('class="wm-reasons"', 1)[1].split("</dl>", 1)[0]
        for status in set(shown):
            assert f"<dt>{status}</dt>" in legend, (url, status)
            assert REASONS[status].split(": ", 1)[1] in legend, (url, status)


def test_class_te_weinig_waarnemingen_says_which_number_is_missing(client):
    html = client.get("/gebied/utrecht-overvecht").text
    overview = html.split('id="cap-overzicht"', 1)[1].split("</table>", 1)[0]
    tiny = re.findall(r'wm-class--te-weinig-waarnemingen">te weinig waarnemingen</span>'
                      r'(<span class="wm-why">([^<]+)</span>)?', overview)
    assert tiny, "Overvecht has indicators without a measurable development"
    assert all(why for _, why in tiny), "every 'te weinig waarnemingen' in the overview has a reason"
    assert any("alleen cijfers voor" in why or "geen cijfer voor" in why for _, why in tiny)
    # and the download says the same
    csv = pd.read_csv(io.BytesIO(client.get("/gebied/utrecht-overvecht", params=dict(formaat="csv-en")).content))
    few = csv[csv["class"] == "te weinig waarnemingen"]
    assert len(few) and few["class_reason"].notna().all()


def test_gap_sentence_uses_the_api_gap(client):
    gap = client.get("/api/v1/gaps", params=dict(areas="utrecht-overvecht", baseline=2012, latest=2024,
                                                  indicator="ervaren_gezondheid_pct")).json()[0]
    assert gap["class"] in ("kleiner", "groter", "gelijk")
    html = client.get("/gebied/utrecht-overvecht").text
    section = html.split('id="ind-ervaren_gezondheid_pct"', 1)[1].split("</section>", 1)[0]
    assert (f"{nl_gap(gap['gap_baseline'], 1, '%')} in {gap['baseline_year']}" in section
            and f"{nl_gap(gap['gap_latest'], 1, '%')} in {gap['latest_year']}" in section)


def test_every_chart_point_is_in_its_table(client):
    """The table next to a trend chart is its full alternative: each plotted point (unit, year,
    value) is a cell of that table."""
    html = client.get("/gebied/utrecht-overvecht").text
    sections = re.findall(r'<section class="wm-indicator" id="ind-([^"]+)".*?</section>', html, re.S)
    assert len(sections) > 30
    checked = 0
    for sec in re.findall(r'<section class="wm-indicator".*?</section>', html, re.S):
        heads = re.findall(r'<th scope="col" class="utrecht-table__header-cell utrecht-table__header-cell--numeric">'
                           r'([^<]+)</th>', sec)
        rows = {}
        for year, body in re.findall(r'<tr class="utrecht-table__row"><th scope="row" class="utrecht-table__header-cell">'
                                     r'(\d{4})</th>(.*?)</tr>', sec, re.S):
            # the 95 % interval after a value (issue 15) is not part of the plotted number
            rows[year] = [re.sub(r"<[^>]+>", "", re.sub(r'<span class="wm-interval".*?</span>', "", c))
                          .replace(" s", "").strip() for c in _cells(body)]
        for label, year, value in re.findall(r"<circle [^>]*><title>(.+?) (\d{4}): ([^<]+)</title>", sec):
            col = heads.index(label.replace("&amp;", "&"))
            number = value.replace("&amp;", "&").split("\u00a0")[0]  # the unit is in the table's caption
            assert rows[year][col].split("\u00a0")[0] == number, (label, year, value, rows.get(year))
            checked += 1
    assert checked > 200


def test_breadcrumb_and_links_down_the_hierarchy(client):
    buurt = client.get("/gebied/BU03440343").text
    crumb = buurt.split('aria-label="Kruimelpad"', 1)[1].split("</nav>", 1)[0]
    assert re.findall(r'href="([^"]+)"', crumb) == ["/", "/gebied/GM0344", "/gebied/WK034403"]
    assert 'aria-current="page">Poldergebied Overvecht<' in crumb
    gm = client.get("/gebied/GM0344").text
    assert 'href="/gebied/WK034403"' in gm.split('id="onderdelen"', 1)[1]
    assert 'href="/gebied/utrecht-overvecht"' in gm.split('id="onderdelen"', 1)[1]
    wijk = client.get("/gebied/WK034403").text.split('id="onderdelen"', 1)[1]
    assert 'href="/gebied/BU03440343"' in wijk and "Poldergebied Overvecht" in wijk
    area = client.get("/gebied/utrecht-overvecht").text
    assert 'href="/gebied/WK034403">Wijk 03 Overvecht</a>' in area
    ind = client.get("/indicator/eenzaam_pct").text
    assert re.findall(r'href="([^"]+)"', ind.split('aria-label="Kruimelpad"', 1)[1].split("</nav>", 1)[0]) \
        == ["/", "/indicatoren"]


def test_start_page_explains_indicators_without_a_development(client):
    api = client.get("/api/v1/outcome", params=dict(programme="nplv", baseline=2012, latest=2024)).json()
    html = client.get("/", params=dict(programma="nplv", basisjaar=2012, laatstejaar=2024)).text
    main, rest = html.split('id="cap-outcome"', 1)[1].split("</table>", 1)
    unmeasured = rest.split('id="cap-niet-te-meten"', 1)[1].split("</table>", 1)[0] if "cap-niet-te-meten" in rest else ""
    for row in api:
        link = f'href="/indicator/{row["indicator"]}"'
        all_few = row["te weinig waarnemingen"] == row["n_areas"]
        assert (link in unmeasured) == all_few and (link in main) != all_few, row["indicator"]
    assert any(r["te weinig waarnemingen"] == r["n_areas"] for r in api)
    reasons = re.findall(r'<td class="utrecht-table__cell">([^<]*(?:gebieden|cijfer)[^<]*)</td>', unmeasured)
    assert len(reasons) == sum(r["te weinig waarnemingen"] == r["n_areas"] for r in api)
    assert "Gegevens bijgewerkt: " in html and not re.search(r"bijgewerkt: \d{4}-\d\d-\d\dT", html)


def test_indicator_map_legend_counts_and_rule(client):
    params = dict(niveau="buurt", gemeente="GM0344", jaar=2020)
    html = client.get("/indicator/angst_depressie_pct", params=params).text
    legend = html.split('id="legenda"', 1)[1].split("</div>", 1)[0]
    counts = [int(n) for n in re.findall(r'<span class="wm-count">\((\d+)\)</span>', legend)]
    api = client.get("/api/v1/region-values", params=dict(indicator="angst_depressie_pct", period=2020,
                                                           level="buurt", gemeente="GM0344")).json()
    assert sum(counts) == len(api) > 50
    assert counts[-1] == sum(r["status"] != "ok" for r in api) > 0, "the legend counts the regions without a value"
    assert "kwintielen" in legend and "hoger is slechter" in legend
    body = html.split('id="cap-regios"', 1)[1].split("<tbody", 1)[1].split("</tbody>", 1)[0]
    rows = body.count('<tr class="utrecht-table__row">')
    assert rows == len(api)


def test_indicator_page_without_figures_says_where_there_are(client):
    html = client.get("/indicator/angst_depressie_pct", params=dict(niveau="wijk", jaar=2024)).text
    assert "Geen cijfers voor wijken" in html and 'id="cap-regios"' not in html
    assert 'href="/indicator/angst_depressie_pct?niveau=wijk&amp;jaar=2020' in html


def test_gebied_map_downloads_as_geojson(client):
    import json

    body = client.get("/gebied/utrecht-overvecht", params=dict(tabel="kaart", formaat="geojson")).content
    feats = json.loads(body)["features"]
    part = [f for f in feats if f["properties"]["part_of_area"]]
    assert [f["properties"]["code"] for f in part] == ["WK034403"]
    assert part[0]["geometry"]["type"] in ("Polygon", "MultiPolygon")
    lon, lat = part[0]["geometry"]["coordinates"][0][0][:2] if part[0]["geometry"]["type"] == "Polygon" \
        else part[0]["geometry"]["coordinates"][0][0][0][:2]
    assert 5.0 < lon < 5.3 and 52.0 < lat < 52.2, "WGS84 around Utrecht"
    csv = pd.read_csv(io.BytesIO(client.get("/gebied/utrecht-overvecht", params=dict(tabel="kaart", formaat="csv-en")).content))
    assert len(csv) == len(feats) and csv["part_of_area"].sum() == 1


def test_vergelijken_lists_indicators_without_any_figure(client):
    params = [("gebied", "utrecht-overvecht"), ("gebied", "rotterdam-zuid"), ("jaar", "2016"), ("jaar", "2020")]
    html = client.get("/vergelijken", params=params).text
    csv = pd.read_csv(io.BytesIO(client.get("/vergelijken", params=params + [("formaat", "csv-en")]).content))
    has_value = csv.groupby("indicator")["value"].apply(lambda s: s.notna().any())
    table = html.split('id="cap-vergelijking"', 1)[1].split("</table>", 1)[0]
    empty = html.split('id="zonder-cijfers"', 1)[1].split("</ul>", 1)[0]
    for ind, any_value in has_value.items():
        link = f'href="/indicator/{ind}"'
        assert (link in table) == any_value and (link in empty) != any_value, ind
    assert "wel cijfers in" in empty


def test_house_style_from_environment(client, tmp_path, monkeypatch):
    html = client.get("/over").text
    assert "/huisstijl.css" not in html and client.get("/huisstijl.css").status_code == 404
    css = tmp_path / "huisstijl.css"
    css.write_text(".wm-theme { --wm-brand: #c4002f; }\n", encoding="utf-8")
    monkeypatch.setenv("WIJKMONITOR_THEME_CSS", str(css))
    monkeypatch.setenv("WIJKMONITOR_THEME_CLASS", "gemeente-theme")
    html = client.get("/over").text
    assert '<link rel="stylesheet" href="/huisstijl.css">' in html
    assert html.index("/static/site.css") < html.index("/huisstijl.css"), "loaded after the site's own styles"
    assert re.search(r'<body class="[^"]*\bgemeente-theme\b', html)
    r = client.get("/huisstijl.css")
    assert r.status_code == 200 and "--wm-brand: #c4002f" in r.text and r.headers["content-type"].startswith("text/css")


@pytest.mark.parametrize("unit", ["rotterdam-zuid", "WK034403"])
def test_overview_shows_a_figure_whenever_the_unit_has_one(client, unit):
    """A row of the overview is never a dash when the unit has a shown value in some year: it
    then shows the latest such year (the gap columns carry their own years)."""
    api = pd.DataFrame(client.get("/api/v1/values", params=dict(unit=unit)).json())
    ok = api[api["status"] == "ok"].groupby("indicator")["period"].apply(set)
    csv = pd.read_csv(io.BytesIO(client.get(f"/gebied/{unit}", params=dict(formaat="csv-en")).content)).set_index("indicator")
    assert len(ok) > 10
    for ind, years in ok.items():
        if ind in csv.index:
            assert csv.loc[ind, "status"] == "ok" and csv.loc[ind, "period"] in years, (unit, ind)


def test_borrowed_region_name_says_its_year(client, real_store):
    """2020 buurten get their name from the nearest year that names them; the table says so."""
    con = duckdb.connect(str(real_store), read_only=True)
    try:
        code, name, name_year = con.execute("""
            SELECT r.code, r.name, r.name_year FROM regions r
            JOIN indicator_values v ON v.region_code = r.code AND v.geo_year = r.year
            WHERE r.year = 2020 AND r.level = 'buurt' AND r.gemeente_code = 'GM0344'
              AND r.name_year <> r.year AND v.indicator = 'ervaren_gezondheid_pct' AND v.period = 2020
            ORDER BY r.code LIMIT 1""").fetchone()
    finally:
        con.close()
    html = client.get("/indicator/ervaren_gezondheid_pct",
                      params=dict(niveau="buurt", gemeente="GM0344", jaar=2020)).text
    row = re.search(rf'<tr class="utrecht-table__row">(?:(?!</tr>).)*?{code}(?:(?!</tr>).)*</tr>', html, re.S)
    assert row and name in row.group(0) and f"(naam {name_year})" in row.group(0)
    # a name of the figure's own year has no note
    own = re.findall(r'\(naam 2020\)', html)
    assert not own
    regions = client.get("/api/v1/regions", params=dict(q=code, year=2020)).json()
    assert regions[0]["name"] == name and regions[0]["name_year"] == name_year


def test_a_web_session_exits_cleanly(real_store):
    """DuckDB objects left in garbage cycles until the interpreter's finalization made the
    process abort at exit (status 134) and the bindings print leaks; the web layer collects
    them at exit."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from fastapi.testclient import TestClient\n"
        "from wijkmonitor.web.app import create_app\n"
        "with TestClient(create_app(sys.argv[1])) as c:\n"
        "    assert c.get('/indicator/ervaren_gezondheid_pct',\n"
        "                 params=dict(niveau='buurt', gemeente='GM0344', jaar=2020)).status_code == 200\n"
        "    assert c.get('/api/v1/value/GM0363/inwoners/2024').status_code == 200\n")
    proc = subprocess.run([sys.executable, "-c", script, str(real_store)], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "terminate called" not in proc.stderr and "leaked" not in proc.stderr, proc.stderr[-2000:]
