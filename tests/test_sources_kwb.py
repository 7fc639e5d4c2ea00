"""KWB offline-mirror adapters, tested on the real files in the data mirror."""

from __future__ import annotations

import datetime as dt
import importlib
import json
import sqlite3
import time

import numpy as np
import openpyxl
import pandas as pd
import pytest

from wijkmonitor.config import data_dir
from wijkmonitor.sources import ADAPTER_MODULES
from wijkmonitor.sources.base import (OBS_COLUMNS, REGION_COLUMNS, STATUS_MISSING, STATUS_OK,
                                      STATUS_SECRET, SourceError, mapping, variables)

KWB_ADAPTERS = ["kwb_statline_csv", "kwb_geojson", "kwb_csv_2019", "kwb_xlsx", "kwb_amsterdam",
                "kwb_heerlen", "woonikveilig", "buurtenrecommender"]
DATA = data_dir()
_CACHE: dict[str, tuple[list, float]] = {}


def results(name: str):
    """Adapter results, read once per test session (with the time the read took)."""
    if name not in _CACHE:
        module = importlib.import_module(f"wijkmonitor.sources.{name}")
        # CPU seconds of this process (all threads), not wall time: the bound is on the
        # adapter's work, not on how busy the machine is
        start = time.process_time()
        res = module.read(DATA)
        _CACHE[name] = (res, time.process_time() - start)
    return _CACHE[name][0]


def by_id(name: str, source_id: str):
    found = [r for r in results(name) if r.info.source_id == source_id]
    assert len(found) == 1, [r.info.source_id for r in results(name)]
    return found[0]


def values(obs: pd.DataFrame, variable: str) -> pd.Series:
    sel = obs[obs["variable"] == variable]
    return sel.set_index("region_code")["value"]


# --------------------------------------------------------------------------------------
# Contract, for every KWB adapter
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", KWB_ADAPTERS)
def test_registered_and_contract(name):
    assert name in ADAPTER_MODULES
    module = importlib.import_module(f"wijkmonitor.sources.{name}")
    assert module.NAME == name
    res = results(name)
    assert res, "adapter returned nothing"
    known = variables()
    for r in res:
        obs = r.observations
        assert list(obs.columns) == OBS_COLUMNS
        assert len(obs) > 0
        assert set(obs["status"]) <= {STATUS_OK, STATUS_SECRET, STATUS_MISSING}
        # honest statistics: anything not ok has no number, anything ok has one
        assert obs.loc[obs["status"] != STATUS_OK, "value"].isna().all()
        assert obs.loc[obs["status"] == STATUS_OK, "value"].notna().all()
        undeclared = set(obs["variable"]) - set(known)
        assert not undeclared, f"{r.info.source_id}: not in variables.yaml: {undeclared}"
        assert (obs["source_id"] == r.info.source_id).all()
        assert not obs.duplicated(["region_code", "geo_year", "period", "variable"]).any()
        codes = obs["region_code"]
        assert codes.str.match(r"^(NL00|GM\d{4}|WK\d{4}[0-9A-Z]{2}|BU\d{4}[0-9A-Z]{4})$").all()
        assert (codes == codes.str.strip()).all()
        # provenance: publisher table id, relative location that exists, README commit date
        info = r.info
        assert info.table_id and info.adapter == name and info.note
        assert not info.location.startswith("/") and (DATA / info.location).exists()
        dt.date.fromisoformat(info.retrieved)
        if r.regions is not None:
            assert list(r.regions.columns[:len(REGION_COLUMNS)]) == REGION_COLUMNS
            assert set(r.regions["level"]) <= {"land", "gemeente", "wijk", "buurt"}
            assert not r.regions.duplicated(["code", "year"]).any()
            assert set(codes) <= set(r.regions["code"])


def test_source_ids_unique_across_adapters():
    ids = [r.info.source_id for name in KWB_ADAPTERS for r in results(name)]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("name", KWB_ADAPTERS)
def test_reading_is_fast(name):
    results(name)
    assert _CACHE[name][1] < 5.0, f"{name} took {_CACHE[name][1]:.1f} s CPU"


def test_mappings_only_name_declared_variables():
    for name in KWB_ADAPTERS:
        mapping(name)  # raises SourceError on an undeclared variable


# --------------------------------------------------------------------------------------
# StatLine 2024 export (region backbone) and its companion
# --------------------------------------------------------------------------------------

