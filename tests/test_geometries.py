"""Region polygons from the real mirror (cbs-geometries)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely

from wijkmonitor import geometries


def test_every_layer_loads_valid_in_rd_new():
    for year, level in geometries.available():
        frame = geometries.load(year, level)
        assert list(frame.columns) == geometries.GEOMETRY_COLUMNS
        assert frame.crs == geometries.RD_NEW
        assert frame["code"].is_unique
        assert frame.geometry.is_valid.all(), (year, level)
        assert set(frame.geom_type[~frame.geometry.is_empty]) <= {"Polygon", "MultiPolygon"}
        # RD New extent of the Netherlands (metres)
        x0, y0, x1, y1 = frame.total_bounds
        assert 0 < x0 < x1 < 300_000 and 280_000 < y0 < y1 < 630_000


def test_counts_and_pseudo_regions():
    assert len(geometries.load(2014, "buurt")) == 11_691
    assert len(geometries.load(2014, "wijk")) == 2_738
    assert len(geometries.load(2012, "gemeente")) == 415  # 416 features minus GM9999 (enclaves)
    g24 = geometries.load(2024, "gemeente")
    assert len(g24) == 342 and "GM0998" not in set(g24["code"])
    assert g24.set_index("code").loc["GM0363", "name"] == "Amsterdam"


def test_regions_without_polygon_are_reported_not_dropped():
    # 1,116 buurten of 2014 collapse to zero area in the quantised layer: kept, listed
    empty = geometries.empty_polygons(2014, "buurt")
    assert len(empty) == 1_116
    frame = geometries.load(2014, "buurt")
    assert set(empty) <= set(frame["code"])
    # a code list with codes the layer lacks: those come back, sorted
    codes = list(frame["code"][:5]) + ["BU99990001", "BU99990000"]
    assert geometries.missing_polygons(2014, "buurt", codes) == ["BU99990000", "BU99990001"]
    assert geometries.missing_polygons(2014, "buurt", empty[:2]) == sorted(empty[:2])


def test_gemeente_attributes_keep_absent_values_missing():
    attrs = geometries.attributes(2012)
    assert attrs["aantal_inwoners"].sum() == 16_730_345
    assert geometries.attributes(2015)["aantal_inwoners"].sum() == 16_900_726


def test_map_geojson_is_simplified_wgs84(tmp_path):
    frame = geometries.load(2024, "gemeente")
    text = geometries.to_geojson(frame, tmp_path / "g.geojson")
    data = json.loads((tmp_path / "g.geojson").read_text(encoding="utf-8"))
    assert text.startswith("{") and len(data["features"]) == 342
    props = data["features"][0]["properties"]
    assert set(props) == {"code", "year", "level", "name"}
    web = geometries.to_wgs84(frame)
    lon0, lat0, lon1, lat1 = web.total_bounds
    assert 3.0 < lon0 < lon1 < 7.5 and 50.5 < lat0 < lat1 < 53.8
    before = shapely.get_num_coordinates(frame.geometry.to_numpy()).sum()
    after = shapely.get_num_coordinates(web.geometry.to_numpy()).sum()
    assert after < before
    # simplification keeps each gemeente's area within a few percent
    rd_back = web.to_crs(geometries.RD_NEW)
    ratio = rd_back.area.to_numpy() / frame.area.to_numpy()
    assert np.median(np.abs(ratio - 1)) < 0.02


def test_geometries_table_for_the_store():
    table = geometries.geometries_table(years=[2014], levels=["wijk"])
    assert list(table.columns) == geometries.TABLE_COLUMNS
    assert len(table) == 2_738 and set(table["level"]) == {"wijk"}
    geom = shapely.from_wkb(table["wkb_rd"].iloc[0])
    assert geom.is_valid and geom.area > 0
    empty = set(geometries.empty_polygons(2014, "wijk"))
    gj = table.set_index("code")["geojson_wgs84"]
    assert gj[list(empty)].isna().all()
    assert json.loads(gj.dropna().iloc[0])["type"] in {"Polygon", "MultiPolygon"}


def test_unknown_layer_names_what_exists():
    with pytest.raises(KeyError, match="gemeente 2024"):
        geometries.load(2013, "buurt")


# --------------------------------------------------------------------------------------
# The polygons added to the mirror (issue 14): every gemeente year 2012-2024, wijk 2016/2024
# --------------------------------------------------------------------------------------

def _at(frame, lon, lat):
    """Code of the polygon of ``frame`` (RD New) that contains the WGS84 point."""
    import geopandas as gpd

    pt = gpd.GeoSeries(gpd.points_from_xy([lon], [lat]), crs=geometries.WGS84).to_crs(
        geometries.RD_NEW).iloc[0]
    hit = frame[frame.geometry.contains(pt)]
    return list(hit["code"])


@pytest.mark.parametrize("year, count", [(2013, 408), (2014, 403), (2016, 390), (2020, 355),
                                         (2021, 352)])
def test_new_gemeente_layers_match_the_cbs_counts(year, count):
    # counts of gemeenten on 1 January (cbs-geometries README)
    frame = geometries.load(year, "gemeente")
    assert len(frame) == count and not frame.geometry.is_empty.any()
    assert frame.set_index("code").loc["GM0363", "name"] == "Amsterdam"
    assert _at(frame, 4.90, 52.37) == ["GM0363"] and _at(frame, 5.12, 52.09) == ["GM0344"]


def test_every_gemeente_year_has_polygons_and_territories():
    years = {y for y, lv in geometries.available() if lv == "gemeente"}
    assert set(range(2012, 2025)) <= years
    # territories: the GeoJSON years and 2020/2021 (5 % snap); 2013-2016 are too coarse
    assert geometries.territory_years() == (2012, 2017, 2018, 2019, 2020, 2021, 2022, 2023, 2024)
    assert geometries.layer(2020, "gemeente").snap_tolerance == 0.05
    assert geometries.layer(2024, "gemeente").snap_tolerance is None


def test_gemeente_spot_checks_of_the_readme():
    g13, g14, g16 = (geometries.load(y, "gemeente") for y in (2013, 2014, 2016))
    assert {"GM0381", "GM0499"} <= set(g13["code"]) and "GM1942" not in set(g13["code"])
    assert "GM0381" in set(g14["code"]) and "GM0499" not in set(g14["code"])
    assert "GM1942" in set(g16["code"]) and "GM0381" not in set(g16["code"])
    assert _at(g14, 5.16, 52.28) == ["GM0425"] and _at(g16, 5.16, 52.28) == ["GM1942"]
    g20, g21 = geometries.load(2020, "gemeente"), geometries.load(2021, "gemeente")
    assert "GM0003" in set(g20["code"]) and "GM1979" not in set(g20["code"])
    assert _at(g20, 6.90, 53.32) == ["GM0010"] and _at(g21, 6.90, 53.32) == ["GM1979"]
    assert g21.set_index("code").loc["GM1979", "name"] == "Eemsdelta"


def test_wijk_2016_and_2024():
    w16 = geometries.load(2016, "wijk")
    # 2,981 codes in the file; GDAL drops the 19 features without geometry, 44 rings collapsed
    assert len(w16) == 2_962 and len(geometries.empty_polygons(2016, "wijk")) == 44
    assert geometries.missing_polygons(2016, "wijk", ["WK189504", "WK034403"]) == ["WK189504"]
    assert _at(w16, 5.115, 52.118) == ["WK034403"] and _at(w16, 4.48, 51.92) == ["WK059901"]
    w24 = geometries.load(2024, "wijk")
    assert len(w24) == 3_474 and "WK099899" not in set(w24["code"])  # 3,475 minus Buitenland
    assert _at(w24, 5.115, 52.118) == ["WK034403"] and _at(w24, 4.90, 52.37) == ["WK0363AF"]
    assert w24.set_index("code").loc["WK0363AF", "name"] == "Nieuwmarkt/Lastage"
