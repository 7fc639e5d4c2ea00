"""Interactive maps (issue 17, item 1), without a browser: which polygons a map draws, the
GeoJSON of ``/api/v1/kaart/...``, the fixed Leefbaarometer legend and the SVG fallback.

Expected values come from the raw files (the Amsterdam crosswalk CSV read with the csv module,
the README spot checks of cbs-geometries) or are written out by hand.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
import shapely

from wijkmonitor import geometries
from wijkmonitor.web import maps, svg

AMS_CSV = ("cbs-kwb-steden", "amsterdam-2020-2024-buurt", "buurten.csv")
LBM_COLOURS = {1: "#a50026", 5: "#fee08b", 9: "#1a9850"}


def _crosswalk(data_dir) -> list[dict]:
    with open(data_dir.joinpath(*AMS_CSV), encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


# ---------------------------------------------------------------------------------------
# Polygons
# ---------------------------------------------------------------------------------------

def test_amsterdam_buurten_from_the_crosswalk(data_dir):
    rows = _crosswalk(data_dir)
    assert len(rows) == 439
    new = geometries.amsterdam_buurten(2022)
    old = geometries.amsterdam_buurten(2020)
    assert sorted(new["code"]) == sorted(r["BUURTCODE_CBS_2022"] for r in rows)
    assert sorted(old["code"]) == sorted(r["BUURTCODE_CBS_2015"] for r in rows)
    # README spot check: BU03630000 Kop Zeedijk became BU0363AE01, one polygon for both
    a = new.set_index("code").loc["BU0363AE01"]
    b = old.set_index("code").loc["BU03630000"]
    assert a["name"] == "Kop Zeedijk" and b["name"] == "Kop Zeedijk"
    assert a.geometry.equals(b.geometry)
    # the polygon, reprojected to WGS84, contains the lat/lon the file gives for that buurt
    row = next(r for r in rows if r["BUURTCODE_CBS_2022"] == "BU0363AE01")
    wgs = geometries.amsterdam_buurten(2022, crs=geometries.WGS84).set_index("code").loc["BU0363AE01"]
    assert wgs.geometry.contains(shapely.Point(float(row["longitude"]), float(row["latitude"])))


def test_wijk_layers_2016_and_2024(data_dir):
    w24 = geometries.load(2024, "wijk")
    # README: 3,475 features including WK099899 "Buitenland", which is not a region
    assert len(w24) == 3474 and "WK099899" not in set(w24["code"])
    wgs = geometries.load(2024, "wijk", crs=geometries.WGS84).set_index("code")
    # README spot checks: (4.90, 52.37) in WK0363AF Nieuwmarkt/Lastage, (5.115, 52.118) in Overvecht
    assert wgs.loc["WK0363AF"].geometry.contains(shapely.Point(4.90, 52.37))
    assert wgs.loc["WK034403"].geometry.contains(shapely.Point(5.115, 52.118))
    w16 = geometries.load(2016, "wijk", crs=geometries.WGS84).set_index("code")
    assert w16.loc["WK034403", "name"] == "Wijk 03 Overvecht"
    assert w16.loc["WK034403"].geometry.contains(shapely.Point(5.115, 52.118))


def test_choose_layer_prefers_the_data_year_then_the_nearest():
    w16 = set(geometries.load(2016, "wijk")["code"])
    rotterdam = sorted(c for c in w16 if c.startswith("WK0599"))
    assert maps.choose_layer("wijk", 2016, rotterdam, "GM0599") == maps.MapLayer("cbs", 2016, "wijk")
    assert maps.choose_layer("wijk", 2024, ["WK0363AF"], "GM0363") == maps.MapLayer("cbs", 2024, "wijk")
    # 2015 is one year from 2014 and one from 2016: both are candidates, the codes decide
    only_2014 = sorted(set(geometries.load(2014, "wijk")["code"]) - w16)[:5]
    assert maps.choose_layer("wijk", 2015, only_2014) == maps.MapLayer("cbs", 2014, "wijk")
    # buurten: 2014 is the only CBS year; the note says so and names both years
    layer = maps.choose_layer("buurt", 2020, ["BU05990110"], "GM0599")
    assert layer == maps.MapLayer("cbs", 2014, "buurt")
    note = layer.note(2020)
    assert "2014" in note and "2020" in note and "dichtstbijzijnde" in note


def test_amsterdam_buurt_maps_use_the_city_polygons_with_the_right_codes():
    assert maps.choose_layer("buurt", 2024, ["BU0363AE01", "BU0363AA01"], "GM0363") == \
        maps.MapLayer("amsterdam", 2022, "buurt")
    assert maps.choose_layer("buurt", 2020, ["BU03630000", "BU03630505"], "GM0363") == \
        maps.MapLayer("amsterdam", 2015, "buurt")
    note = maps.MapLayer("amsterdam", 2022, "buurt").note(2024)
    assert "gemeente Amsterdam" in note and "omzettabel" in note and "439" in note


# ---------------------------------------------------------------------------------------
# Classes
# ---------------------------------------------------------------------------------------

def _lbm_classes():
    return [SimpleNamespace(value=v, label=f"klasse {v}", colour=f"#0000{v:02d}") for v in range(1, 10)]


def test_fixed_classes_round_half_up_and_clamp():
    items = [dict(code=c, value=v) for c, v in
             [("a", 1.0), ("b", 1.49), ("c", 1.5), ("d", 8.5), ("e", 9.0), ("f", 0.2), ("g", 11), ("h", None)]]
    out = svg.classify(items, decimals=0, classes=_lbm_classes())
    fill = out["fill"]
    assert fill["a"] == "#000001" and fill["b"] == "#000001"
    assert fill["c"] == "#000002"          # 1.5 rounds up, not to even
    assert fill["d"] == "#000009" and fill["e"] == "#000009"
    assert fill["f"] == "#000001" and fill["g"] == "#000009"   # outside 1-9: the end class
    assert fill["h"] is None
    assert out["fixed"] is True and out["edges"] == []
    counts = {label: n for _, label, n in out["legend"]}
    assert counts["1 klasse 1"] == 3 and counts["2 klasse 2"] == 1 and counts["9 klasse 9"] == 3
    assert counts["geen getoond cijfer (reden in de tabel)"] == 1
    assert [label for _, label, _ in out["legend"]][:9] == [f"{v} klasse {v}" for v in range(1, 10)]


def test_quantile_classes_stay_for_other_indicators():
    items = [dict(code=str(i), value=float(i)) for i in range(10)]
    out = svg.classify(items, decimals=0)
    assert out["fixed"] is False and len(out["edges"]) == 6
    assert out["fill"]["0"] == svg.PALETTE[0] and out["fill"]["9"] == svg.PALETTE[-1]


def test_leefbaarometer_catalogue_declares_nine_fixed_classes():
    from wijkmonitor.catalogue import load_catalogue

    cl = load_catalogue()["leefbaarometer_klasse"].classes
    assert [c.value for c in cl] == list(range(1, 10))
    assert cl[0].label == "zeer onvoldoende" and cl[8].label == "uitstekend"
    for v, colour in LBM_COLOURS.items():
        assert cl[v - 1].colour == colour
    assert load_catalogue()["angst_depressie_pct"].classes is None


# ---------------------------------------------------------------------------------------
# API and pages
# ---------------------------------------------------------------------------------------

def test_amsterdam_buurt_map_geojson(client, data_dir):
    r = client.get("/api/v1/kaart/indicator/eengezinswoningen_pct",
                   params=dict(jaar=2024, niveau="buurt", gemeente="GM0363"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
    gj = r.json()
    rows = client.get("/api/v1/region-values", params=dict(indicator="eengezinswoningen_pct", period=2024,
                                                          level="buurt", gemeente="GM0363")).json()
    codes = {x["code"] for x in rows}
    assert len(codes) == 517
    in_csv = {r["BUURTCODE_CBS_2022"] for r in _crosswalk(data_dir)}
    drawn = {f["properties"]["code"] for f in gj["features"]}
    assert drawn == codes & in_csv and len(drawn) > 400
    assert len(codes - in_csv) == 78  # 517 buurten in 2024, 439 in the crosswalk
    assert set(gj["wijkmonitor"]["not_on_map"]) == codes - in_csv
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in gj["features"])
    meta = gj["wijkmonitor"]
    assert meta["layer_year"] == 2022 and "gemeente Amsterdam" in meta["note"]
    # lon/lat of Amsterdam
    assert 4.7 < gj["bbox"][0] < gj["bbox"][2] < 5.1 and 52.2 < gj["bbox"][1] < gj["bbox"][3] < 52.5
    by_code = {x["code"]: x for x in rows}
    for f in gj["features"]:
        p = f["properties"]
        assert p["href"] == f"/gebied/{p['code']}"
        src = by_code[p["code"]]
        if src["status"] == "ok":
            # eengezinswoningen: whole percentages, as on the page ("23 %")
            assert p["fill"] is not None and p["label"] == f"{round(src['value'])}\u00a0%", (p, src)
        else:
            assert p["fill"] is None and p["label"].startswith("—")


def test_leefbaarometer_map_uses_the_fixed_legend(client):
    params = dict(jaar=2016, niveau="wijk", gemeente="GM0599")
    gj = client.get("/api/v1/kaart/indicator/leefbaarometer_klasse", params=params).json()
    rows = client.get("/api/v1/region-values", params=dict(indicator="leefbaarometer_klasse", period=2016,
                                                          level="wijk", gemeente="GM0599")).json()
    value = {x["code"]: x["value"] for x in rows if x["status"] == "ok"}
    assert len(value) > 10
    meta = gj["wijkmonitor"]
    assert meta["fixed_classes"] is True
    assert [e["label"].split(" ", 1)[0] for e in meta["legend"][:9]] == [str(v) for v in range(1, 10)]
    seen = 0
    for f in gj["features"]:
        v = value.get(f["properties"]["code"])
        if v is not None:
            expect = LBM_COLOURS.get(int(v))
            if expect:
                assert f["properties"]["fill"] == expect, (f["properties"], v)
                seen += 1
    assert seen >= 1
    page = client.get("/indicator/leefbaarometer_klasse", params=params).text
    assert "1 zeer onvoldoende" in page and "9 uitstekend" in page and "vaste klassen" in page
    assert 'fill="#a50026"' in page  # legend swatch and SVG map in the same colours


def test_locator_geojson_marks_the_area_and_links_every_region(client):
    gj = client.get("/api/v1/kaart/gebied/utrecht-overvecht").json()
    area = client.get("/api/v1/areas/utrecht-overvecht").json()
    parts = {f["properties"]["code"] for f in gj["features"] if f["properties"]["part"]}
    assert parts and parts <= set(area["codes"])
    assert all(f["properties"]["href"] == "/gebied/" + f["properties"]["code"] for f in gj["features"])
    assert all(f["properties"]["code"].startswith("WK0344") for f in gj["features"])
    ams = client.get("/api/v1/kaart/gebied/BU0363AE01").json()
    assert ams["wijkmonitor"]["layer_year"] == 2022
    assert [f["properties"]["code"] for f in ams["features"] if f["properties"]["part"]] == ["BU0363AE01"]


@pytest.mark.parametrize("url, status", [
    ("/api/v1/kaart/indicator/bestaat_niet?jaar=2020", 404),
    ("/api/v1/kaart/indicator/angst_depressie_pct?jaar=abc", 422),
    ("/api/v1/kaart/indicator/angst_depressie_pct", 422),
    ("/api/v1/kaart/indicator/angst_depressie_pct?jaar=2020&niveau=buurt", 422),
    ("/api/v1/kaart/indicator/angst_depressie_pct?jaar=2020&niveau=straat", 404),
    ("/api/v1/kaart/gebied/XX0000", 404),
    ("/api/v1/kaart/gebied/" + "a" * 300, 404),
])
def test_map_api_errors_are_json(client, url, status):
    r = client.get(url)
    assert r.status_code == status
    assert r.headers["content-type"].startswith("application/json") and "detail" in r.json()


@pytest.mark.parametrize("url", [
    "/indicator/eengezinswoningen_pct?niveau=buurt&gemeente=GM0363&jaar=2024",
    "/indicator/leefbaarometer_klasse?niveau=wijk&gemeente=GM0599&jaar=2016",
    "/gebied/WK0363AF",
    "/gebied/utrecht-overvecht",
])
def test_map_pages_keep_the_svg_and_need_no_inline_code(client, url):
    html = client.get(url).text
    # the interactive map is hidden until the script draws it; the SVG stays as fallback
    m = re.search(r'<div class="wm-kaart[^"]*" data-wm-kaart="([^"]+)"[^>]*\bhidden>', html)
    assert m, url
    assert re.search(r'<div class="wm-kaart-svg"><svg [^>]*class="wm-map', html)
    src = m.group(1).replace("&amp;", "&")
    assert client.get(src).status_code == 200
    maplibre = '<script src="/static/vendor/maplibre-gl/maplibre-gl.js" defer></script>'
    if url.startswith("/gebied/"):
        # area pages load the interactive map on request (page-weight budget, issue 17.7):
        # no MapLibre script and no GeoJSON preload; kaart.js loads the marked script on click
        assert 'rel="preload"' not in html
        assert not re.search(r"<script[^>]*maplibre", html)
        assert 'data-wm-op-verzoek="/static/vendor/maplibre-gl/maplibre-gl.js"' in html
        assert client.get("/static/vendor/maplibre-gl/maplibre-gl.js").status_code == 200
    else:
        assert f'<link rel="preload" href="{m.group(1)}" as="fetch"' in html
        assert maplibre in html
        assert "data-wm-op-verzoek" not in html
    assert '<script src="/static/kaart.js" defer></script>' in html
    # nothing a strict Content-Security-Policy would block
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert not re.search(r'\sstyle="', html)
    assert not re.search(r"\son[a-z]+=", html)
    assert "Grenzen" in html


def test_vendored_maplibre_is_the_pinned_npm_version():
    import json
    from pathlib import Path

    from wijkmonitor.web import app

    root = Path(app.__file__).resolve().parents[3]
    pin = json.loads((root / "frontend" / "package.json").read_text())["dependencies"]["maplibre-gl"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", pin)
    vendor = Path(app.HERE) / "static" / "vendor"
    assert f"maplibre-gl@{pin} " in (vendor / "VERSIONS.txt").read_text()
    js = (vendor / "maplibre-gl" / "maplibre-gl.js").read_text(encoding="utf-8")
    assert f"v{pin}/LICENSE.txt" in js[:400]
    assert (vendor / "maplibre-gl" / "LICENSE.txt").is_file()


def test_catalogue_rejects_bad_map_classes(tmp_path):
    from wijkmonitor.catalogue import CatalogueError, load_indicator

    src = Path(__file__).resolve().parents[2] / "src/wijkmonitor/catalogue/indicators/leefbaarometer_klasse.yaml"
    text = src.read_text(encoding="utf-8")
    bad_colour = tmp_path / "leefbaarometer_klasse.yaml"
    bad_colour.write_text(text.replace("colour: '#a50026'", "colour: rood"), encoding="utf-8")
    with pytest.raises(CatalogueError) as exc:
        load_indicator(bad_colour)
    assert exc.value.field == "classes.0.colour"
    bad_order = tmp_path / "sub"
    bad_order.mkdir()
    (bad_order / "leefbaarometer_klasse.yaml").write_text(
        text.replace("{value: 1, label: zeer onvoldoende", "{value: 3, label: zeer onvoldoende"), encoding="utf-8")
    with pytest.raises(CatalogueError, match="oplopen en uniek"):
        load_indicator(bad_order / "leefbaarometer_klasse.yaml")


def test_no_buurt_map_says_why(client):
    """GM1963 Hoeksche Waard (merged 2019): its buurt codes of 2024 are all newer than the 2014
    buurt polygons and none of its buurt names is that of a 2014 buurt (2024 "Oud-Beijerland
    Centrum", 2014 "Centrum"): no map, and the page says which boundaries exist instead of
    drawing nothing silently. (GM0090 Smallingerland, the example before the links on name and
    location, has a map now: tests/web/test_maps_koppeling.py.)"""
    params = dict(jaar=2024, niveau="buurt", gemeente="GM1963")
    rows = client.get("/api/v1/region-values", params=dict(indicator="eengezinswoningen_pct", period=2024,
                                                          level="buurt", gemeente="GM1963")).json()
    assert len(rows) > 20
    gj = client.get("/api/v1/kaart/indicator/eengezinswoningen_pct", params=params).json()
    assert gj["features"] == [] and sorted(gj["wijkmonitor"]["not_on_map"]) == sorted(r["code"] for r in rows)
    page = client.get("/indicator/eengezinswoningen_pct", params=params).text
    assert "Geen kaart: geen van deze buurten komt voor" in page and "indeling 2014" in page
    assert "Ook op naam en ligging is geen van deze buurten aan een buurt van 2014 gekoppeld" in page
    assert "data-wm-kaart" not in page