def test_statline_2024_regions_backbone():
    main = by_id("kwb_statline_csv", "kwb-2024-statline-csv")
    reg = main.regions
    assert reg["level"].value_counts().to_dict() == {"land": 1, "gemeente": 342, "wijk": 3393,
                                                      "buurt": 14574}
    assert (reg["year"] == 2024).all()
    assert reg["code"].is_unique
    # ind_wbi kept per region; the NL row has "." (no code)
    assert reg["change_code"].value_counts().to_dict() == {"1": 17346, "3": 958, "2": 5}
    assert reg["change_code"].isna().sum() == 1
    assert pd.isna(reg.loc[reg["code"] == "NL00", "change_code"]).all()
    buurt = reg[reg["level"] == "buurt"]
    assert (buurt["wijk_code"] == "WK" + buurt["code"].str[2:8]).all()
    assert (buurt["gemeente_code"] == "GM" + buurt["code"].str[2:6]).all()
    assert reg.loc[reg["code"] == "WK034403", "name"].item().endswith("Overvecht")


def test_statline_2024_population_totals():
    obs = by_id("kwb_statline_csv", "kwb-2024-statline-csv").observations
    inw = values(obs, "a_inw")
    assert inw["NL00"] == 17_942_942
    assert inw[inw.index.str.startswith("GM")].sum() == 17_942_942
    assert inw[inw.index.str.startswith("WK")].sum() == 17_942_715
    assert inw[inw.index.str.startswith("BU")].sum() == 17_942_915
    assert values(obs, "a_man")["NL00"] + values(obs, "a_vrouw")["NL00"] == 17_942_942


def test_statline_2024_companion_herkomst_joined_by_position():
    her = by_id("kwb_statline_csv", "kwb-2024-statline-csv-herkomst").observations
    nl = values(her, "a_nl_all")["NL00"] + values(her, "a_eur_al")["NL00"] \
        + values(her, "a_neu_al")["NL00"]
    assert nl == 17_942_942
    assert values(her, "a_nl_all")["GM1680"] == 23_453  # Aa en Hunze, row 2 of both files
    assert her["region_code"].nunique() == 18_310


def _write_statline(path, header, rows):
    lines = [";".join(f'"{h}"' for h in header)]
    lines += [";".join(f'"{v}"' if isinstance(v, str) else str(v) for v in row) for row in rows]
    path.write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")


def _synthetic_spec(tmp_path):
    from wijkmonitor.sources import kwb_statline_csv as m
    header = ["Wijken en buurten", "Regioaanduiding/Gemeentenaam (naam)",
              "Regioaanduiding/Soort regio (omschrijving)", "Regioaanduiding/Codering (code)",
              "Bevolking/Aantal inwoners (aantal)"]
    _write_statline(tmp_path / "main.csv", header, [
        ["Nederland", "Nederland   ", "Land      ", "NL01      ", 100],
        ["Testdam", "Testdam     ", "Gemeente  ", "GM9001    ", 60],
        ["Wijk 00 Oud", "Testdam     ", "Wijk      ", "WK900100  ", "."],
    ])
    spec = {"_file": "main.csv", "_table_id": "TEST", "_retrieved": "2024-01-01",
            "_name_column": header[0], "_gemeente_name_column": header[1],
            "_level_column": header[2], "_code_column": header[3],
            "columns": {header[4]: "a_inw"}}
    return m, header, spec


def test_synthetic_statline_special_values_and_country_code(tmp_path):
    m, _, spec = _synthetic_spec(tmp_path)
    [res] = m.read_year(tmp_path, 2030, spec)
    obs = res.observations.set_index("region_code")
    assert obs.loc["NL00", "value"] == 100  # NL01 normalised to NL00, padding stripped
    assert np.isnan(obs.loc["WK900100", "value"]) and obs.loc["WK900100", "status"] == "geheim"
    assert res.regions.set_index("code").loc["GM9001", "name"] == "Testdam"


def test_missing_expected_column_names_file_year_and_column(tmp_path):
    m, header, spec = _synthetic_spec(tmp_path)
    spec["columns"]["Bevolking/Geslacht/Mannen (aantal)"] = "a_man"
    with pytest.raises(SourceError) as err:
        m.read_year(tmp_path, 2030, spec)
    exc = err.value
    assert exc.file.endswith("main.csv") and exc.year == 2030
    assert exc.field == "Bevolking/Geslacht/Mannen (aantal)"
    assert "main.csv" in str(exc) and "2030" in str(exc) and "Mannen" in str(exc)


