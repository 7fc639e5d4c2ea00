"""Polygons fetched with ``wijkmonitor fetch --all`` (PDOK wijkenbuurten, recorded responses)
used by :mod:`wijkmonitor.geometries`, the boundary crosswalks and the maps.

Expectations come from the recording (``tests/fixtures/registry/make_recordings.py``): every
feature is a 0.01 x 0.01 degree square; per level the i-th region's square starts at
lon 4.8 + 0.01 i (+ 0.2 for Amsterdam), lat 52.0 + 0.01 i. Buurten: BU03440300, BU03440301 and
the Amsterdam buurt (BU03630000 before 2022, BU0363AA02 from 2022) on the same square.
"""

from __future__ import annotations

import datetime as dt

import pytest

from registry_replay import Replay
from wijkmonitor import geometries, harmonise
from wijkmonitor.sources.fetch_registry import fetch_all
from wijkmonitor.web import maps

TABLES = ["wijkenbuurten2021", "wijkenbuurten2022", "wijkenbuurten2024", "wijkenbuurten2016"]


@pytest.fixture(scope="module")
def fetched(tmp_path_factory):
    root = tmp_path_factory.mktemp("fetched-polygons")
    report = fetch_all(root, transport=Replay().transport(), only=TABLES, sleep=lambda s: None,
                       today=dt.date(2025, 1, 15))
    assert report.ok, (report.failed, report.unreachable)
    return root


@pytest.fixture
def with_fetched(fetched, monkeypatch):
    monkeypatch.setenv("WIJKMONITOR_FETCHED", str(fetched))
    return fetched


@pytest.fixture
def without_fetched(tmp_path, monkeypatch):
    monkeypatch.setenv("WIJKMONITOR_FETCHED", str(tmp_path / "nothing"))


def test_fetched_years_join_the_layers_and_the_mirror_keeps_its_own(with_fetched):
    have = set(geometries.available())
    # buurt 2021/2022/2024 exist only fetched; the mirror's buurt 2014 stays
    assert {(2021, "buurt"), (2022, "buurt"), (2024, "buurt"), (2014, "buurt")} <= have
    assert geometries.layer(2024, "buurt").origin == "online"
    assert geometries.layer(2022, "gemeente").origin == "spiegel"  # mirror file, same year
    assert geometries.layer(2016, "wijk").origin == "spiegel"
    # fetched layers never place territories of the harmonised gemeente series
    assert 2025 not in geometries.territory_years() and geometries.layer(2021, "buurt").territory is False
    buurt = geometries.load(2024, "buurt")
    assert list(buurt.columns) == geometries.GEOMETRY_COLUMNS
    assert sorted(buurt.code) == ["BU03440300", "BU03440301", "BU0363AA02"]
    assert set(buurt.year) == {2024} and set(buurt.level) == {"buurt"}
    assert buurt.crs.to_epsg() == 28992
    # a 0.01 x 0.01 degree square at 52 N: 0.01 * 111.3 km * cos(52) * 0.01 * 111.3 km ~ 0.76 km2
    assert buurt.geometry.area.between(0.70e6, 0.82e6).all()


def test_without_fetched_polygons_only_the_mirror(without_fetched):
    assert (2024, "buurt") not in set(geometries.available())
    with pytest.raises(KeyError, match="buurt 2024"):
        geometries.layer(2024, "buurt")


def test_crosswalk_between_fetched_years_follows_amsterdams_recoding(with_fetched):
    cw = harmonise.crosswalk((2021, "buurt"), (2022, "buurt"))
    rows = {(r.source_code, r.target_code): (r.share, r.method) for r in cw.itertuples()}
    # the same square under the old and the new code: wholly one target
    assert rows[("BU03630000", "BU0363AA02")][0] == pytest.approx(1.0)
    # unchanged Utrecht buurten: the same code and territory both ways
    assert rows[("BU03440300", "BU03440300")] == (pytest.approx(1.0), "identical")
    assert len(cw) == 3


def test_maps_prefer_the_years_own_fetched_polygons(with_fetched):
    utrecht = {"BU03440300", "BU03440301"}
    lay = maps.choose_layer("buurt", 2024, utrecht, "GM0344")
    assert (lay.kind, lay.year, lay.origin) == ("cbs", 2024, "online")
    assert "PDOK" in lay.source and "PDOK" in lay.note(2024) and "2024" in lay.short_note(2024)
    # 2023 has no polygons: the nearest year (2022 and 2024 both 1 away: the later one), stated
    lay23 = maps.choose_layer("buurt", 2023, utrecht, "GM0344")
    assert lay23.year == 2024 and "dichtstbijzijnde" in lay23.note(2023)
    # 2019: nearest fetched buurt year 2021 beats the mirror's 2014
    assert maps.choose_layer("buurt", 2019, utrecht, "GM0344").year == 2021
    # Amsterdam 2024: CBS buurten of 2024 itself beat the city's crosswalk polygons
    ams = maps.choose_layer("buurt", 2024, {"BU0363AA02"}, "GM0363")
    assert (ams.kind, ams.year) == ("cbs", 2024)
    shapes = maps.shapes(ams)
    assert set(shapes) == {"BU03440300", "BU03440301", "BU0363AA02"}


def test_maps_without_fetched_polygons_use_the_nearest_mirror_year(without_fetched):
    lay = maps.choose_layer("buurt", 2024, {"BU03440300"}, "GM0344")
    assert (lay.year, lay.origin) == (2014, "spiegel") and "PDOK" not in lay.note(2024)
