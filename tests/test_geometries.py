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