def test_companion_that_does_not_line_up_fails_loudly(tmp_path):
    m, header, spec = _synthetic_spec(tmp_path)
    comp_header = [header[0], header[1], header[4],
                   "Bevolking/Bevolking naar herkomst/Herkomstland/Nederland (aantal)"]
    _write_statline(tmp_path / "comp.csv", comp_header, [
        ["Nederland", "Nederland", 100, 80],
        ["Testdam", "Testdam", 61, 50],  # population differs from the main file
        ["Wijk 00 Oud", "Testdam", ".", "."],
    ])
    spec["companion"] = {"_file": "comp.csv", "_retrieved": "2024-01-02",
                         "_name_column": header[0], "_gemeente_name_column": header[1],
                         "_check_column": header[4], "columns": {comp_header[3]: "a_nl_all"}}
    with pytest.raises(SourceError) as err:
        m.read_year(tmp_path, 2030, spec)
    assert err.value.row == 3 and "aantal inwoners" in str(err.value)


def test_bad_value_names_row_and_field(tmp_path):
    m, header, spec = _synthetic_spec(tmp_path)
    _write_statline(tmp_path / "main.csv", header, [
        ["Nederland", "Nederland", "Land", "NL00", "veel"],
    ])
    with pytest.raises(SourceError) as err:
        m.read_year(tmp_path, 2030, spec)
    assert err.value.row == 2 and err.value.field == header[4] and err.value.year == 2030


# --------------------------------------------------------------------------------------
# kwb-2019.csv
# --------------------------------------------------------------------------------------

def test_kwb_2019_csv():
    res = by_id("kwb_csv_2019", "kwb-2019-csv-gemeenten")
    assert len(res.regions) == 355 and (res.regions["level"] == "gemeente").all()
    assert values(res.observations, "a_inw").sum() == 17_282_163
    assert (res.observations["period"] == 2019).all()


# --------------------------------------------------------------------------------------
# gemeente GeoJSON / TopoJSON
# --------------------------------------------------------------------------------------

GEOJSON_TOTALS = {2012: (415, 16_730_345), 2017: (388, 17_081_507), 2018: (380, 17_181_084),
                  2019: (355, 17_282_163), 2022: (345, 17_590_672), 2023: (342, 17_811_291),
                  2024: (342, 17_942_942)}


@pytest.mark.parametrize("year", sorted(GEOJSON_TOTALS))
def test_gemeente_geojson_regions_and_population(year):
    res = by_id("kwb_geojson", f"kwb-{year}-pdok-gemeenten-geojson")
    n, total = GEOJSON_TOTALS[year]
    assert len(res.regions) == n and (res.regions["level"] == "gemeente").all()
    assert not res.regions["code"].isin(["GM0998", "GM9999"]).any()
    inw = values(res.observations, "a_inw")
    assert len(inw) == n and inw.sum() == total
    # only KWB attributes: the app's enrichments never become variables
    assert not res.observations["variable"].str.match(r"^(bag|cr|ff|lbt|zk)_").any()
    assert res.warnings == []


def test_gemeente_geojson_absent_key_is_missing_and_shares_are_percentages():
    path = DATA / "cbs-geometries" / "gemeenten_2017.geojson"
    props = [f["properties"] for f in json.loads(path.read_text())["features"]
             if f["properties"]["gemeentecode"] != "GM0998"]
    absent = {p["gemeentecode"] for p in props if "gem_woz_waarde" not in p}
    assert len(absent) == 8
    obs = by_id("kwb_geojson", "kwb-2017-pdok-gemeenten-geojson").observations
    woz = obs[obs["variable"] == "g_wozbag"].set_index("region_code")
    assert set(woz.index[woz["status"] == STATUS_MISSING]) == absent
    assert woz.loc[list(absent), "value"].isna().all()
    ages = obs[obs["variable"].isin(["p_00_14", "p_15_24", "p_25_44", "p_45_64", "p_65_oo"])]
    sums = ages.groupby("region_code")["value"].sum()
    assert sums.between(97, 103).all()  # rounded percentages add up to ~100


