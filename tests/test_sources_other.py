"""Offline adapters for the non-KWB sources, tested on the real mirror (wijkmonitor.config.data_dir)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from wijkmonitor.config import data_dir
from wijkmonitor.sources import (ADAPTER_MODULES, base, gemeentenamen, leefbaarometer, politie,
                                 rivm_gezondheid, vermogen)
from wijkmonitor.sources.base import SourceError

DATA = data_dir()
pytestmark = pytest.mark.skipif(not (DATA / "rivm-gezondheid-wijk-buurt").is_dir(),
                                reason="offline mirror not available")


def _value(obs: pd.DataFrame, code: str, variable: str, period: int) -> pd.Series:
    hit = obs[(obs.region_code == code) & (obs.variable == variable) & (obs.period == period)]
    assert len(hit) == 1, (code, variable, period, len(hit))
    return hit.iloc[0]


def _check_contract(results: list[base.SourceResult]) -> None:
    declared = base.variables()
    for r in results:
        obs = r.observations
        assert list(obs.columns) == base.OBS_COLUMNS
        assert set(obs.variable) <= set(declared), set(obs.variable) - set(declared)
        # never a number where the status is not ok, never NaN where it is ok
        assert obs.loc[obs.status != base.STATUS_OK, "value"].isna().all()
        assert obs.loc[obs.status == base.STATUS_OK, "value"].notna().all()
        assert set(obs.status) <= {base.STATUS_OK, base.STATUS_SECRET, base.STATUS_MISSING}
        assert (obs.source_id == r.info.source_id).all()
        assert not obs.duplicated(["region_code", "geo_year", "period", "variable"]).any()
        assert (DATA / r.info.location).exists()
        assert len(r.info.retrieved) == 10 and r.info.retrieved[4] == "-"
        if r.regions is not None:
            assert list(r.regions.columns) == base.REGION_COLUMNS
            assert set(r.regions.level) <= set(base.LEVELS)
            assert not r.regions.duplicated(["code", "year"]).any()


# --------------------------------------------------------------------------------- RIVM

@pytest.fixture(scope="module")
def rivm():
    start = time.perf_counter()
    results = rivm_gezondheid.read(DATA)
    elapsed = time.perf_counter() - start
    print(f"RIVM 50090NED: {len(results)} files read in {elapsed:.1f} s")
    assert elapsed < 40  # ~10-13 s on the dev machine; generous for a loaded CI runner
    return results


def _rivm(results, period, age):
    return next(r for r in results if r.info.source_id == f"rivm-50090ned-{period}-{age}")


def test_rivm_national_ervaren_gezondheid(rivm):
    _check_contract(rivm)
    for period, expected in ((2012, 76.1), (2016, 75.2), (2020, 78.4)):
        row = _value(_rivm(rivm, period, "18plus").observations, "NL00", "gez_ervaren_goed_18plus", period)
        assert row.value == pytest.approx(expected) and row.status == "ok"
        assert row.geo_year == 2020  # every wave is on the 2020 indeling


def test_rivm_dots_are_secret_not_zero(rivm):
    raw = pd.read_excel(DATA / "rivm-gezondheid-wijk-buurt/2012_18+.xlsx", dtype=str,
                        engine="calamine", usecols=["WijkenEnBuurten", "Eenzaam_28"])
    dots = raw["Eenzaam_28"].str.strip().eq(".")
    obs = _rivm(rivm, 2012, "18plus").observations
    eenzaam = obs[obs.variable == "gez_eenzaam_18plus"]
    secret = eenzaam[eenzaam.status == "geheim"]
    assert dots.sum() == len(secret) == 860
    assert set(secret.region_code) == set(raw.loc[dots, "WijkenEnBuurten"].str.strip())
    assert secret.value.isna().all()


def test_rivm_unestimated_columns_are_reported_not_stored(rivm):
    r = _rivm(rivm, 2012, "18plus")
    assert "gez_stress_heel_veel_18plus" not in set(r.observations.variable)
    assert any("HeelVeelStressInAfgelopen4Weken_26" in w for w in r.warnings)
    # 2020: stress was estimated
    assert "gez_stress_heel_veel_18plus" in set(_rivm(rivm, 2020, "18plus").observations.variable)
    # the 2020 18-65 file is not in the mirror: said so, not silently dropped
    assert not any(r.info.source_id == "rivm-50090ned-2020-18_65" for r in rivm)
    assert any("2020 18_65" in w for w in rivm[0].warnings)


def test_rivm_regions_2020(rivm):
    regions = rivm[0].regions
    assert regions.level.value_counts().to_dict() == {"buurt": 13808, "wijk": 3177,
                                                      "gemeente": 355, "land": 1}
    assert (regions.year == 2020).all()
    assert "NL00" in set(regions.code) and "NL01" not in set(regions.code)
    overvecht = regions[regions.code == "WK034403"].iloc[0]
    assert overvecht.gemeente_code == "GM0344" and overvecht.level == "wijk"
    assert regions.set_index("code").loc["GM0344", "name"] == "Utrecht"  # padding stripped
    # the other files carry the same regions: kept once
    assert all(r.regions is None for r in rivm[1:])
    obs = _rivm(rivm, 2020, "65plus").observations
    assert "WK034403" in set(obs.region_code)


def test_rivm_missing_column_names_file_year_column(tmp_path):
    m = base.mapping("rivm_gezondheid")
    cols = ["ID", "Leeftijd", "Marges", "WijkenEnBuurten", "Perioden", "Gemeentenaam_1",
            "SoortRegio_2", "Codering_3", *m["columns"]["18plus"]]
    frame = pd.DataFrame([["1", "20300", "MW00000", "NL01", "2020JJ00", "Nederland", "Land",
                           "NL01", *(["  50.0"] * len(m["columns"]["18plus"]))]], columns=cols)
    path = tmp_path / "50090NED_2020_18plus.csv"
    frame.drop(columns=["Eenzaam_28"]).to_csv(path, index=False)
    with pytest.raises(SourceError) as err:
        rivm_gezondheid.read_file(path, period=2020, age="18plus")
    assert "50090NED_2020_18plus.csv" in str(err.value)
    assert err.value.year == 2020 and err.value.field == "Eenzaam_28"
    # wrong period in the file is refused with row and field
    frame.to_csv(path, index=False)
    with pytest.raises(SourceError) as err:
        rivm_gezondheid.read_file(path, period=2016, age="18plus")
    assert err.value.field == "Perioden" and err.value.row == 2
    # a non-number is refused with row and field, not turned into NaN
    frame.loc[0, "Roker_11"] = "abc"
    frame.to_csv(path, index=False)
    with pytest.raises(SourceError) as err:
        rivm_gezondheid.read_file(path, period=2020, age="18plus")
    assert err.value.field == "Roker_11" and err.value.row == 2


# ----------------------------------------------------------------------- Leefbaarometer

@pytest.fixture(scope="module")
def lbm():
    return {r.info.source_id: r for r in leefbaarometer.read(DATA)}


def test_leefbaarometer_overvecht(lbm):
    _check_contract(list(lbm.values()))
    klasse = lbm["lbm2-klasse-wijk"].observations
    for year in (2002, 2008, 2012, 2014, 2016):
        assert _value(klasse, "WK034403", "lbm_klasse", year).value == 3
    dims = lbm["lbm2-dimensies-wijk"].observations
    assert _value(dims, "WK034403", "lbm_vei", 2012).value == pytest.approx(-0.238, abs=5e-4)
    assert _value(dims, "WK034403", "lbm_vei", 2016).value == pytest.approx(-0.293, abs=5e-4)
    assert (dims.geo_year == 2016).all() and (klasse.geo_year == 2016).all()
    gem = lbm["lbm2-klasse-gemeente"].observations
    assert _value(gem, "GM0344", "lbm_klasse", 2016).value == 6
    dist = gem[gem.period == 2016].value.value_counts().to_dict()
    assert dist == {7: 177, 6: 114, 8: 83, 9: 11, 4: 3, 5: 2}


def test_leefbaarometer_empty_is_missing(lbm):
    raw = pd.read_excel(DATA / "leefbaarometer/wijk.xlsx", engine="calamine")
    klasse = lbm["lbm2-klasse-wijk"].observations
    for year, col in ((2002, "KL02"), (2016, "KL16")):
        missing = klasse[(klasse.period == year) & (klasse.status == "ontbreekt")]
        assert len(missing) == raw[col].isna().sum()
    assert raw["KL02"].isna().sum() == 197 and raw["KL16"].isna().sum() == 135
    dims = lbm["lbm2-dimensies-wijk"].observations
    assert (dims.status == "ontbreekt").sum() == 2418
    # the total score is the sum of the five dimensions (README), where all are present
    wide = dims[dims.status == "ok"].pivot_table(index=["region_code", "period"],
                                                 columns="variable", values="value").dropna()
    parts = wide[["lbm_won", "lbm_bev", "lbm_vrz", "lbm_vei", "lbm_fys"]].sum(axis=1)
    np.testing.assert_allclose(parts, wide["lbm_score"], atol=1e-6)


# ------------------------------------------------------------------------------ politie

@pytest.fixture(scope="module")
def crime():
    return {r.info.source_id: r for r in politie.read(DATA)}


def test_politie_47013ned_2024_sums_to_nederland(crime):
    _check_contract(list(crime.values()))
    r = crime["politie-47013ned-2024"]
    assert r.warnings == []  # every gemeente name matched a code
    obs = r.observations
    gm = obs[obs.region_code.str.startswith("GM")]
    assert len(gm) == gm.region_code.nunique() == 342
    nl = _value(obs, "NL00", "misdrijven_totaal_politie", 2024).value
    assert nl == 805559
    raw = politie.read_csv_rows(DATA / r.info.location)
    niet = float(raw[raw[0] == "Gemeenten; niet in te delen"].iloc[0, 1])
    assert gm.value.sum() + niet == nl
    assert (obs.geo_year == 2025).all()
    assert _value(obs, "GM0344", "misdrijven_totaal_politie", 2024).value == 25271  # Utrecht (gemeente)
    assert "GM0888" in set(gm.region_code)  # Beek (L.)
    r23 = crime["politie-47013ned-2022-2023"]
    assert r23.warnings == []
    assert _value(r23.observations, "NL00", "misdrijven_totaal_politie", 2022).value == 800027
    assert _value(r23.observations, "NL00", "misdrijven_totaal_politie", 2023).value == 805590


def test_politie_voorspelmodel_zeros_never_stored(crime):
    r = crime["cbs-83648ned-2010-2020"]
    obs = r.observations
    assert not (obs.value == 0).any()
    raw = pd.read_csv(DATA / r.info.location)
    mapped = list(base.mapping("politie")["cbs_83648ned_2010_2020"]["columns"])
    # every zero cell of a stored (matched) gemeente became "ontbreekt"
    unmatched = {w.split("'")[1] for w in r.warnings}
    stored = raw[~raw.RegioS.isin(unmatched)]
    assert (stored[mapped] == 0).to_numpy().sum() == (obs.status == "ontbreekt").sum()
    nl = lambda v, y: _value(obs, "NL00", v, y).value  # noqa: E731
    assert nl("misdrijven_totaal", 2010) == 1200825 and nl("misdrijven_totaal", 2020) == 808030
    assert nl("misdrijven_per1000", 2010) == 72.4 and nl("misdrijven_per1000", 2020) == 46.4
    # gemeenten dissolved before 2012 are reported, never coded
    assert any("'Abcoude'" in w for w in r.warnings)
    # 's-Gravenhage (gemeente) matched through its suffix, name without suffix in regions
    assert _value(obs, "GM0518", "misdrijven_totaal", 2010).value == 58085
    assert r.regions.set_index(["code", "year"]).loc[("GM0518", 2010), "name"] == "'s-Gravenhage"
    # counts are rounded to 5 by CBS
    counts = obs[(obs.variable == "misdrijven_totaal") & (obs.status == "ok")]
    assert (counts.value % 5 == 0).all()


def test_politie_83648ned_2022(crime):
    obs = crime["cbs-83648ned-2022"].observations
    assert obs.region_code.nunique() == 345 and (obs.status == "ok").all()
    tot = obs[obs.variable == "misdrijven_totaal"].value
    assert tot.min() == 35 and tot.max() == 76605


# ----------------------------------------------------------------------------- vermogen

def test_vermogen_amsterdam_2023():
    results = vermogen.read(DATA)
    _check_contract(results)
    r23 = next(r for r in results if r.info.source_id == "cbs-vermogen-2023")
    assert r23.warnings == []
    obs = r23.observations
    assert obs.region_code.nunique() == 342
    assert _value(obs, "GM0363", "hh_particulier", 2023).value == 489800  # "489,8" x 1 000
    assert _value(obs, "GM0363", "m_hh_ver", 2023).value == 13.9
    assert _value(obs, "GM0344", "m_hh_ver", 2023).value == 30.9
    leiderdorp = _value(obs, "GM0547", "g_hh_ver", 2023)
    assert leiderdorp.status == "geheim" and np.isnan(leiderdorp.value)
    assert "voorlopig" in next(r for r in results if r.info.source_id == "cbs-vermogen-2024").info.note


def test_vermogen_missing_column(tmp_path):
    (tmp_path / "cbs-vermogen-huishoudens-gemeente").mkdir()
    (tmp_path / "cbs-geometries").symlink_to(DATA / "cbs-geometries")
    text = (DATA / "cbs-vermogen-huishoudens-gemeente/vermogen_2022.csv").read_text(encoding="utf-8")
    lines = text.splitlines()[:8] + ['"Bron: CBS"']
    lines[4] = lines[4].replace('"Mediaan vermogen"', '"Mediaan"')
    (tmp_path / "cbs-vermogen-huishoudens-gemeente/vermogen_2022.csv").write_text(
        "\n".join(lines), encoding="utf-8")
    with pytest.raises(SourceError) as err:
        vermogen.read_file(tmp_path, 2022)
    assert "vermogen_2022.csv" in str(err.value) and err.value.year == 2022
    assert err.value.field == "Mediaan vermogen"


# ------------------------------------------------------------------------ name matching

def test_gemeente_names_match_without_guessing():
    matched, unmatched = gemeentenamen.match_gemeenten(
        ["Utrecht (gemeente)", "Beek (L.)", "Bergen", "Bergen (NH.)", "Atlantis"], 2024, DATA)
    assert matched == {"Utrecht (gemeente)": "GM0344", "Beek (L.)": "GM0888",
                       "Bergen (NH.)": "GM0373"}
    assert unmatched == ["Bergen", "Atlantis"]
    # nearest year first: Haren existed in 2018, not in 2019 (merged into Groningen)
    assert gemeentenamen.match_gemeenten(["Haren"], 2018, DATA)[0] == {"Haren": "GM0017"}
    assert gemeentenamen.match_gemeenten(["Haren"], 2019, DATA, exact_year_only=True)[1] == ["Haren"]


def test_registered():
    for name in ("rivm_gezondheid", "leefbaarometer", "politie", "vermogen", "statline_online",
                 "pdok_online"):
        assert name in ADAPTER_MODULES
