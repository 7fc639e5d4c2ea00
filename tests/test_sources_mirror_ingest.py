"""The adapters of issue 14 item 4: Amsterdam KWB per buurt 2020/2023/2024 and KWB per gemeente
(wonen) 2020-2025. Expected values were read by hand from the raw files (and the spot checks of
each folder's README); bad input on small synthetic files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from wijkmonitor.config import data_dir
from wijkmonitor.sources import ADAPTER_MODULES, kwb_amsterdam_buurt, kwb_gemeente_wonen
from wijkmonitor.sources.base import SourceError, mapping

DATA = data_dir()
_CACHE: dict[str, list] = {}


def results(module):
    if module.NAME not in _CACHE:
        _CACHE[module.NAME] = module.read(DATA)
    return _CACHE[module.NAME]


def obs_of(module, source_id: str) -> pd.DataFrame:
    [res] = [r for r in results(module) if r.info.source_id == source_id]
    return res.observations


def cell(obs: pd.DataFrame, code: str, variable: str):
    sel = obs[(obs["region_code"] == code) & (obs["variable"] == variable)]
    assert len(sel) == 1, (code, variable, len(sel))
    return sel["value"].iloc[0], sel["status"].iloc[0]


# --------------------------------------------------------------------------------------
# Amsterdam 2020 / 2023 / 2024 per buurt
# --------------------------------------------------------------------------------------

def test_amsterdam_registered_after_the_national_sources():
    order = ADAPTER_MODULES
    assert order.index("kwb_amsterdam_buurt") > order.index("kwb_statline_csv")
    assert order.index("kwb_amsterdam_buurt") > order.index("woonikveilig")
    assert order.index("kwb_gemeente_wonen") > order.index("kwb_geojson")
    assert order.index("kwb_gemeente_wonen") < order.index("kwb_xlsx")  # national before city


def test_amsterdam_sources_files_and_periods():
    res = {r.info.source_id: r for r in results(kwb_amsterdam_buurt)}
    assert set(res) == {"kwb-2020-amsterdam-buurt", "kwb-2023-amsterdam-buurt",
                        "kwb-2024-amsterdam-buurt"}
    # the merged file with imputed income is never read
    assert all(not r.info.location.endswith("_2024.csv") for r in res.values())
    assert {r.info.table_id for r in res.values()} == {"84799NED", "85618NED", "85984NED"}
    for year, r in ((2020, res["kwb-2020-amsterdam-buurt"]), (2023, res["kwb-2023-amsterdam-buurt"]),
                    (2024, res["kwb-2024-amsterdam-buurt"])):
        assert set(r.observations["period"]) == {year} and set(r.observations["geo_year"]) == {year}
        levels = r.regions["level"].value_counts().to_dict()
        # README: 1 GM + 99 WK + 479 BU (2020); 1 + 110 + 517 (2023/24)
        assert levels == ({"gemeente": 1, "wijk": 99, "buurt": 479} if year == 2020
                          else {"gemeente": 1, "wijk": 110, "buurt": 517})


def test_amsterdam_2020_values_by_hand():
    obs = obs_of(kwb_amsterdam_buurt, "kwb-2020-amsterdam-buurt")
    assert cell(obs, "GM0363", "a_inw") == (872757, "ok")
    assert cell(obs, "GM0363", "g_wozbag") == (416, "ok")  # "416.0", x 1 000 euro
    # Kop Zeedijk: 1100 inwoners, WOZ 423, 20 % koop, household size "1,4" (decimal comma)
    assert cell(obs, "BU03630000", "a_inw") == (1100, "ok")
    assert cell(obs, "BU03630000", "g_wozbag") == (423, "ok")
    assert cell(obs, "BU03630000", "p_koopw") == (20, "ok")
    assert cell(obs, "BU03630000", "g_hhgro") == (1.4, "ok")
    # income columns of Kop Zeedijk: 40,7;37;31,6;54,7;12,1;12,3;14,9
    assert cell(obs, "BU03630000", "g_ink_pi") == (37, "ok")
    assert cell(obs, "BU03630000", "p_hh_li") == (54.7, "ok")
    assert cell(obs, "BU03630000", "p_hh_lkk") == (12.3, "ok")
    # "Pct_Below_120Pct_Social_Min" is the 120 % measure (GM0363 19,6; KWB 2019 p_hh_120 19,5)
    assert cell(obs, "GM0363", "p_hh_120") == (19.6, "ok")
    assert not (obs["variable"] == "p_hh_osm").any()


def test_amsterdam_2020_imputed_buurt_income_is_not_read():
    obs = obs_of(kwb_amsterdam_buurt, "kwb-2020-amsterdam-buurt")
    # BU03631100 (15 inwoners): every income column equals WK036311's in the file
    value, status = cell(obs, "BU03631100", "g_ink_pi")
    assert np.isnan(value) and status == "ontbreekt"
    assert cell(obs, "BU03631100", "a_inw") == (15, "ok")  # its other figures stay
    assert cell(obs, "WK036311", "g_ink_pi")[1] == "ok"  # the wijk keeps its own value
    [res] = [r for r in results(kwb_amsterdam_buurt) if r.info.source_id == "kwb-2020-amsterdam-buurt"]
    assert any("80 buurten" in w for w in res.warnings)
    assert "wijk value" in res.info.note  # the provenance says why


def test_amsterdam_2023_income_and_2024_housing_by_hand():
    inc = obs_of(kwb_amsterdam_buurt, "kwb-2023-amsterdam-buurt")
    assert cell(inc, "BU0363AE01", "p_hh_lkk") == (12.3, "ok")
    assert cell(inc, "BU0363AE01", "p_hh_120") == (17.7, "ok")
    assert cell(inc, "GM0363", "g_ink_pi") == (38.6, "ok")
    assert cell(inc, "BU0363AA02", "g_ink_pi") == (41.7, "ok")
    value, status = cell(inc, "BU0363AA01", "g_ink_pi")  # empty in the raw income file
    assert np.isnan(value) and status == "ontbreekt"
    assert not inc["variable"].isin(["a_inw", "g_wozbag"]).any()
    hou = obs_of(kwb_amsterdam_buurt, "kwb-2024-amsterdam-buurt")
    assert cell(hou, "BU0363AE01", "a_inw") == (1185, "ok")
    assert cell(hou, "BU0363AE01", "g_wozbag") == (476, "ok")
    assert cell(hou, "GM0363", "a_inw") == (931298, "ok")
    assert cell(hou, "GM0363", "g_wozbag") == (498, "ok")
    assert not hou["variable"].isin(["g_ink_pi", "p_hh_lkk"]).any()


def test_amsterdam_crosswalk_2015_2022():
    cw = kwb_amsterdam_buurt.buurt_crosswalk(DATA)
    assert len(cw) == 439
    assert cw["code_2015"].is_unique and cw["code_2022"].is_unique
    row = cw.set_index("code_2015").loc["BU03630505"]
    assert row["code_2022"] == "BU0363AA01" and row["name_2022"] == "Planciusbuurt-Noord"
    assert row["wijk_2022"] == "WK0363AA"


def _adam_spec(tmp_path, rows, *, check=None):
    header = "District_Type;Municipality_Name;Area_Code;Population_Total;Avg_Income_Per_Inhabitant_1000EUR;Pct_Low_Income_Households;Pct_Highest_20Pct_Income;Pct_Lowest_40Pct_Income\n"
    (tmp_path / "a.csv").write_text(header + "".join(";".join(r) + "\n" for r in rows), encoding="utf-8")
    spec = {"_file": "a.csv", "_table_id": "T", "_geo_year": 2030, "_period": 2030,
            "columns": {"Population_Total": "a_inw", "Avg_Income_Per_Inhabitant_1000EUR": "g_ink_pi",
                        "Pct_Low_Income_Households": "p_hh_lkk",
                        "Pct_Highest_20Pct_Income": "p_hh_hi", "Pct_Lowest_40Pct_Income": "p_hh_li"}}
    if check:
        spec["_imputed_if_equal_to_wijk"] = check
    return spec


META = mapping("kwb_amsterdam_buurt")["_meta"]
INCOME = ["Avg_Income_Per_Inhabitant_1000EUR", "Pct_Low_Income_Households",
          "Pct_Highest_20Pct_Income", "Pct_Lowest_40Pct_Income"]


@pytest.mark.parametrize("equal, imputed", [(3, False), (4, True)])
def test_amsterdam_imputation_rule_boundary(tmp_path, equal, imputed):
    wijk = ["30,0", "10,0", "20,0", "50,0"]
    other = ["31,0", "11,0", "21,0", "51,0"]
    buurt = wijk[:equal] + other[equal:]
    rows = [["W", "Amsterdam", "WK036301", "100", *wijk],
            ["B1", "Amsterdam", "BU03630101", "50", *buurt],
            ["B2", "Amsterdam", "BU03630102", "50", *other]]
    spec = _adam_spec(tmp_path, rows, check={"_min_equal": 4, "_columns": INCOME})
    res = kwb_amsterdam_buurt.read_year(tmp_path, 2030, spec, META)
    status = cell(res.observations, "BU03630101", "g_ink_pi")[1]
    assert status == ("ontbreekt" if imputed else "ok")
    assert cell(res.observations, "BU03630101", "a_inw") == (50, "ok")
    assert cell(res.observations, "WK036301", "g_ink_pi") == (30, "ok")


def test_amsterdam_only_buurt_of_its_wijk_keeps_its_income(tmp_path):
    wijk = ["30,0", "10,0", "20,0", "50,0"]
    rows = [["W", "Amsterdam", "WK036301", "100", *wijk],
            ["B1", "Amsterdam", "BU03630101", "100", *wijk]]
    spec = _adam_spec(tmp_path, rows, check={"_min_equal": 4, "_columns": INCOME})
    res = kwb_amsterdam_buurt.read_year(tmp_path, 2030, spec, META)
    assert cell(res.observations, "BU03630101", "g_ink_pi") == (30, "ok")


@pytest.mark.parametrize("code, value, message, row, field", [
    ("BU03630101", "veel", "geen getal", 3, "Population_Total"),
    ("BU05990101", "5", "ligt niet in GM0363", 3, "Area_Code"),
    ("XX03630101", "5", "geen CBS-code", 3, "Area_Code"),
    ("WK036301", "5", "dubbel", 3, "Area_Code"),
])
def test_amsterdam_bad_input_names_file_row_field(tmp_path, code, value, message, row, field):
    rows = [["W", "Amsterdam", "WK036301", "100", "1", "1", "1", "1"],
            ["B", "Amsterdam", code, value, "1", "1", "1", "1"]]
    spec = _adam_spec(tmp_path, rows)
    with pytest.raises(SourceError) as err:
        kwb_amsterdam_buurt.read_year(tmp_path, 2030, spec, META)
    exc = err.value
    assert exc.file.endswith("a.csv") and exc.row == row and exc.field == field
    assert message in str(exc) and "rij 3" in str(exc)


def test_amsterdam_missing_column(tmp_path):
    spec = _adam_spec(tmp_path, [["W", "Amsterdam", "WK036301", "1", "1", "1", "1", "1"]])
    spec["columns"]["Pct_Rental"] = "p_huurw"
    with pytest.raises(SourceError) as err:
        kwb_amsterdam_buurt.read_year(tmp_path, 2030, spec, META)
    assert err.value.field == "Pct_Rental" and "ontbreekt" in str(err.value)


# --------------------------------------------------------------------------------------
# KWB per gemeente, wonen, 2020-2025
# --------------------------------------------------------------------------------------

def test_gemeente_wonen_rows_per_year():
    res = {r.info.source_id: r for r in results(kwb_gemeente_wonen)}
    counts = {sid: len(r.regions) for sid, r in res.items()}
    assert counts == {"kwb-2020-gemeente-wonen": 355, "kwb-2021-gemeente-wonen": 352,
                      "kwb-2022-gemeente-wonen": 345, "kwb-2023-gemeente-wonen": 342,
                      "kwb-2024-gemeente-wonen": 342, "kwb-2025-gemeente-wonen": 342}
    assert res["kwb-2025-gemeente-wonen"].info.table_id == "86165NED"
    for r in res.values():
        assert set(r.regions["level"]) == {"gemeente"}


def test_gemeente_wonen_values_by_hand_and_woz_in_thousands():
    by_year = {int(r.info.source_id[4:8]): r.observations for r in results(kwb_gemeente_wonen)}
    assert cell(by_year[2020], "GM0363", "a_inw") == (872757, "ok")
    assert cell(by_year[2024], "GM0363", "a_inw") == (931298, "ok")
    assert cell(by_year[2025], "GM0363", "a_inw") == (934526, "ok")
    # file: 416000 / 516000 / 498000 euro -> canonical x 1 000 euro
    assert cell(by_year[2020], "GM0363", "g_wozbag") == (416, "ok")
    assert cell(by_year[2023], "GM0363", "g_wozbag") == (516, "ok")
    assert cell(by_year[2024], "GM0363", "g_wozbag") == (498, "ok")
    assert cell(by_year[2025], "GM0344", "a_woning") == (168736, "ok")
    assert cell(by_year[2025], "GM0344", "p_koopw") == (45, "ok")
    assert cell(by_year[2025], "GM0344", "p_wcorpw") == (31, "ok")
    assert cell(by_year[2020], "GM0599", "p_wcorpw") == (44, "ok")
    assert cell(by_year[2020], "GM0599", "p_huurw") == (65, "ok")
    assert cell(by_year[2020], "GM0599", "g_wozbag") == (221, "ok")
    # the unit of every g_wozbag is x 1 000 euro: no gemeente above 2 000 (2 million euro)
    woz = pd.concat(by_year.values()).query("variable == 'g_wozbag'")["value"]
    assert woz.between(50, 2000).all()


HEADER = "year,gwb_code,gm_naam,recs,a_woning,g_wozbag\n"
WONEN_META = mapping("kwb_gemeente_wonen")["_meta"]


def _wonen(tmp_path, body: str):
    (tmp_path / "k.csv").write_text(HEADER + body, encoding="utf-8")
    return {"_file": "k.csv", "_table_id": "T", "columns": {"a_woning": "a_woning",
                                                            "g_wozbag": "g_wozbag"}}


def test_gemeente_wonen_na_is_missing_and_scale(tmp_path):
    spec = _wonen(tmp_path, "2030,GM0001,A,Gemeente,NA,250000\n2030,GM0002,B,Gemeente,10,NA\n")
    res = kwb_gemeente_wonen.read_year(tmp_path, 2030, spec, WONEN_META)
    value, status = cell(res.observations, "GM0001", "a_woning")
    assert np.isnan(value) and status == "ontbreekt"
    assert cell(res.observations, "GM0001", "g_wozbag") == (250, "ok")
    assert cell(res.observations, "GM0002", "g_wozbag")[1] == "ontbreekt"


@pytest.mark.parametrize("body, row, field, message", [
    ("2030,GM0001,A,Gemeente,10,1\n2030,GM0002,B,Gemeente,veel,1\n", 3, "a_woning", "geen getal"),
    ("2030,GM0001,A,Gemeente,10,1\n2029,GM0002,B,Gemeente,10,1\n", 3, "year", "hoort niet"),
    ("2030,GM0001,A,Gemeente,10,1\n2030,WK000101,B,Gemeente,10,1\n", 3, "recs", "past niet"),
    ("2030,GM0001,A,Gemeente,10,1\n2030,WK000101,B,Wijk,10,1\n", 3, "gwb_code", "geen gemeentecode"),
    ("2030,GM0001,A,Gemeente,10,1\n2030,GM0001,B,Gemeente,10,1\n", 3, "gwb_code", "dubbel"),
])
def test_gemeente_wonen_bad_input_names_file_row_field(tmp_path, body, row, field, message):
    spec = _wonen(tmp_path, body)
    with pytest.raises(SourceError) as err:
        kwb_gemeente_wonen.read_year(tmp_path, 2030, spec, WONEN_META)
    exc = err.value
    assert exc.file.endswith("k.csv") and exc.row == row and exc.field == field
    assert message in str(exc) and "jaar 2030" in str(exc)


# --------------------------------------------------------------------------------------
# In the real store: precedence and no shown value lost
# --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def iv(real_store):
    from wijkmonitor import store

    con = store.connect(real_store)
    yield lambda ind, code, period: con.execute(
        "SELECT value, status, source_id FROM indicator_values WHERE indicator = ? "
        "AND region_code = ? AND period = ?", [ind, code, period]).fetchall()
    con.close()


def test_national_sources_win_over_re_publications(iv):
    # GM0363 2024 inwoners: the national StatLine export, not the two re-publications
    assert iv("inwoners", "GM0363", 2024) == [(931298, "ok", "kwb-2024-statline-csv")]
    # Kop Zeedijk 2024 WOZ: 475 nationally (woonikveilig, KWB 2024), 476 in the Amsterdam file
    assert iv("woz_gemiddeld", "BU0363AE01", 2024) == [(475, "ok", "woonikveilig-kwb-2024")]
    # 2022: the PDOK gemeente attributes come before the gemeente re-publication
    assert iv("woz_gemiddeld", "GM0363", 2022)[0][2] == "kwb-2022-pdok-gemeenten-geojson"
    # where only the new sources publish, their values are shown
    assert iv("woz_gemiddeld", "GM0363", 2021) == [(423, "ok", "kwb-2021-gemeente-wonen")]
    assert iv("corporatiewoningen_pct", "GM0599", 2020) == [(44, "ok", "kwb-2020-gemeente-wonen")]
    assert iv("woz_gemiddeld", "BU03630000", 2020) == [(423, "ok", "kwb-2020-amsterdam-buurt")]
    assert iv("inkomen_per_inwoner", "BU0363AA02", 2023) == [(41.7, "ok", "kwb-2023-amsterdam-buurt")]
    # imputed income is not shown
    assert iv("inkomen_per_inwoner", "BU03631100", 2020)[0][:2] == (None, "niet beschikbaar")


#: The only shown values of main (before issue 14) that may disappear: registered crime per buurt
#: in the four gemeenten whose police buurten differ from the KWB buurten (woonikveilig folder
#: README: their buurten add up to 0-13 % of the gemeente's crimes), now 'ontbreekt' on purpose,
#: and the 2024 rate computed from those counts.
UNUSABLE_CRIME_GEMEENTEN = ("GM0753", "GM0285", "GM0637", "GM1658")
ALLOWED_LOSSES = {("misdrijven", "buurt", y) for y in range(2021, 2026)} | {
    ("misdrijven_per_1000", "buurt", 2024)}


def test_no_shown_value_of_main_disappears(real_store, iv):
    from pathlib import Path

    from wijkmonitor import coverage, store

    before = coverage.load(Path(__file__).parent / "fixtures" / "coverage_mirror_main_2026-12-07.json")
    after = coverage.coverage(real_store)
    lost = coverage.compare(before, after)
    unexplained = lost[[(r.indicator, r.level, r.year) not in ALLOWED_LOSSES for r in lost.itertuples()]]
    assert unexplained.empty, unexplained.to_string()
    # every allowed loss is at most the buurten of those four gemeenten, and none of them is shown
    with store.connect(real_store) as con:
        n_buurten = con.execute(
            "SELECT count(*) FROM regions WHERE year = 2024 AND level = 'buurt' AND gemeente_code IN "
            "(SELECT unnest(?))", [list(UNUSABLE_CRIME_GEMEENTEN)]).fetchone()[0]
        shown = con.execute(
            "SELECT count(*) FROM indicator_values WHERE indicator IN ('misdrijven', 'misdrijven_per_1000') "
            "AND status = 'ok' AND left(region_code, 2) = 'BU' AND 'GM' || substr(region_code, 3, 4) "
            "IN (SELECT unnest(?))", [list(UNUSABLE_CRIME_GEMEENTEN)]).fetchone()[0]
    assert shown == 0
    assert (lost["change"] >= -n_buurten).all()
    # the RIVM 2020 estimates of WK036310 and BU03632302 (KWB 2020: 80 and 75 inwoners) are
    # published values: shown whatever their base (statistics issue, defect a)
    for code in ("WK036310", "BU03632302"):
        assert iv("roker_pct", code, 2020)[0][1] == "ok"
    gained = coverage.gains(before, after)
    assert gained["change"].sum() > 15_000