def test_gemeente_detail_2015_topojson():
    res = by_id("kwb_geojson", "kwb-2015-pdok-gemeenten-topojson")
    assert len(res.regions) == 393
    inw = values(res.observations, "a_inw")
    assert len(inw) == 393 and inw.sum() == 16_900_726
    obs = res.observations
    # -99999999 -> NaN 'ontbreekt' (two car ratios of one gemeente), never a number
    assert (obs["value"] == -99999999).sum() == 0
    assert set(obs.loc[obs["status"] != STATUS_OK, "variable"]) == {"g_pau_hh", "g_pau_km"}


# --------------------------------------------------------------------------------------
# Utrecht xlsx: every "." is a geheim NaN
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("year,file_total", [(2023, 5591), (2024, 10393)])
def test_utrecht_xlsx_every_dot_is_secret(year, file_total):
    spec = mapping("kwb_xlsx")
    path = DATA / spec[year]["_file"]
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    wb.close()
    header = rows[0]
    dots = {(r[header.index("gwb_code")].strip(), header[i])
            for r in rows[1:] for i, v in enumerate(r) if isinstance(v, str) and v.strip() == "."}
    assert len(dots) == file_total  # the README count
    attributes = set(spec["_meta"]["_attributes"])
    expected = {(c, col) for c, col in dots if col not in attributes}
    assert len(dots) - len(expected) == 22  # postcode attributes: not statistics, not emitted
    obs = by_id("kwb_xlsx", f"kwb-{year}-xlsx-utrecht").observations
    secret = obs[obs["status"] == STATUS_SECRET]
    assert set(zip(secret["region_code"], secret["variable"])) == expected
    assert secret["value"].isna().all()


def test_utrecht_xlsx_2023_values():
    res = by_id("kwb_xlsx", "kwb-2023-xlsx-utrecht")
    assert res.regions["level"].value_counts().to_dict() == {"buurt": 111, "wijk": 10,
                                                             "gemeente": 1}
    obs = res.observations[res.observations["region_code"] == "GM0344"].set_index("variable")
    assert obs.loc["a_inw", "value"] == 367_947
    assert obs.loc["a_woning", "value"] == 165_400
    assert obs.loc["g_wozbag", "value"] == 458
    assert obs.loc["a_soz_wb", "value"] == 10_410
    assert obs.loc["g_ink_pi", "status"] == STATUS_SECRET  # income not yet published


# --------------------------------------------------------------------------------------
# Amsterdam
# --------------------------------------------------------------------------------------

def test_amsterdam_2017_2019():
    r17 = by_id("kwb_amsterdam", "kwb-2017-statline-amsterdam")
    r19 = by_id("kwb_amsterdam", "kwb-2019-statline-amsterdam")
    for r in (r17, r19):
        assert r.regions["level"].value_counts().to_dict() == {"buurt": 479, "wijk": 99,
                                                               "land": 1, "gemeente": 1}
    assert values(r17.observations, "g_wozbag")["GM0363"] == 290
    assert values(r19.observations, "g_wozbag")["GM0363"] == 375
    assert values(r19.observations, "p_wcorpw")["GM0363"] == 42
    assert values(r19.observations, "g_hhgro")["WK036351"] == 2.6  # decimal comma
    # 2019 lost the secret/missing distinction: no 'geheim', NA -> 'ontbreekt'
    assert (r19.observations["status"] != STATUS_SECRET).all()
    assert (r17.observations["status"] == STATUS_SECRET).sum() > 7000


def test_amsterdam_2019_na_cells_become_missing():
    spec = mapping("kwb_amsterdam")
    raw = pd.read_csv(DATA / spec[2019]["_file"], dtype=str, keep_default_na=False)
    code = raw[spec["_meta"]["_code_column"]].str.strip()
    na = {(c, var) for col, var in spec[2019]["columns"].items()
          for c in code[raw[col].str.strip().isin(["NA", ""])]}
    obs = by_id("kwb_amsterdam", "kwb-2019-statline-amsterdam").observations
    missing = obs[obs["status"] == STATUS_MISSING]
    # README: 8,480 empty/NA cells in the file (6,613 "NA" + 1,867 blank); ind_wbi and the
    # postcode attributes account for the rest
    assert len(na) > 8300
    assert set(zip(missing["region_code"], missing["variable"])) == na


# --------------------------------------------------------------------------------------
# Heerlen: codes only from a real name list
# --------------------------------------------------------------------------------------

