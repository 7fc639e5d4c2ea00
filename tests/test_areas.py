"""Tests for wijkmonitor.areas on the real offline data (CBS 50090NED 2020, KWB 2024, geometries)."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import pytest

from wijkmonitor.areas import (AreaError, MergerError, check_codes_exist, derive_gemeente_mergers,
                               find_area, load_area_file, load_areas, load_gemeente_mergers,
                               load_groups, regions, successor_gemeente, translate_codes)
from wijkmonitor.config import data_dir

DATA = data_dir()
needs_data = pytest.mark.skipif(not (DATA / "rivm-gezondheid-wijk-buurt").is_dir(),
                                reason="offline mirror not found")


@pytest.fixture(scope="module")
def areas():
    return load_areas(include_custom=False)


@pytest.fixture(scope="module")
def regions_2020():
    return regions(2020).set_index("code")


VALID = """\
schema: 1
version: 1
id: {id}
name: "Mijn buurt"
programme: custom
gemeente: GM0344
gemeente_name: "Utrecht"
reference_year: 2020
level: buurt
codes:
  - BU03440222  # Ondiep
  - BU03440221
removed: null
delineation_note: Test area.
sources:
  - "eigen afbakening"
"""


# --- the declared lists -------------------------------------------------------------------------

def test_twenty_nplv_areas_in_nineteen_gemeenten(areas):
    nplv = [a for a in areas.values() if a.programme == "nplv"]
    assert len(nplv) == 20
    assert all(a.removed is None for a in nplv)
    assert len({a.gemeente for a in nplv}) == 19
    # Amsterdam is the one gemeente with two focusgebieden
    assert sorted(a.id for a in nplv if a.gemeente == "GM0363") == ["amsterdam-nieuw-west", "amsterdam-zuidoost"]


def test_forty_aandachtswijken_two_removed(areas):
    aw = [a for a in areas.values() if a.programme == "aandachtswijken"]
    assert len(aw) == 40
    removed = {a.id: a.removed for a in aw if a.removed is not None}
    assert removed == {"amersfoort-kruiskamp": 2012, "nijmegen-hatert": 2013}
    # seed 000: 38 wijken in 16 gemeenten remain
    active = [a for a in aw if a.active]
    assert len(active) == 38
    assert len({a.gemeente for a in active}) == 16
    assert not areas["nijmegen-hatert"].active_in(2014) and areas["nijmegen-hatert"].active_in(2012)


def test_known_codes(areas):
    assert areas["utrecht-overvecht"].codes == ("WK034403",)
    assert areas["rotterdam-zuid"].codes == ("WK059910", "WK059912", "WK059915")
    assert areas["malburgen-immerloo"].gemeente == "GM0202"


def test_every_area_documents_its_delineation(areas):
    for a in areas.values():
        assert len(a.delineation_note) > 30, a.id
        # the page shows a plain Dutch note; the technical one stays as a YAML comment
        assert "# Technical delineation note" in a.path.read_text(encoding="utf-8"), a.id
        assert not any(w in a.delineation_note for w in ("seed", "ind_wbi", "translate_codes", " the ")), a.id
        assert any("seed" in s for s in a.sources), a.id
        assert a.path.parent.name == a.programme


@needs_data
def test_every_code_exists_at_its_level_in_its_gemeente(areas, regions_2020):
    problems = {a.id: check_codes_exist(a) for a in areas.values()}
    assert {k: v for k, v in problems.items() if v} == {}
    # independent re-check straight on the frame
    gem_names = regions_2020[regions_2020["level"] == "gemeente"]["gemeente_name"]
    n_codes = 0
    for a in areas.values():
        assert a.reference_year == 2020
        assert gem_names[a.gemeente] == a.gemeente_name.replace("Den Haag", "'s-Gravenhage")
        for code in a.codes:
            row = regions_2020.loc[code]
            assert row["level"] == a.level
            assert row["gemeente_name"] == gem_names[a.gemeente]
            n_codes += 1
    assert n_codes > 150


@needs_data
def test_check_codes_exist_catches_wrong_codes(areas):
    from dataclasses import replace

    area = areas["utrecht-overvecht"]
    assert check_codes_exist(replace(area, codes=("WK034499",))) == ["WK034499 bestaat niet in 2020"]
    assert "is een buurt" in check_codes_exist(replace(area, codes=("BU03440311",)))[0]
    wrong_gm = check_codes_exist(replace(area, codes=("WK059910",)))
    assert wrong_gm == ["WK059910 ligt in Rotterdam, niet in Utrecht"]


# --- groups -------------------------------------------------------------------------------------

def test_groups(areas):
    g = load_groups()
    assert len(g["G18"].members) == 18
    assert len(g["G4"].members) == 4
    assert len(g["G14"].members) == 14
    assert set(g["G14"].members) == set(g["G18"].members) - set(g["G4"].members)
    assert g["NL"].is_all
    assert "G40" not in g  # not in seeds or data: omitted on purpose
    # the G18 are exactly the gemeenten of the 40 aandachtswijken, NPLV19 those of the focusgebieden
    assert {a.gemeente for a in areas.values() if a.programme == "aandachtswijken"} == set(g["G18"].members)
    assert {a.gemeente for a in areas.values() if a.programme == "nplv"} == set(g["NPLV19"].members)
    assert len(g["NPLV19"].members) == 19


@needs_data
def test_group_members_exist_in_2020(regions_2020):
    gm = set(regions_2020[regions_2020["level"] == "gemeente"].index)
    for group in load_groups().values():
        assert set(group.members or ()) <= gm, group.id


def test_broken_derived_group_is_reported(tmp_path):
    text = (Path(__file__).parents[1] / "src/wijkmonitor/areas/groups.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "groups.yaml"
    bad.write_text(text.replace("      - GM0361  # Alkmaar\n", "", 1), encoding="utf-8")  # drop Alkmaar from G18
    with pytest.raises(AreaError) as err:
        load_groups(bad)
    assert str(bad) in str(err.value) and "groups.G14.members" in str(err.value)


# --- custom areas and validation ----------------------------------------------------------------

@needs_data
def test_custom_area_in_temp_dir_loads_and_is_found(tmp_path, monkeypatch):
    (tmp_path / "mijn-buurt.yaml").write_text(VALID.format(id="mijn-buurt"), encoding="utf-8")
    monkeypatch.setenv("WIJKMONITOR_AREAS_DIR", str(tmp_path))
    areas = load_areas()
    assert len(areas) == 61 and areas["mijn-buurt"].programme == "custom"
    assert find_area("MIJN BUURT").codes == ("BU03440222", "BU03440221")
    assert check_codes_exist(areas["mijn-buurt"]) == []
    # without the directory the file is not found by name, nor by its path (find_area resolves
    # identifiers only; see tests/local/test_area_parameters.py); the explicit loader reads it
    monkeypatch.delenv("WIJKMONITOR_AREAS_DIR")
    for key in ("mijn-buurt", str(tmp_path / "mijn-buurt.yaml")):
        with pytest.raises(KeyError):
            find_area(key)
    assert load_area_file(tmp_path / "mijn-buurt.yaml").id == "mijn-buurt"


@pytest.mark.parametrize("change, field", [
    (("level: buurt", "level: stadsdeel"), "level"),
    (("  - BU03440221\n", "  - BU05990111\n"), "codes"),          # buurt of another gemeente
    (("  - BU03440221\n", "  - WK034403\n"), "codes"),            # wijk code in a buurt area
    (("  - BU03440221\n", "  - BU03440222\n"), "codes"),          # duplicate
    (("gemeente: GM0344", "gemeente: 344"), "gemeente"),
    (("removed: null", "removed: soon"), "removed"),
    (("programme: custom", "programme: nplv"), "programme"),       # custom dir holds custom only
    (("schema: 1", "schema: 2"), "schema"),
    (('name: "Mijn buurt"\n', ""), "name"),                       # missing field
    (("sources:\n  - \"eigen afbakening\"", "sources: []"), "sources"),
])
def test_broken_custom_area_names_file_and_field(tmp_path, change, field):
    path = tmp_path / "kapot.yaml"
    path.write_text(VALID.format(id="kapot").replace(*change), encoding="utf-8")
    with pytest.raises(AreaError) as err:
        load_areas(tmp_path)
    assert err.value.file == str(path)
    assert err.value.field == field
    assert str(path) in str(err.value) and f"veld '{field}'" in str(err.value)


def test_invalid_yaml_and_wrong_id(tmp_path):
    bad = tmp_path / "a.yaml"
    bad.write_text("schema: 1\ncodes: [unclosed\n", encoding="utf-8")
    with pytest.raises(AreaError, match=r"a\.yaml: geen geldige YAML \(regel"):
        load_area_file(bad)
    other = tmp_path / "b.yaml"
    other.write_text(VALID.format(id="iets-anders"), encoding="utf-8")
    with pytest.raises(AreaError) as err:
        load_area_file(other)
    assert err.value.field == "id"


def test_duplicate_id_and_missing_dir(tmp_path):
    (tmp_path / "rotterdam-zuid.yaml").write_text(VALID.format(id="rotterdam-zuid"), encoding="utf-8")
    with pytest.raises(AreaError, match="komt ook voor in .*nplv/rotterdam-zuid.yaml"):
        load_areas(tmp_path)
    with pytest.raises(AreaError, match="bestaat niet"):
        load_areas(tmp_path / "nope")


def test_find_area(areas):
    assert find_area("rotterdam-zuid").name == "Rotterdam-Zuid"
    assert find_area("rotterdam zuid").id == "rotterdam-zuid"
    assert find_area("Arnhem Malburgen/Immerloo").id == "malburgen-immerloo"
    with pytest.raises(AreaError, match="niet eenduidig.*utrecht-overvecht-2007"):
        find_area("Utrecht Overvecht")
    assert find_area("Utrecht Overvecht", programme="aandachtswijken").id == "utrecht-overvecht-2007"
    with pytest.raises(KeyError, match="utrecht-overvecht"):
        find_area("utrecht overvect")


# --- gemeente mergers ---------------------------------------------------------------------------

def test_merger_table_is_declared_and_consistent():
    table = load_gemeente_mergers()
    assert len(table) > 90
    for m in table.values():
        assert m.last_seen < m.gone_by
        assert 0.5 <= m.area_share <= 1.0 or m.other_successors  # largest part, or a real split


@needs_data
def test_merged_gemeente_maps_to_successor():
    # Haren (GM0017) existed in 2018 and is part of Groningen (GM0014) since 2019
    assert successor_gemeente("GM0017", 2018) == "GM0017"
    assert successor_gemeente("GM0017", 2019) == "GM0014"
    assert successor_gemeente("GM0017", 2024) == "GM0014"
    # Weesp joined Amsterdam in 2022 (present in the 2022 file, gone in 2023)
    assert successor_gemeente("GM0457", 2024) == "GM0363"
    # Haaren was split in 2021; Vught got the largest part
    haaren = load_gemeente_mergers()["GM0788"]
    assert haaren.successor == "GM0865" and {c for c, _, _ in haaren.other_successors} >= {"GM0824", "GM0855"}
    # a gemeente that never merged maps to itself
    assert successor_gemeente("GM0344", 2024) == "GM0344"
    # a successor code must exist in the 2024 geometries
    import json
    codes_2024 = {f["properties"]["gemeentecode"] for f in json.loads(
        (DATA / "cbs-geometries" / "gemeenten_2024.geojson").read_text())["features"]}
    for code in load_gemeente_mergers():
        assert successor_gemeente(code, 2024) in codes_2024, code


@needs_data
def test_a_2012_gemeente_gone_by_2024_follows_a_chain():
    # every 2012 gemeente absent from 2024 resolves to a 2024 gemeente via the table
    import json
    codes = {y: {f["properties"]["gemeentecode"] for f in json.loads(
        (DATA / "cbs-geometries" / f"gemeenten_{y}.geojson").read_text())["features"]} for y in (2012, 2024)}
    gone = codes[2012] - codes[2024] - {"GM9999"}  # GM9999: unnamed non-gemeente feature in 2012
    assert len(gone) > 70
    assert {successor_gemeente(c, 2024) for c in gone} <= codes[2024]


def test_merger_date_in_a_gap_is_not_guessed():
    # Skarsterlân was seen in 2012 and gone in 2017: 2015 cannot be decided from the data
    with pytest.raises(MergerError, match="last seen in 2012 and gone by 2017"):
        successor_gemeente("GM0051", 2015)


@needs_data
@pytest.mark.slow
def test_stored_merger_table_matches_derivation():
    derived = derive_gemeente_mergers(DATA).set_index("code")
    stored = load_gemeente_mergers()
    assert set(derived.index) == set(stored)
    for code, m in stored.items():
        assert (derived.loc[code, "successor"], derived.loc[code, "gone_by"]) == (m.successor, m.gone_by)


# --- translation between years ------------------------------------------------------------------

@needs_data
def test_translate_persisting_codes(areas):
    codes_2024 = set(regions(2024)["code"])
    t = translate_codes(areas["rotterdam-zuid"], 2024, codes_2024)
    assert t.complete and t.uncovered_share == 0.0 and t.weight_status == "ok"
    # Amsterdam recoded in 2022: nothing persists, weights from KWB 2019 Amsterdam
    t = translate_codes(areas["amsterdam-zuidoost"], 2024, codes_2024)
    assert t.covered == () and t.uncovered_share == 1.0 and t.weight_status == "ok"


def test_translate_with_given_weights_and_missing_weight(areas):
    area = areas["den-haag-zuidwest"]  # WK051833, WK051834, WK051836
    weights = {"WK051833": 30000.0, "WK051834": 20000.0, "WK051836": 50000.0}
    t = translate_codes(area, 2030, {"WK051833", "WK051836", "GM0518"}, weights=weights)
    assert t.covered == ("WK051833", "WK051836") and t.lost == ("WK051834",)
    assert t.uncovered_share == pytest.approx(0.2)
    t = translate_codes(area, 2030, {"WK051833"}, weights={"WK051833": 1.0, "WK051834": 2.0})
    assert math.isnan(t.uncovered_share) and t.weight_status == "onvolledig"
    assert t.unweighted == ("WK051836",)
