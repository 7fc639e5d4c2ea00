"""Intervals and the classification that respects them (issue 15), on small synthetic cases.

Every expected number is derived by hand in the comment next to it (z = 1.959964 for 95 %).
Thresholds are pinned as numbers (tolerance 1.0), not read from the modules.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from wijkmonitor import store, uncertainty
from wijkmonitor.analysis import classify, classify_uncertain, gaps
from wijkmonitor.catalogue import load_catalogue
from wijkmonitor.compute import compute

Z = 1.959964


@pytest.fixture(scope="module")
def cat():
    return load_catalogue()


def make_store(tmp_path, rows):
    path = tmp_path / "t.duckdb"
    with store.writing(path) as con:
        con.execute("INSERT INTO sources VALUES (?,?,?,?,?,?,?,?,?,?)",
                    ["s1", "T", "t", "p", "l", "loc", "2024-01-01", "kwb", "", 0])
        df = pd.DataFrame(rows, columns=["region_code", "geo_year", "period", "variable", "value",
                                         "status", "source_id"])
        store.append_observations(con, df)
        compute(con, load_catalogue())
    return path


def value(path, indicator, region, period=2024):
    with store.connect(path) as con:
        return con.execute("SELECT value, numerator, denominator, status FROM indicator_values "
                           "WHERE indicator=? AND region_code=? AND period=?",
                           [indicator, region, period]).fetchone()


# ---------------------------------------------------------------------------------------
# The default rule: both sides of every boundary (tolerance 1.0)
# ---------------------------------------------------------------------------------------

def _rule(change, lower, upper, tol=1.0):
    return classify_uncertain([change], [lower], [upper], tol)[0]


def test_change_exactly_at_the_tolerance_is_not_kleiner_or_groter():
    # |change| = 1.0 is not more than the tolerance: the interval [0.5, 1.5] also reaches past
    # +1.0, so neither gelijk -> onzeker
    assert _rule(1.0, 0.5, 1.5) == "onzeker"
    assert _rule(-1.0, -1.5, -0.5) == "onzeker"
    # 1.01 with the interval wholly above 0: groter; mirrored: kleiner
    assert _rule(1.01, 0.51, 1.51) == "groter"
    assert _rule(-1.01, -1.51, -0.51) == "kleiner"


def test_interval_touching_zero_does_not_exclude_it():
    assert _rule(-1.5, -3.0, 0.0) == "onzeker"
    assert _rule(-1.5, -3.0, -0.001) == "kleiner"
    assert _rule(1.5, 0.0, 3.0) == "onzeker"
    assert _rule(1.5, 0.001, 3.0) == "groter"


def test_gelijk_needs_the_whole_interval_within_the_tolerance():
    assert _rule(0.0, -1.0, 1.0) == "gelijk"        # both ends exactly at +/-1.0: inside
    assert _rule(0.0, -1.0, 1.001) == "onzeker"     # one end just outside
    assert _rule(0.0, -1.001, 1.0) == "onzeker"
    assert _rule(0.2, -0.3, 0.7) == "gelijk"


def test_a_large_change_with_a_wide_interval_is_onzeker():
    # |change| 2 > 1 but the interval [-0.5, 4.5] contains 0
    assert _rule(2.0, -0.5, 4.5) == "onzeker"


def test_unknown_interval_falls_back_to_the_tolerance():
    nan = float("nan")
    assert _rule(1.0, nan, nan) == "gelijk"
    assert _rule(1.01, nan, nan) == "groter"
    assert _rule(-1.01, nan, nan) == "kleiner"


def test_classify_with_a_standard_error_versus_omw():
    # higher is better, reference 70 both years; area 60 -> 61.5: achterstand 10 -> 8.5,
    # change -1.5. With se 0.5 the interval is -1.5 +/- 0.98 = [-2.48, -0.52]: kleiner.
    # With se 1.0: [-3.46, 0.46] contains 0: onzeker. omw (no se): kleiner.
    args = dict(higher_is_better=True, tolerance=1.0)
    assert classify([60], [61.5], [70], [70], change_se=[0.5], **args)[0] == "kleiner"
    assert classify([60], [61.5], [70], [70], change_se=[1.0], **args)[0] == "onzeker"
    assert classify([60], [61.5], [70], [70], **args)[0] == "kleiner"
    # se such that the upper end is exactly 0: 1.5 / z -> touches 0 -> onzeker
    assert classify([60], [61.5], [70], [70], change_se=[1.5 / uncertainty.Z], **args)[0] == "onzeker"
    # "beter dan referentie" and "te weinig waarnemingen" keep their precedence
    assert classify([60], [71], [70], [70], change_se=[5.0], **args)[0] == "beter dan referentie"
    assert classify([60], [np.nan], [70], [70], change_se=[0.1], **args)[0] == "te weinig waarnemingen"


# ---------------------------------------------------------------------------------------
# Intervals by method, derived by hand
# ---------------------------------------------------------------------------------------

def test_wilson_interval_by_hand():
    # k=10, n=100: centre (0.1 + z^2/200) / (1 + z^2/100) = 0.119207/1.038415 = 0.114797;
    # half z sqrt(0.0009 + z^2/40000) / 1.038415 = 0.059568 -> [0.055229, 0.174365]
    lo, hi = uncertainty.wilson([10], [100])
    assert lo[0] == pytest.approx(0.055229, abs=2e-6) and hi[0] == pytest.approx(0.174365, abs=2e-6)
    # k=0 keeps a positive upper end: z^2/(n+z^2) = 3.841459/103.841459 = 0.036994
    lo, hi = uncertainty.wilson([0], [100])
    assert lo[0] == pytest.approx(0, abs=1e-12) and hi[0] == pytest.approx(0.036994, abs=2e-6)


def test_exact_poisson_interval_by_hand():
    # Garwood: k=10 -> [chi2(0.025; 20)/2, chi2(0.975; 22)/2] = [4.7954, 18.3904]; k=0 -> [0, 3.6889]
    lo, hi = uncertainty.poisson([10, 0])
    assert lo[0] == pytest.approx(4.7954, abs=1e-4) and hi[0] == pytest.approx(18.3904, abs=1e-4)
    assert lo[1] == 0 and hi[1] == pytest.approx(3.6889, abs=1e-4)


def test_interval_per_indicator_method(cat):
    # a percentage from counts: 25 of 1 000 -> Wilson x 100
    iv = uncertainty.intervals(cat["herkomst_buiten_europa_pct"], [2.5], [25], [1000])
    lo, hi = uncertainty.wilson([25], [1000])
    assert iv["method"] == "wilson" and iv["lower"][0] == pytest.approx(100 * lo[0])
    assert iv["upper"][0] == pytest.approx(100 * hi[0])
    # a rate per 1 000 from counts: 10 of 2 000 inhabitants -> 1 000 x [4.7954, 18.3904] / 2 000
    iv = uncertainty.intervals(cat["bijstand_per_1000"], [5.0], [10], [2000])
    assert iv["method"] == "poisson"
    assert iv["lower"][0] == pytest.approx(2.3977, abs=1e-4) and iv["upper"][0] == pytest.approx(9.1952, abs=1e-4)
    # a published rate per 1 000 with its population: 5 per 1 000 of 2 000 = 10 crimes, the same
    iv = uncertainty.intervals(cat["geweld_per_1000"], [5.0], [np.nan], [2000])
    assert iv["method"] == "poisson" and iv["upper"][0] == pytest.approx(9.1952, abs=1e-4)
    # a CBS percentage published in whole percents: 40 -> [39.5, 40.5]
    iv = uncertainty.intervals(cat["koopwoningen_pct"], [40.0], [200.0], [500.0])
    assert iv["method"] == "afronding" and (iv["lower"][0], iv["upper"][0]) == (39.5, 40.5)
    assert iv["se"][0] == pytest.approx(0.5 / math.sqrt(3))
    # an amount in tenths: 26.7 -> [26.65, 26.75]
    iv = uncertainty.intervals(cat["inkomen_per_inwoner"], [26.7], [np.nan], [1000.0])
    assert iv["lower"][0] == pytest.approx(26.65) and iv["upper"][0] == pytest.approx(26.75)
    # scores and counts: no interval
    for ind in ("leefbaarometer_score", "inwoners"):
        iv = uncertainty.intervals(cat[ind], [4.1], [np.nan], [np.nan])
        assert iv["method"] == "geen" and np.isnan(iv["lower"][0]) and np.isnan(iv["se"][0])
    # a value not shown has no interval
    iv = uncertainty.intervals(cat["koopwoningen_pct"], [np.nan], [np.nan], [500.0])
    assert np.isnan(iv["lower"][0]) and np.isnan(iv["upper"][0])


def test_model_approximation_by_hand(cat, monkeypatch):
    # a = 0.6, b = 20, p0 = 0.75. One value with W = 10 000 at p = 75 %:
    # se = sqrt(0.36/4 + 400/20 000) = sqrt(0.09 + 0.02) = 0.331662; at p = 10 %: x sqrt(0.09/0.1875)
    monkeypatch.setattr(uncertainty, "model_parameters", lambda: dict(a=0.6, b=20.0, p0=0.75))
    iv = uncertainty.intervals(cat["ervaren_gezondheid_pct"], [75.0, 10.0], [np.nan, np.nan], [10_000, 10_000])
    assert iv["method"] == "model"
    assert iv["se"][0] == pytest.approx(0.331662, abs=1e-6)
    assert iv["se"][1] == pytest.approx(0.331662 * math.sqrt(0.09 / 0.1875), abs=1e-6)
    assert iv["lower"][0] == pytest.approx(75 - Z * 0.331662, abs=1e-5)
    # the error shrinks with the population but not below the floor a/2 = 0.3
    big = uncertainty.intervals(cat["ervaren_gezondheid_pct"], [75.0], [np.nan], [1e9])
    assert big["se"][0] == pytest.approx(0.3, abs=1e-6)
    # an area and its gemeente (W 10 000 and 1e9), baseline and latest: the change's se is
    # sqrt(2 x 0.11 + 2 x 0.09) = sqrt(0.4) = 0.632456 = sqrt(a^2 + b^2/W) of the calibration
    _, _, se = uncertainty.change_interval(0.0, iv["se"][0], iv["se"][0], big["se"][0], big["se"][0])
    assert se == pytest.approx(math.sqrt(0.36 + 400 / 10_000), abs=1e-6)


# ---------------------------------------------------------------------------------------
# The gap rows carry the intervals and both rules
# ---------------------------------------------------------------------------------------

def _area_values(rows):
    return pd.DataFrame(rows, columns=["unit_id", "unit_kind", "indicator", "period", "value", "numerator",
                                       "denominator", "status", "estimate", "publication"])


def _index(ids, gemeente="GM0001"):
    return pd.DataFrame(dict(area_id=ids, name=ids, programme="test", gemeente=gemeente,
                             gemeente_unit=gemeente))


def test_gap_interval_and_rules_on_a_rate_from_counts(cat):
    """bijstand_per_1000 (lower is better, tolerance 2 % of the reference baseline 20 = 0.4):
    an area of 2 000 inhabitants with 50 -> 46 uitkeringen (25 -> 23 per 1 000) against a
    gemeente of 1 000 000 at 20 per 1 000 both years: achterstand 5 -> 3, change -2. Poisson
    se of the area values: about
    sqrt(k)/W x 1000 = sqrt(50)/2 = 3.54 and sqrt(46)/2 = 3.39; the change's interval is about
    -2 +/- 1.96 x 4.9 = [-11.6, 7.6]: onzeker by default, kleiner by omw (|-2| > 0.4)."""
    pub = "T, indeling 2020"
    rows = [("GM0001", "gemeente", "bijstand_per_1000", 2016, 20.0, 20_000, 1_000_000, "ok", False, pub),
            ("GM0001", "gemeente", "bijstand_per_1000", 2022, 20.0, 20_000, 1_000_000, "ok", False, pub),
            ("a", "area", "bijstand_per_1000", 2016, 25.0, 50, 2000, "ok", False, pub),
            ("a", "area", "bijstand_per_1000", 2022, 23.0, 46, 2000, "ok", False, pub)]
    kw = dict(baseline=2016, latest=2022, indicators=["bijstand_per_1000"], values=_area_values(rows),
              index=_index(["a"]), catalogue=cat)
    r = gaps(**kw).iloc[0]
    assert r["class"] == "onzeker" and r["rule_name"] == "standaard" and r["interval_method"] == "poisson"
    assert r["change"] == pytest.approx(-2.0)
    assert r["change_lower"] < -10 and r["change_upper"] > 7
    lo, hi = uncertainty.poisson([50])
    assert r["lower_baseline"] == pytest.approx(1000 * lo[0] / 2000) and r["upper_baseline"] == pytest.approx(1000 * hi[0] / 2000)
    assert "niet te zeggen" in r["rule"]
    r = gaps(rule="omw", **kw).iloc[0]
    assert r["class"] == "kleiner" and r["rule_name"] == "omw"
    with pytest.raises(ValueError, match="onbekende regel"):
        gaps(rule="xyz", **kw)


def test_reference_from_another_publication_is_not_compared(cat):
    """The area from 50090NED on the 2020 division, the gemeente in 2012 from 50150NED on the
    2024 division: that year has no reference (niet vergelijkbaar) and the class says so."""
    rows = [("GM0001", "gemeente", "roker_pct", 2012, 25.0, np.nan, 50_000, "ok", True, "50150NED, indeling 2024"),
            ("GM0001", "gemeente", "roker_pct", 2020, 20.0, np.nan, 50_000, "ok", True, "50090NED, indeling 2020"),
            ("a", "area", "roker_pct", 2012, 30.0, np.nan, 5000, "ok", True, "50090NED, indeling 2020"),
            ("a", "area", "roker_pct", 2020, 26.0, np.nan, 5000, "ok", True, "50090NED, indeling 2020")]
    r = gaps(baseline=2012, latest=2020, indicators=["roker_pct"], values=_area_values(rows),
             index=_index(["a"]), catalogue=cat).iloc[0]
    assert r["class"] == "te weinig waarnemingen"
    assert np.isnan(r["reference_baseline"]) and r["reference_status_baseline"] == "niet vergelijkbaar"
    assert r["reference_latest"] == 20.0 and r["reference_publication_latest"] == "50090NED, indeling 2020"


# ---------------------------------------------------------------------------------------
# Defect 1: min_base only for what the monitor computes itself
# ---------------------------------------------------------------------------------------

def test_published_estimate_with_a_small_weight_is_shown(tmp_path):
    # eenzaam_pct: a published RIVM estimate weighted with the 25+ inhabitants (35 < min_base 100)
    p = make_store(tmp_path, [
        ("BU00010001", 2020, 2020, "gez_eenzaam_18plus", 52.5, "ok", "s1"),
        ("BU00010001", 2020, 2020, "a_25_44", 10.0, "ok", "s1"),
        ("BU00010001", 2020, 2020, "a_45_64", 15.0, "ok", "s1"),
        ("BU00010001", 2020, 2020, "a_65_oo", 10.0, "ok", "s1"),
    ])
    v, num, den, status = value(p, "eenzaam_pct", "BU00010001", 2020)
    assert (v, status, den) == (52.5, "ok", 35.0) and num == pytest.approx(52.5 * 35)


def test_published_percentage_with_a_small_base_is_shown(tmp_path):
    # koopwoningen_pct: CBS publishes 40 % of 20 dwellings (min_base 50): CBS's own disclosure
    p = make_store(tmp_path, [("WK000101", 2023, 2023, "p_koopw", 40.0, "ok", "s1"),
                              ("WK000101", 2023, 2023, "a_woning", 20.0, "ok", "s1")])
    assert value(p, "koopwoningen_pct", "WK000101", 2023) == (40.0, 8.0, 20.0, "ok")


def test_computed_ratio_below_min_base_stays_hidden(tmp_path):
    # a percentage the monitor computes from counts: 49 < 50 hidden, 50 shown (both sides)
    p = make_store(tmp_path, [("BU00010001", 2024, 2024, "a_inw", 49.0, "ok", "s1"),
                              ("BU00010001", 2024, 2024, "a_65_oo", 5.0, "ok", "s1"),
                              ("BU00010002", 2024, 2024, "a_inw", 50.0, "ok", "s1"),
                              ("BU00010002", 2024, 2024, "a_65_oo", 5.0, "ok", "s1")])
    assert value(p, "inwoners_65plus_pct", "BU00010001")[3] == "te weinig waarnemingen"
    assert value(p, "inwoners_65plus_pct", "BU00010002")[:2] == (10.0, 5.0)


def test_interval_fields_of_one_value(cat):
    """The four fields every value carries in `wijkmonitor value`, `wm.value` and `/api/v1/value`."""
    # Wilson on 30 of 100 (z = 1.959964): centre (0.3 + z^2/200) / (1 + z^2/100) = 0.307401,
    # half-width z sqrt(0.3 x 0.7 / 100 + z^2 / 40000) / (1 + z^2/100) = 0.088452 -> 21.895 .. 39.585
    f = uncertainty.interval_fields(cat["inwoners_65plus_pct"], 30.0, 30.0, 100.0)
    assert f["lower"] == pytest.approx(21.8949, abs=1e-3) and f["upper"] == pytest.approx(39.5849, abs=1e-3)
    assert f["interval_method"] == "wilson" and "Wilson" in f["interval_note"]
    # rounding: huurwoningen_pct has 0 decimals -> +/- 0.5
    f = uncertainty.interval_fields(cat["huurwoningen_pct"], 42.0)
    assert (f["lower"], f["upper"], f["interval_method"]) == (41.5, 42.5, "afronding")
    # not shown, or a count (no interval known): all four None
    none = dict(lower=None, upper=None, interval_method=None, interval_note=None)
    assert uncertainty.interval_fields(cat["inwoners_65plus_pct"], None, status="geheim") == none
    assert uncertainty.interval_fields(cat["inwoners_65plus_pct"], 30.0, 30.0, 100.0,
                                       status="te weinig waarnemingen") == none
    assert uncertainty.interval_fields(cat["inwoners"], 1200.0) == none


def test_interval_columns_equal_interval_fields_row_by_row(cat):
    """The vectorised table form (list endpoints) gives each row what `interval_fields` gives
    it alone: Wilson on 30 of 100 (by hand 21,9 .. 39,6 %), a value not shown, a count."""
    import pandas as pd

    df = pd.DataFrame(dict(indicator=["inwoners_65plus_pct", "inwoners_65plus_pct", "inwoners", "onbekend"],
                           value=[30.0, 12.0, 5000.0, 1.0], status=["ok", "te weinig waarnemingen", "ok", "ok"],
                           numerator=[30.0, np.nan, np.nan, np.nan], denominator=[100.0, 50.0, np.nan, np.nan]),
                      index=[7, 8, 9, 10])
    iv = uncertainty.interval_columns(df, cat)
    assert list(iv.columns) == uncertainty.INTERVAL_COLUMNS and list(iv.index) == [7, 8, 9, 10]
    assert round(iv.loc[7, "lower"], 1) == 21.9 and round(iv.loc[7, "upper"], 1) == 39.6
    for i, r in df.iterrows():
        f = uncertainty.interval_fields(cat[r["indicator"]], r["value"], r["numerator"], r["denominator"],
                                        status=r["status"]) if r["indicator"] in cat else dict.fromkeys(iv.columns)
        got = {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in iv.loc[i].items()}
        assert got == f, i