def test_heerlen_codes_come_from_the_name_list():
    spec = mapping("kwb_heerlen")["_meta"]
    names = json.loads((DATA / spec["_names_file"]).read_text(encoding="utf-8"))
    listed = {names["code"]} | {w["code"] for w in names["wijken"]} \
        | {b["code"] for b in names["buurten"]}
    con = sqlite3.connect(f"file:{DATA / spec['_file']}?mode=ro", uri=True)
    try:
        for year in range(2016, 2021):
            res = by_id("kwb_heerlen", f"kwb-{year}-heerlen-sqlite")
            assert set(res.regions["code"]) <= listed
            rows = pd.read_sql(f'select * from "Kerncijfers_wijken_en_buurten_{year}_pp"', con)
            real = rows[~rows.iloc[:, 0].str.startswith("Bron:")]
            assert len(real) == 81
            # every row is either matched or reported
            assert len(res.regions) + len(res.warnings) == 81
    finally:
        con.close()
    r16 = by_id("kwb_heerlen", "kwb-2016-heerlen-sqlite")
    assert any("Wijk 41 De Beitel" in w for w in r16.warnings)
    assert by_id("kwb_heerlen", "kwb-2018-heerlen-sqlite").warnings == []
    obs = by_id("kwb_heerlen", "kwb-2018-heerlen-sqlite").observations
    assert values(obs, "a_inw")["GM0917"] == 86_762
    assert values(obs, "a_inw")["BU09171000"] == 3_455  # Maria Gewanden
    # 2020 first release: WOZ not published -> missing, never 0
    woz20 = by_id("kwb_heerlen", "kwb-2020-heerlen-sqlite").observations
    assert (woz20.loc[woz20["variable"] == "g_wozbag", "status"] == STATUS_MISSING).all()


# --------------------------------------------------------------------------------------
# woonikveilig
# --------------------------------------------------------------------------------------

def test_woonikveilig_sources_regions_and_letter_codes():
    demo = by_id("woonikveilig", "woonikveilig-kwb-2024")
    reg = demo.regions
    # all 342 gemeenten of the 2024 indeling (counts from the folder's README, recounted there
    # from the files): the same regions as the national StatLine KWB 2024 export
    assert reg["level"].value_counts().to_dict() == {"buurt": 14574, "wijk": 3393, "gemeente": 342}
    statline = by_id("kwb_statline_csv", "kwb-2024-statline-csv").regions
    assert set(reg["code"]) == set(statline.loc[statline["level"] != "land", "code"])
    assert "BU0363AA02" in set(reg["code"])
    row = reg.set_index("code").loc["BU0363AA02"]
    assert row["wijk_code"] == "WK0363AA" and row["gemeente_code"] == "GM0363"
    # the file's own wijkCode on buurt records is wrong; ours comes from the buurt code
    doc = json.loads((DATA / "cbs-kwb-steden/woonikveilig-kwb2024-misdrijven/data/gemeente/"
                      "GM0917.json").read_text(encoding="utf-8"))
    b = doc["buurten"][0]
    assert b["wijkCode"] != "WK" + b["code"][2:8]
    assert reg.set_index("code").loc[b["code"], "wijk_code"] == "WK" + b["code"][2:8]
    assert values(demo.observations, "a_inw")["GM0917"] == 87_461
    assert "BU0363AA02" in set(demo.observations["region_code"])


def test_woonikveilig_crime_and_health():
    crime = by_id("woonikveilig", "woonikveilig-misdrijven").observations
    assert set(crime["variable"]) == {"misdrijven_totaal"}
    assert set(crime["period"]) == {2021, 2022, 2023, 2024, 2025}
    heerlen = crime[crime["region_code"] == "GM0917"].set_index("period")["value"]
    assert heerlen.to_dict() == {2021: 5067, 2022: 5913, 2023: 6218, 2024: 6040, 2025: 5750}
    assert values(crime[crime["period"] == 2024], "misdrijven_totaal")["BU09173302"] == 112
    health = by_id("woonikveilig", "woonikveilig-gezondheid").observations
    assert set(health["variable"]) == {"gez_ervaren_goed_18plus"}
    assert set(health["period"]) == {2012, 2016, 2020, 2022, 2024}
    # duplicates of other sources are kept apart by source_id
    statline = by_id("kwb_statline_csv", "kwb-2024-statline-csv").observations
    assert values(statline, "a_inw")["GM0917"] == 87_461


