"""Buurt maps of gemeenten that merged or recoded since 2014 (issue 17): later buurt codes drawn
with the 2014 polygon of their namesake where name and location agree (real data).

Expected values come from the raw files, read here without :mod:`wijkmonitor.geometries`:
the 2014 buurt TopoJSON (names and codes with the json module, polygons with GDAL), the 2024
wijk GeoJSON (json + shapely), and the list of buurt codes of 2024 in the store (the KWB 2024).
The links checked by hand are of merged gemeenten: Land van Cuijk (Grave), Maashorst (Uden),
Westerkwartier (Grootegast), Het Hogeland (De Marne), Dijk en Waard (Langedijk) and
Súdwest-Fryslân (Littenseradiel).
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
import shapely

from wijkmonitor.web import maps
from wijkmonitor.web.data import WebStore

GEO = "cbs-geometries"
#: new code -> (name in both years, 2014 code): checked by hand in the raw files
HAND = {
    "BU19820201": ("Binnenstad-Grave", "BU07860000"),     # Land van Cuijk <- Grave
    "BU19910101": ("Centrum", "BU08560101"),              # Maashorst <- Uden (46 "Centrum"s in 2014)
    "BU19690000": ("Grootegast", "BU00150000"),           # Westerkwartier <- Grootegast
    "BU19660103": ("Ulrum", "BU16630000"),                # Het Hogeland <- De Marne
    "BU19801302": ("Recreatiebuurt", "BU03980602"),       # Dijk en Waard <- Langedijk
    "BU19002001": ("Wommels", "BU01400000"),              # Súdwest-Fryslân <- Littenseradiel
}
#: gemeenten of 2024 whose buurt map draws nothing without the links and something with them
NEWLY_MAPPED_2024 = {
    "GM0090", "GM0317", "GM0384", "GM0502", "GM0553", "GM0579", "GM0597", "GM0772", "GM0855",
    "GM0995", "GM1723", "GM1930", "GM1931", "GM1940", "GM1942", "GM1945", "GM1948", "GM1949",
    "GM1950", "GM1952", "GM1954", "GM1959", "GM1960", "GM1961", "GM1966", "GM1969", "GM1970",
    "GM1979", "GM1980", "GM1982", "GM1991", "GM1992",
}
#: ... and those still without a buurt map in 2024 (no namesake passes, e.g. GM1963 Hoeksche
#: Waard "Oud-Beijerland Centrum" vs 2014 "Centrum")
STILL_UNMAPPED_2024 = {
    "GM0289", "GM0362", "GM0376", "GM0417", "GM0473", "GM0523", "GM0534", "GM0590", "GM0687",
    "GM0715", "GM0743", "GM0744", "GM0847", "GM0893", "GM1721", "GM1963", "GM1978",
}
#: Smallingerland's 10 buurten of 2024 linked to a 2014 buurt (of 61)
SMALLINGERLAND = {"BU00900705", "BU00902109", "BU00902110", "BU00902114", "BU00902202",
                  "BU00902212", "BU00902215", "BU00902216", "BU00902308", "BU00902311"}


@pytest.fixture(scope="module")
def ws(real_store):
    return WebStore(real_store)


@pytest.fixture(scope="module")
def raw14(data_dir):
    """The 2014 buurten as published: ``code -> (name, polygon in RD New)``."""
    path = data_dir / GEO / "Buurt_2014_layer_q1e3.json"
    frame = gpd.read_file(f"TopoJSON:{path}").set_crs("EPSG:4326", allow_override=True).to_crs("EPSG:28992")
    # "structure": shells unioned, holes cut, collapsed quantised parts dropped
    valid = shapely.make_valid(frame.geometry.to_numpy(), method="structure", keep_collapsed=False)
    return {c.strip(): (n, g) for c, n, g in zip(frame["statcode"], frame["statnaam"], valid)}


@pytest.fixture(scope="module")
def raw_wijken24(data_dir):
    """The 2024 wijken as published: ``code -> polygon in RD New``."""
    feats = json.loads((data_dir / GEO / "wijken_2024.geojson").read_text(encoding="utf-8"))["features"]
    frame = gpd.GeoDataFrame({"code": [f["properties"]["wijkcode"] for f in feats]},
                             geometry=[shapely.geometry.shape(f["geometry"]) for f in feats], crs="EPSG:4326")
    frame = frame.to_crs("EPSG:28992")
    return dict(zip(frame["code"], (shapely.make_valid(g) for g in frame.geometry)))


def test_hand_checked_links_of_merged_gemeenten(ws, raw14, raw_wijken24):
    table = maps.link_table(ws, 2024).set_index("code")
    for new, (name, old) in HAND.items():
        row = table.loc[new]
        assert (row["polygon_code"], row["method"]) == (old, "naam_ligging"), new
        assert row["name"] == name and raw14[old][0] == name
        # the 2014 polygon lies (>= 90 %) in the raw 2024 polygon of the buurt's wijk
        poly, wijk = raw14[old][1], raw_wijken24[row["wijk_code"]]
        assert poly.intersection(wijk).area / poly.area >= 0.9, new
    # Uden's "Centrum" is one of 46 of 2014: only the location picks it
    assert sum(n == "Centrum" for n, _ in raw14.values()) == 46


def test_a_namesake_outside_the_wijk_is_refused(ws, raw14, raw_wijken24):
    """BU19691204 Jonkersvaart (Westerkwartier): the 2014 Jonkersvaart (BU00250104, Marum) lies
    for only ~80 % in the 2024 wijk WK196912: not drawn, the reason says why."""
    row = maps.link_table(ws, 2024).set_index("code").loc["BU19691204"]
    poly = raw14["BU00250104"][1]
    share = poly.intersection(raw_wijken24["WK196912"]).area / poly.area
    assert 0.75 < share < 0.85 and row["inside"] == pytest.approx(share, abs=0.02)
    assert row["polygon_code"] is None and "ligt niet" in row["reason"]


def test_buurt_maps_of_2024_before_and_after(ws, data_dir, raw14, raw_wijken24):
    before = maps.buurt_map_coverage(ws, 2024, linked=False).set_index("gemeente")
    after = maps.buurt_map_coverage(ws, 2024).set_index("gemeente")
    assert len(before) == len(after) == 342
    # before, from the raw files: a gemeente has a map when one of its 2024 buurt codes is in
    # the 2014 TopoJSON (plus Amsterdam, drawn with the city's own polygons)
    raw_codes = json.loads((data_dir / GEO / "Buurt_2014_layer_q1e3.json").read_text(encoding="utf-8"))
    raw_codes = {g["properties"]["statcode"].strip() for g in raw_codes["objects"]["layer"]["geometries"]}
    regs = ws.df("SELECT code, gemeente_code FROM regions WHERE level = 'buurt' AND year = 2024")
    expected_before = set(regs.loc[regs["code"].isin(raw_codes), "gemeente_code"]) | {"GM0363"}
    assert len(expected_before) == 293
    assert set(before.index[before["drawn"] > 0]) == expected_before
    mapped = set(after.index[after["drawn"] > 0])
    assert mapped - expected_before == NEWLY_MAPPED_2024 and expected_before <= mapped
    assert set(after.index) - mapped == STILL_UNMAPPED_2024
    assert len(mapped) == 293 + 32 == 325
    # every newly mapped gemeente has a buurt whose name is, in the raw files, that of a 2014
    # buurt whose polygon lies for the most part in the gemeente's 2024 territory
    by_name: dict[str, list] = {}
    for name, poly in raw14.values():
        by_name.setdefault(name.strip().casefold(), []).append(poly)
    names = ws.df("SELECT name, gemeente_code FROM regions WHERE level = 'buurt' AND year = 2024")
    for gm in NEWLY_MAPPED_2024:
        land = shapely.union_all([g for c, g in raw_wijken24.items() if c[2:6] == gm[2:6]])
        found = [n for n in names.loc[names["gemeente_code"] == gm, "name"]
                 if any(land.contains(p.point_on_surface()) for p in by_name.get(n.strip().casefold(), [])
                        if not p.is_empty)]
        assert found, gm
    # buurten drawn in 2024: 7,862 of 14,574 before, 697 more with the links
    assert (int(before["drawn"].sum()), int(after["drawn"].sum()), int(after["linked"].sum()),
            int(after["buurten"].sum())) == (7862, 8559, 697, 14574)


def test_the_indicator_map_states_the_link(client):
    params = dict(jaar=2024, niveau="buurt", gemeente="GM0090")
    rows = client.get("/api/v1/region-values", params=dict(indicator="eengezinswoningen_pct", period=2024,
                                                          level="buurt", gemeente="GM0090")).json()
    assert len(rows) == 61
    gj = client.get("/api/v1/kaart/indicator/eengezinswoningen_pct", params=params).json()
    assert {f["properties"]["code"] for f in gj["features"]} == SMALLINGERLAND
    assert len(gj["wijkmonitor"]["not_on_map"]) == 51 and gj["wijkmonitor"]["layer_year"] == 2014
    note = gj["wijkmonitor"]["note"]
    assert "buurtgrenzen van 2014 (CBS), gekoppeld op naam en ligging; 10 van 61 buurten getekend" in note
    assert "minstens 90 %" in note
    page = client.get("/indicator/eengezinswoningen_pct", params=params).text
    assert "buurtgrenzen van 2014, gekoppeld op naam en ligging; 10 van 61 buurten getekend" in page
    assert "51 buurten zonder grenzen op deze kaart staan alleen in de tabel" in page
    assert page.count('<path d="') >= 10 and "Geen kaart" not in page


def test_the_gebied_page_of_a_linked_buurt_has_a_map(client):
    gj = client.get("/api/v1/kaart/gebied/BU00900705").json()
    parts = [f["properties"]["code"] for f in gj["features"] if f["properties"]["part"]]
    assert parts == ["BU00900705"]
    assert "gekoppeld op naam en ligging" in gj["wijkmonitor"]["note"]


def test_calibration_of_the_90_percent_rule(ws, raw14, raw_wijken24):
    """The figures in the comment of ``buurtkoppeling.MIN_INSIDE``, from the raw files: buurten
    with the same code and name in 2014 and 2024 (the same buurt by CBS's own code) and the
    share of their 2014 polygon inside their 2024 wijk."""
    regs = ws.df("SELECT code, name, wijk_code FROM regions WHERE level = 'buurt' AND year = 2024")
    shares = []
    for code, name, wijk in regs.itertuples(index=False):
        old = raw14.get(code)
        if old is None or old[1].is_empty or wijk not in raw_wijken24:
            continue
        if old[0].strip().casefold() != str(name).strip().casefold():
            continue
        shares.append(old[1].intersection(raw_wijken24[wijk]).area / old[1].area)
    shares = np.array(shares)
    assert len(shares) == 6071
    assert 0.90 <= np.median(shares) <= 0.94
    assert 0.50 <= (shares >= 0.9).mean() <= 0.60


def test_buurt_maps_of_2020_before_and_after(ws, data_dir):
    """The 2020 division (the figures of 2012-2020): no 2020 wijk polygons, so the location
    is checked against the gemeente polygon of 2020."""
    before = maps.buurt_map_coverage(ws, 2020, linked=False).set_index("gemeente")
    after = maps.buurt_map_coverage(ws, 2020).set_index("gemeente")
    raw = json.loads((data_dir / GEO / "Buurt_2014_layer_q1e3.json").read_text(encoding="utf-8"))
    raw_codes = {g["properties"]["statcode"].strip() for g in raw["objects"]["layer"]["geometries"]}
    regs = ws.df("SELECT code, gemeente_code FROM regions WHERE level = 'buurt' AND year = 2020")
    expected_before = set(regs.loc[regs["code"].isin(raw_codes), "gemeente_code"]) | {"GM0363"}
    assert len(before) == 355 and len(expected_before) == 317
    assert set(before.index[before["drawn"] > 0]) == expected_before
    assert (after["drawn"] > 0).sum() == 348 and expected_before <= set(after.index[after["drawn"] > 0])
    table = maps.link_table(ws, 2020)
    assert set(table.loc[table["method"] == "naam_ligging", "territory"]) == {"gemeente"}


def test_cli_lists_every_buurt_with_its_2014_polygon_or_the_reason(real_store):
    import io

    import pandas as pd
    from typer.testing import CliRunner

    from wijkmonitor.cli import app

    res = CliRunner().invoke(app, ["regions", "--koppeling", "2024", "--gemeente", "GM1980",
                                   "--format", "csv", "--store", str(real_store)])
    assert res.exit_code == 0, res.output
    df = pd.read_csv(io.StringIO(res.output), dtype=str)
    assert len(df) == 69 and df["code"].str.startswith("BU1980").all()
    row = df.set_index("code").loc["BU19801302"]  # Recreatiebuurt <- Langedijk's of 2014
    assert (row["polygon_code"], row["method"]) == ("BU03980602", "naam_ligging")
    assert df["polygon_code"].notna().sum() == 1
    assert df.loc[df["polygon_code"].isna(), "reason"].notna().all()
