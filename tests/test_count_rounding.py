"""The rounding of published counts as an interval (issue 15, deliverable 1: "counts rounded or
perturbed by CBS"), on synthetic cases, and on one real area of the real store.

Every expected number is derived by hand in the comment next to it (z = 1.959964 for 95 %).
Random ("aselect") rounding to a unit u: one error is less than u (an integer count: at most
u - 1), variance u^2/6; nearest rounding: at most u/2, variance u^2/12. A sum of n rounded
parts: half-width min(n * bound, z * u * sqrt(n * k)).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from wijkmonitor import api, uncertainty
from wijkmonitor.catalogue import load_catalogue

Z = 1.959964


@pytest.fixture(scope="module")
def cat():
    return load_catalogue()


# -- the half-width of one rounded count and of a sum of n --------------------------------

def test_one_randomly_rounded_count_is_capped_by_the_bound_of_unit_minus_one():
    # unit 5: bound 4; z * 5 / sqrt(6) = 4.0008 > 4, so the bound: +/- 4
    half, se = uncertainty.count_rounding(5.0, 1, "aselect")
    assert float(half) == pytest.approx(4.0)
    assert float(se) == pytest.approx(5.0 / math.sqrt(6.0))     # 2.0412


def test_one_randomly_rounded_count_of_unit_ten_uses_the_normal_interval():
    # unit 10: bound 9; z * 10 / sqrt(6) = 8.0016 < 9
    half, _ = uncertainty.count_rounding(10.0, 1, "onbekend")
    assert float(half) == pytest.approx(Z * 10.0 / math.sqrt(6.0), abs=1e-4)
    assert float(half) < 9.0


def test_nearest_rounding_of_one_count_is_half_a_unit():
    # z * 10 / sqrt(12) = 5.658 > the bound 5: +/- 5, exactly half the unit
    half, se = uncertainty.count_rounding(10.0, 1, "dichtstbij")
    assert float(half) == pytest.approx(5.0)
    assert float(se) == pytest.approx(10.0 / math.sqrt(12.0))


def test_sum_of_n_rounded_parts_is_far_narrower_than_the_worst_case():
    # 9 buurten rounded to 5 at random: se = 5 * sqrt(9/6) = 6.1237; half = z * se = 12.002;
    # the worst case 9 * 4 = 36 is not taken
    half, se = uncertainty.count_rounding(5.0, 9, "aselect")
    assert float(se) == pytest.approx(5.0 * math.sqrt(1.5))
    assert float(half) == pytest.approx(Z * 5.0 * math.sqrt(1.5), abs=1e-4)
    assert float(half) < 9 * 4.0
    # two parts: z * 5 * sqrt(2/6) = 5.658, below the worst case 8
    half2, _ = uncertainty.count_rounding(5.0, 2, "aselect")
    assert float(half2) == pytest.approx(Z * 5.0 * math.sqrt(2.0 / 6.0), abs=1e-4)


def test_rule_lookup_by_source_level_and_variable():
    # KWB: wijk and buurt population rounded at random to 5; the gemeente is not rounded
    assert uncertainty.rounding_of(["a_inw"], "kwb-2024-statline-csv", "wijk") == (5.0, "aselect")
    assert uncertainty.rounding_of(["a_inw"], "kwb-2024-statline-csv", "buurt") == (5.0, "aselect")
    unit, mode = uncertainty.rounding_of(["a_inw"], "kwb-2024-statline-csv", "gemeente")
    assert math.isnan(unit) and mode is None
    # the woningvoorraad is published unrounded (measured), except the 2012 gemeente layer
    assert math.isnan(uncertainty.rounding_of(["a_woning"], "kwb-2023-xlsx-utrecht", "wijk")[0])
    assert uncertainty.rounding_of(["a_woning"], "kwb-2012-pdok-gemeenten-geojson", "gemeente")[0] == 5.0
    # crime: CBS 83648NED rounded to 5, the Politie table and the woonikveilig counts are not
    assert uncertainty.rounding_of(["misdrijven_totaal"], "cbs-83648ned-2022", "gemeente")[0] == 5.0
    assert math.isnan(uncertainty.rounding_of(["misdrijven_totaal"], "woonikveilig-misdrijven", "buurt")[0])


# -- intervals() of a count indicator: both sides --------------------------------------------

def test_a_count_on_the_rounding_grid_gets_the_rounding_interval(cat):
    iv = uncertainty.intervals(cat["inwoners"], [1235.0], [1235.0], [np.nan],
                               source=["kwb-2024-statline-csv"], level=["buurt"], n_parts=[1])
    assert iv["methods"][0] == "afronding_aantal"
    assert iv["lower"][0] == pytest.approx(1231.0)               # 1235 - 4
    assert iv["upper"][0] == pytest.approx(1239.0)               # 1235 + 4


def test_an_area_of_n_buurten_gets_the_interval_of_the_sum(cat):
    # 9 buurten: half = z * 5 * sqrt(9/6) = 12.002
    iv = uncertainty.intervals(cat["huishoudens"], [4000.0], [4000.0], [np.nan],
                               source=["kwb-2019-heerlen-sqlite"], level=["buurt"], n_parts=[9])
    assert iv["methods"][0] == "afronding_aantal"
    assert iv["upper"][0] - 4000.0 == pytest.approx(Z * 5.0 * math.sqrt(1.5), abs=1e-3)
    assert 4000.0 - iv["lower"][0] == pytest.approx(Z * 5.0 * math.sqrt(1.5), abs=1e-3)


def test_a_count_near_zero_is_not_given_a_negative_lower_bound(cat):
    iv = uncertainty.intervals(cat["inwoners"], [0.0], [0.0], [np.nan],
                               source=["kwb-2024-statline-csv"], level=["buurt"], n_parts=[1])
    assert iv["lower"][0] == 0.0 and iv["upper"][0] == pytest.approx(4.0)


def test_an_exact_count_gets_no_interval(cat):
    # the gemeente population of KWB 2024 and the woningvoorraad are published unrounded
    for ind, src, lvl in (("inwoners", "kwb-2024-statline-csv", "gemeente"),
                          ("woningvoorraad", "kwb-2023-xlsx-utrecht", "wijk")):
        f = uncertainty.interval_fields(cat[ind], 374238.0, 374238.0, None, source=src, level=lvl)
        assert f == dict(lower=None, upper=None, interval_method=None, interval_note=None)


def test_a_count_without_a_known_publication_gets_no_interval(cat):
    # without a source (e.g. a harmonised group), nothing is claimed
    f = uncertainty.interval_fields(cat["inwoners"], 1235.0, 1235.0, None)
    assert f["interval_method"] is None


# -- ratios of rounded counts: the Poisson interval widened by the rounding ----------------

def test_rate_of_a_count_rounded_to_ten_widens_the_poisson_interval(cat):
    ind = cat["bijstand_per_1000"]
    plain = uncertainty.intervals(ind, [25.0], [150.0], [6000.0])
    wide = uncertainty.intervals(ind, [25.0], [150.0], [6000.0], source=["kwb-2019-statline-amsterdam"],
                                 level=["wijk"], n_parts=[1])
    assert plain["methods"][0] == "poisson" and wide["methods"][0] == "poisson_afronding"
    # numerator: z * 10 / sqrt(6) = 8.0016 -> 1000 * 8.0016 / 6000 = 1.33360 per 1 000;
    # denominator (a_inw of a wijk, 4): 25 * 4 / 6000 = 0.016667
    extra = 1000 * Z * 10 / math.sqrt(6) / 6000 + 25.0 * 4.0 / 6000
    assert plain["lower"][0] - wide["lower"][0] == pytest.approx(extra, abs=1e-4)
    assert wide["upper"][0] - plain["upper"][0] == pytest.approx(extra, abs=1e-4)


def test_rate_of_exact_counts_is_not_widened(cat):
    # 47013NED (Politie) counts and a gemeente population are not rounded
    ind = cat["misdrijven_per_1000"]
    iv = uncertainty.intervals(ind, [50.0], [500.0], [10000.0], source=["politie-47013ned-2024"],
                               level=["gemeente"], n_parts=[1])
    assert iv["methods"][0] == "poisson"


# -- the real store: a count of a real area, derived by hand --------------------------------

def test_rounding_context_of_no_rows_is_empty_not_an_error():
    """An empty selection (``/api/v1/gaps?areas=`` gave a 500 here): empty arrays."""
    import pandas as pd

    empty = pd.DataFrame({"source_id": pd.Series(dtype=object), "unit_kind": pd.Series(dtype=object),
                          "n_used": pd.Series(dtype="float64"), "method": pd.Series(dtype=object)})
    ctx = uncertainty.rounding_context(empty)
    assert {k: len(v) for k, v in ctx.items()} == {"source": 0, "level": 0, "n_parts": 0, "base_source": 0}
    one = pd.DataFrame({"source_id": ["kwb"], "unit_kind": ["area"], "n_used": [3.0],
                        "method": ["opgeteld; 3 buurten"]})
    assert list(uncertainty.rounding_context(one)["n_parts"]) == [3.0]


def test_real_wijk_population_carries_the_rounding_interval(real_store):
    # Overvecht (WK034403), KWB 2024: 35 255 inhabitants, a multiple of 5 (wijk level, random
    # rounding): 35 255 +/- 4
    v = api.value("WK034403", "inwoners", 2024, path=real_store)
    assert v["value"] == 35255.0 and v["source"]["source_id"] == "kwb-2024-statline-csv"
    assert v["interval_method"] == "afronding_aantal"
    assert (v["lower"], v["upper"]) == (35251.0, 35259.0)
    # the gemeente Utrecht is published unrounded: no interval
    g = api.value("GM0344", "inwoners", 2024, path=real_store)
    assert g["interval_method"] is None and g["lower"] is None


def test_real_area_summed_from_buurten_carries_the_interval_of_the_sum(real_store):
    # Groningen-Noord 2024: the inhabitants of 13 buurten of KWB 2024, each rounded at random
    # to 5: half = z * 5 * sqrt(13/6) = 14.425 (worst case 13 * 4 = 52 not taken)
    import duckdb

    from wijkmonitor.catalogue import load_catalogue

    con = duckdb.connect(str(real_store), read_only=True)
    df = con.execute("SELECT * FROM area_values WHERE unit_id = 'groningen-noord' AND indicator = 'inwoners' "
                     "AND period = 2024").df()
    con.close()
    assert len(df) == 1 and df["n_used"].iloc[0] == 13 and df["method"].iloc[0] == "opgeteld"
    assert df["source_id"].iloc[0] == "kwb-2024-statline-csv"
    iv = uncertainty.interval_columns(df, load_catalogue(), indicator="inwoners").iloc[0]
    half = Z * 5 * math.sqrt(13 / 6)
    v = df["value"].iloc[0]
    assert iv["interval_method"] == "afronding_aantal"
    assert iv["lower"] == pytest.approx(v - half, abs=1e-3)
    assert iv["upper"] == pytest.approx(v + half, abs=1e-3)


def test_declared_rounding_matches_the_real_files(real_store):
    # scripts/measure-count-rounding: every shown value of a declared (source, variable, level)
    # is a multiple of its unit; no count the monitor adds up or divides is a multiple of 5
    # everywhere in a publication of 20+ values without a declaration (unrounded counts are
    # multiples of 5 about 20 % of the time: 20 in a row has chance 0.2^20)
    from wijkmonitor import store

    con = store.connect(real_store)
    cat = load_catalogue()
    used = {v for ind in cat.values() for f in ind.formulas
            for v in (f.value or ()) + (f.numerator or ()) + (f.denominator or ())}
    df = uncertainty.measure_count_rounding(con, sorted(used | {v for r in uncertainty.count_rounding_rules()
                                                                   for v in r["variables"]}))
    con.close()
    declared = df[np.isfinite(df["declared_unit"])]
    assert len(declared) >= 40
    mult = np.where(declared["declared_unit"] == 10, declared["multiple_10"], declared["multiple_5"])
    assert (mult == declared["n"]).all(), declared[mult < declared["n"]]
    counts = {v for ind in cat.values() if ind.aggregation == "som" for f in ind.formulas for v in (f.value or ())}
    counts |= {v for ind in cat.values() for f in ind.formulas if f.mode == "ratio"
               for v in (f.numerator or ()) + (f.denominator or ())}
    loose = df[~np.isfinite(df["declared_unit"]) & df["variable"].isin(counts) & (df["n"] >= 20)
               & (df["multiple_5"] == df["n"])]
    assert loose.empty, loose