def test_woonikveilig_crime_of_four_gemeenten_is_gemeente_only():
    """Best, Voorst, Zoetermeer and Heeze-Leende: the police buurten do not match the KWB
    buurten (their buurten add up to 0-13 % of the gemeente, folder README). Every buurt count
    there is 'ontbreekt'; the gemeente totals are kept."""
    crime = by_id("woonikveilig", "woonikveilig-misdrijven").observations
    for gm in ("GM0753", "GM0285", "GM0637", "GM1658"):
        buurt = crime[crime["region_code"].str.startswith("BU" + gm[2:])]
        assert len(buurt) > 0 and (buurt["status"] == STATUS_MISSING).all()
        assert buurt["value"].isna().all()
        gem = crime[crime["region_code"] == gm]
        assert (gem["status"] == STATUS_OK).all() and len(gem) == 5
    assert values(crime[crime["period"] == 2025], "misdrijven_totaal")["GM0637"] == 5_611
    # a gemeente outside the list keeps its buurten (Schiermonnikoog, README spot check)
    schier = crime[crime["region_code"] == "BU00880009"].set_index("period")["value"]
    assert schier.to_dict() == {2021: 12, 2022: 8, 2023: 19, 2024: 7, 2025: 16}


def test_woonikveilig_wijk_crime_is_the_sum_of_complete_buurten():
    wijk = by_id("woonikveilig", "woonikveilig-misdrijven-wijk")
    obs = wijk.observations
    assert wijk.info.table_id == "47022NED" and "som van de buurten" in wijk.info.title
    assert set(obs["region_code"].str[:2]) == {"WK"}
    # Schiermonnikoog: one wijk, its two buurten (README: 21/27/19/13/17 + 12/8/19/7/16)
    schier = obs[obs["region_code"] == "WK008800"].set_index("period")["value"]
    assert schier.to_dict() == {2021: 33, 2022: 35, 2023: 38, 2024: 20, 2025: 33}
    # wijken in the four gemeenten without usable buurt counts have no sum
    zoetermeer = obs[obs["region_code"].str.startswith("WK0637")]
    assert len(zoetermeer) and (zoetermeer["status"] == STATUS_MISSING).all()


def test_woonikveilig_wijk_sum_needs_every_buurt():
    """Synthetic: a wijk of two buurten is summed only in the year both have a count."""
    from wijkmonitor.sources.woonikveilig import _wijk_sums

    regions = pd.DataFrame({"code": ["BU00010101", "BU00010102", "WK000101"],
                            "level": ["buurt", "buurt", "wijk"],
                            "wijk_code": ["WK000101", "WK000101", None]})
    crime = pd.DataFrame({
        "region_code": ["BU00010101", "BU00010102", "BU00010101", "BU00010102"],
        "geo_year": 2024, "period": [2021, 2021, 2022, 2022], "variable": "misdrijven_totaal",
        "value": [3.0, 4.0, 5.0, np.nan],
        "status": [STATUS_OK, STATUS_OK, STATUS_OK, STATUS_MISSING], "source_id": "x"})
    out = _wijk_sums(crime, regions, "w", 2024).set_index("period")
    assert out.loc[2021, "value"] == 7.0 and out.loc[2021, "status"] == STATUS_OK
    assert np.isnan(out.loc[2022, "value"]) and out.loc[2022, "status"] == STATUS_MISSING


# --------------------------------------------------------------------------------------
# buurtenrecommender
# --------------------------------------------------------------------------------------

def test_buurtenrecommender_zero_is_unknown():
    kwb = by_id("buurtenrecommender", "buurtenrecommender-kwb-2022").observations
    for var, zeros in (("g_wozbag", 120), ("p_koopw", 101), ("a_inw", 32)):
        sel = kwb[kwb["variable"] == var]
        assert (sel["value"] == 0).sum() == 0
        assert (sel["status"] == STATUS_MISSING).sum() == zeros
    assert kwb["region_code"].nunique() == 969
    assert (kwb["geo_year"] == 2022).all() and (kwb["period"] == 2022).all()
    lbm = by_id("buurtenrecommender", "buurtenrecommender-lbm3-2020").observations
    assert set(lbm["variable"]) == {"lbm3_score", "lbm3_fys", "lbm3_onv", "lbm3_soc", "lbm3_vrz"}
    assert (lbm["period"] == 2020).all()
    assert (lbm.loc[lbm["variable"] == "lbm3_score", "status"] == STATUS_MISSING).sum() == 255
