"""Crosswalks and moved values on the real mirror, plus small synthetic edge cases."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from wijkmonitor import geometries, harmonise
from wijkmonitor.sources.base import STATUS_MISSING, STATUS_OK, STATUS_SECRET

COUNTS_2012 = ["aantal_inwoners", "mannen", "vrouwen", "huishoudens"]


@pytest.fixture(scope="module")
def cw_2012_2024():
    return harmonise.crosswalk((2012, "gemeente"), (2024, "gemeente"))


@pytest.fixture(scope="module")
def values_2012():
    return harmonise.values_from_wide(geometries.attributes(2012), COUNTS_2012)


@pytest.fixture(scope="module")
def moved_2012(values_2012, cw_2012_2024):
    return harmonise.move(values_2012, cw_2012_2024)


def _value(frame, code, variable="aantal_inwoners"):
    row = frame[(frame["target_code"] == code) & (frame["variable"] == variable)]
    assert len(row) == 1
    return row.iloc[0]


def test_crosswalk_shares_sum_to_one(cw_2012_2024):
    assert list(cw_2012_2024.columns) == harmonise.CROSSWALK_COLUMNS
    sums = cw_2012_2024.groupby("source_code")["share"].sum()
    assert len(sums) == 415 and np.allclose(sums, 1.0, atol=1e-12)
    assert cw_2012_2024.attrs["unplaced"] == []
    assert set(cw_2012_2024["method"]) <= set(harmonise.METHODS)
    assert set(cw_2012_2024["target_code"]) == set(geometries.load(2024, "gemeente")["code"])


def test_national_total_is_kept(moved_2012):
    pop = moved_2012[moved_2012["variable"] == "aantal_inwoners"]
    assert (pop["status"] == STATUS_OK).all()
    assert pop["value"].sum() == pytest.approx(16_730_345, abs=1e-6)
    assert len(pop) == 342


def test_merged_gemeente_is_sum_of_its_predecessors(values_2012, moved_2012):
    changes = harmonise.gemeente_changes(2012, 2024)
    into = changes[changes["successor_code"] == "GM1963"]  # Hoeksche Waard (2019)
    assert set(into["name"]) == {"Binnenmaas", "Cromstrijen", "Korendijk", "Oud-Beijerland", "Strijen"}
    assert (into["change"] == "merged").all() and (into["share"] == 1).all()
    pop = values_2012[values_2012["variable"] == "aantal_inwoners"].set_index("source_code")["value"]
    row = _value(moved_2012, "GM1963")
    assert row["value"] == pop[into["code"]].sum()
    assert row["quality"] == 1.0
    # Groningen absorbed Haren and Ten Boer (2019) and part of Slochteren (Meerstad, 2017)
    gron = changes[changes["successor_code"] == "GM0014"].set_index("name")
    assert {"Haren", "Ten Boer", "Groningen"} <= set(gron.index)
    assert gron.loc["Slochteren", "change"] == "split" and 0.05 < gron.loc["Slochteren", "share"] < 0.2
    assert 0 < _value(moved_2012, "GM0014")["quality"] < 1  # part estimated by area


def test_identical_regions_keep_exactly_their_values(values_2012, moved_2012, cw_2012_2024):
    ident = cw_2012_2024[cw_2012_2024["method"] == "identical"]
    assert len(ident) > 250 and (ident["source_code"] == ident["target_code"]).all()
    # a target fed only by its identical namesake
    fed = cw_2012_2024.groupby("target_code").size()
    only = [c for c in ident["target_code"] if fed[c] == 1]
    assert "GM0344" in only  # Utrecht
    src = values_2012.set_index(["source_code", "variable"])["value"]
    moved = moved_2012.set_index(["target_code", "variable"])
    for code in only:
        for var in COUNTS_2012:
            assert moved.loc[(code, var), "value"] == src[(code, var)]  # exactly, not approx
            assert moved.loc[(code, var), "quality"] == 1.0


def test_buurten_2014_onto_gemeenten_2024_assign_every_buurt():
    cw = harmonise.crosswalk((2014, "buurt"), (2024, "gemeente"))
    buurten = geometries.load(2014, "buurt")
    with_polygon = set(buurten.loc[~buurten.geometry.is_empty, "code"])
    sums = cw.groupby("source_code")["share"].sum()
    # every buurt with a polygon is assigned, shares sum to 1
    assert with_polygon <= set(sums.index)
    assert np.allclose(sums, 1.0, atol=1e-6)
    # buurten without a polygon follow their gemeente when it went whole to one 2024 gemeente;
    # the rest are reported in attrs, never dropped silently: they are polygon-less buurten of
    # gemeenten that had to be overlaid buurt by buurt (split, or too coarse to decide)
    unplaced = cw.attrs["unplaced"]
    assert set(unplaced) <= set(buurten["code"]) - with_polygon
    assert len(unplaced) < 0.01 * len(buurten)
    overlaid = {"GM" + c[2:6] for c in cw.loc[cw["method"] == "area", "source_code"]}
    assert {"GM" + c[2:6] for c in unplaced} <= overlaid
    assert {"GM0788", "GM0140"} <= overlaid  # Haaren (2021) and Littenseradiel (2018) split
    # a buurt of Weesp (merged into Amsterdam 2022) lands in Amsterdam
    assert cw.set_index("source_code").loc["BU04570000", "target_code"] == "GM0363"


def test_buurten_nest_in_their_wijk_by_code():
    cw = harmonise.crosswalk((2014, "buurt"), (2014, "wijk"))
    nested = cw[cw["method"] == "nested"]
    assert len(nested) > 11_000
    assert (nested["target_code"].str[2:] == nested["source_code"].str[2:8]).all()


def test_area_mode_matches_plain_overlay_semantics():
    src = gpd.GeoDataFrame({"code": ["A", "B"]}, geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10)],
                           crs=geometries.RD_NEW)
    tgt = gpd.GeoDataFrame({"code": ["X", "Y"]}, geometry=[box(0, 0, 12, 10), box(12, 0, 30, 10)],
                           crs=geometries.RD_NEW)
    cw = harmonise.crosswalk(src, tgt, mode="area").set_index(["source_code", "target_code"])["share"]
    assert cw[("A", "X")] == 1.0
    assert cw[("B", "X")] == pytest.approx(0.2) and cw[("B", "Y")] == pytest.approx(0.8)


def test_suppressed_input_stays_suppressed(values_2012, cw_2012_2024):
    values = values_2012.copy()
    haren = (values["source_code"] == "GM0017") & (values["variable"] == "aantal_inwoners")
    values.loc[haren, ["value", "status"]] = [np.nan, STATUS_SECRET]
    moved = harmonise.move(values, cw_2012_2024)
    row = _value(moved, "GM0014")
    assert row["status"] == STATUS_SECRET and np.isnan(row["value"])
    assert "GM0017" in row["reason"]
    # other variables of Groningen and other gemeenten are unaffected
    assert _value(moved, "GM0014", "mannen")["status"] == STATUS_OK
    assert _value(moved, "GM0344")["status"] == STATUS_OK


def test_missing_source_value_makes_target_missing(values_2012, cw_2012_2024):
    values = values_2012[values_2012["source_code"] != "GM0009"]  # Ten Boer absent
    moved = harmonise.move(values, cw_2012_2024)
    assert _value(moved, "GM0014")["status"] == STATUS_MISSING


def test_low_quality_values_are_hidden(values_2012, cw_2012_2024):
    moved = harmonise.move(values_2012, cw_2012_2024, min_quality=0.99)
    hidden = moved[moved["status"] == harmonise.STATUS_LOW_QUALITY]
    assert len(hidden) > 0 and hidden["value"].isna().all()
    assert hidden["reason"].str.contains("kwaliteit").all()
    assert (moved.loc[moved["status"] == STATUS_OK, "quality"] >= 0.99).all()


def test_rates_are_rederived_not_averaged():
    src = gpd.GeoDataFrame({"code": ["A", "B"]}, geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10)],
                           crs=geometries.RD_NEW)
    tgt = gpd.GeoDataFrame({"code": ["T"]}, geometry=[box(0, 0, 20, 10)], crs=geometries.RD_NEW)
    cw = harmonise.crosswalk(src, tgt)
    values = pd.DataFrame({"source_code": ["A", "A", "B", "B"],
                           "variable": ["werkloos", "inwoners"] * 2,
                           "value": [10.0, 100.0, 90.0, 900.0], "status": STATUS_OK})
    out = harmonise.move(values, cw, kind="rate", ratios={"pct_werkloos": ("werkloos", "inwoners", 100)})
    assert out.iloc[0]["value"] == pytest.approx(10.0)  # (10 + 90) / 1000, not mean of 10 % and 10 %
    pct = pd.DataFrame({"source_code": ["A", "A", "B", "B"], "variable": ["pct", "inwoners"] * 2,
                        "value": [50.0, 100.0, 10.0, 900.0], "status": STATUS_OK})
    est = harmonise.move(pct, cw, kind="percentage", ratios={"pct": ("pct", "inwoners", 100)})
    assert est.iloc[0]["value"] == pytest.approx((50 + 90) / 1000 * 100)
    assert "schatting" in est.iloc[0]["reason"]


def test_weighted_split_follows_finer_weight():
    src = gpd.GeoDataFrame({"code": ["S"]}, geometry=[box(0, 0, 10, 10)], crs=geometries.RD_NEW)
    tgt = gpd.GeoDataFrame({"code": ["L", "R"]}, geometry=[box(0, 0, 5, 10), box(5, 0, 10, 10)],
                           crs=geometries.RD_NEW)
    units = gpd.GeoDataFrame({"weight": [90.0, 10.0]}, geometry=[box(0, 0, 5, 10), box(5, 0, 10, 10)],
                             crs=geometries.RD_NEW)
    cw = harmonise.crosswalk(src, tgt, weights=units).set_index("target_code")
    assert cw.loc["L", "share"] == pytest.approx(0.9) and cw.loc["R", "share"] == pytest.approx(0.1)
    assert set(cw["method"]) == {"weighted"}
