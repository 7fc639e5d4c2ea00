"""Progress classification at its edges (pure function, no database)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from wijkmonitor.local.progress import (ACHIEVED, BEHIND, HIGHER, LOWER, NO_DATA, ON_TRACK,
                                        assess, expected_path, expected_value)

# Higher is better: from 50 in 2020 to 60 in 2030 -> expected 54 in 2024.
UP = dict(target_value=60, target_year=2030, polarity=HIGHER, baseline_year=2020,
          baseline_value=50)
# Lower is better: from 15 in 2020 to 10 in 2030 -> expected 13 in 2024.
DOWN = dict(target_value=10, target_year=2030, polarity=LOWER, baseline_year=2020,
            baseline_value=15)


@pytest.mark.parametrize("value,status", [
    (54.0, ON_TRACK),            # exactly on the path
    (54.0 - 1e-9, BEHIND),       # a hair below the path
    (54.1, ON_TRACK),
    (59.999, ON_TRACK),          # ahead of the path, not yet at target
    (60.0, ACHIEVED),            # exactly the target, years early
    (75.0, ACHIEVED),
    (40.0, BEHIND),              # worse than the baseline
])
def test_higher_is_better_edges(value, status):
    p = assess(observed={2020: 50, 2024: value}, **UP)
    assert p.status == status
    assert p.latest_year == 2024 and p.latest_value == value
    assert p.expected_value == pytest.approx(54.0)
    assert p.rule  # the rule is stated with the numbers
    assert str(2024) in p.rule


@pytest.mark.parametrize("value,status", [
    (13.0, ON_TRACK), (13.0 + 1e-9, BEHIND), (12.0, ON_TRACK), (10.0, ACHIEVED),
    (9.5, ACHIEVED), (16.0, BEHIND),
])
def test_lower_is_better_edges(value, status):
    assert assess(observed={2024: value}, **DOWN).status == status


def test_tolerance_widens_on_track_only_by_its_amount():
    obs = {2024: 53.5}
    assert assess(observed=obs, **UP).status == BEHIND
    assert assess(observed=obs, tolerance=0.5, **UP).status == ON_TRACK
    assert assess(observed={2024: 53.49}, tolerance=0.5, **UP).status == BEHIND


@pytest.mark.parametrize("observed", [None, {}, {2020: 50}, {2018: 40, 2020: 50},
                                      {2024: float("nan")}, pd.Series({2024: None})])
def test_no_observation_after_baseline_is_no_data(observed):
    p = assess(observed=observed, **UP)
    assert p.status == NO_DATA
    assert p.latest_value is None
    assert "geen" in p.rule.lower()


def test_neutral_or_unknown_polarity_is_no_data():
    p = assess(60, 2030, {2020: 50, 2024: 70}, polarity=None, baseline_year=2020)
    assert p.status == NO_DATA and "richting" in p.rule


def test_no_baseline_anywhere_is_no_data():
    p = assess(60, 2030, {}, polarity=HIGHER)
    assert p.status == NO_DATA and "nulmeting" in p.rule


def test_baseline_taken_from_observations():
    # baseline year given, value read from the series
    p = assess(60, 2030, {2020: 50, 2022: 52.5}, polarity=HIGHER, baseline_year=2020)
    assert p.baseline_value == 50 and p.expected_value == pytest.approx(52.0)
    assert p.status == ON_TRACK
    # neither given: the earliest observation is the baseline
    obs = pd.Series({2022: 52.0, 2018: 40.0, 2024: 49.0})
    p = assess(60, 2030, obs, polarity=HIGHER, rule="omw")
    assert p.baseline_year == 2018 and p.latest_year == 2024
    assert p.expected_value == pytest.approx(40 + 20 * 6 / 12)
    assert p.status == BEHIND  # the latest value 49 alone, against 50 (issue 15: rule "omw")
    # the default rule (issue 15) fits a line through all three years instead: by hand, x = year
    # - 2024 = -6, -2, 0 and y = 40, 52, 49: slope 32 / 18.667 = 1.7143, value at 2024
    # 47 + 1.7143 x 8/3 = 51.571 >= 50 (no standard errors: the tolerance alone decides)
    p = assess(60, 2030, obs, polarity=HIGHER)
    assert p.rule_name == "standaard" and p.trend_value == pytest.approx(51.5714, abs=1e-4)
    assert p.status == ON_TRACK


def test_latest_missing_value_is_skipped_not_zero():
    p = assess(observed={2022: 53.0, 2024: float("nan")}, **UP)
    assert p.latest_year == 2022 and p.status == ON_TRACK  # expected 52 in 2022


def test_after_target_year_the_path_stays_at_target():
    p = assess(observed={2032: 59.9}, **UP)
    assert p.expected_value == 60 and p.status == BEHIND
    assert assess(observed={2032: 60}, **UP).status == ACHIEVED


def test_milestones_make_a_piecewise_path():
    knots = expected_path(2020, 50, 2030, 60, {2022: 56, 2019: 1, 2031: 2})
    assert knots == [(2020, 50.0), (2022, 56.0), (2030, 60.0)]  # out-of-range ignored
    assert expected_value(2021, knots) == pytest.approx(53.0)
    assert expected_value(2026, knots) == pytest.approx(58.0)
    p = assess(observed={2022: 55.0}, milestones={2022: 56}, **UP)
    assert p.status == BEHIND  # would be on track on the straight line (expected 52)
    assert assess(observed={2022: 55.0}, **UP).status == ON_TRACK


def test_path_covers_every_year_and_is_jsonable():
    p = assess(observed={2024: 55}, **UP)
    assert list(p.path) == list(range(2020, 2031))
    assert p.path[2020] == 50 and p.path[2030] == 60
    d = p.as_dict()
    assert d["path"]["2025"] == pytest.approx(55.0)
    assert d["status"] == ON_TRACK and d["label"] == "op koers"
    assert not any(isinstance(v, float) and math.isnan(v) for v in d.values())


# ---------------------------------------------------------------------------------------
# Issue 15: the default rule -- a trend fit over every observed year, with its interval
# ---------------------------------------------------------------------------------------

from wijkmonitor.local.progress import UNCERTAIN, trend_fit  # noqa: E402

Z = 1.959963984540054


def test_overvecht_on_koers_by_0_011_is_niet_te_zeggen():
    """The issue's case: Overvecht 65,8 (2012) -> 69,9 (2020), target 75 in 2030: expected in
    2020 65.8 + 9.2 x 8/18 = 69.889; the straight-line rule says op koers by 0,011. With the
    values' standard error 0.4 the trend (through both points: 69.9, se 0.4) has the interval
    69.9 +/- 0.784, which contains 69.889: niet te zeggen."""
    kw = dict(target_value=75, target_year=2030, observed={2012: 65.8, 2020: 69.9}, polarity=HIGHER,
              baseline_year=2012)
    assert assess(rule="omw", **kw).status == ON_TRACK
    p = assess(se={2012: 0.4, 2020: 0.4}, **kw)
    assert p.expected_value == pytest.approx(69.8889, abs=1e-4)
    assert p.status == UNCERTAIN and p.label == "niet te zeggen"
    assert p.trend_lower == pytest.approx(69.9 - Z * 0.4) and p.trend_upper == pytest.approx(69.9 + Z * 0.4)
    assert "niet afgetrokken" in p.rule and "2012, 2020" in p.rule


@pytest.mark.parametrize("latest, status", [
    (55.0, ON_TRACK),     # d = 1, interval [0, 2]: lower end exactly at 0 counts as op koers
    (54.99, UNCERTAIN),   # [-0.01, 1.99]
    (53.0, UNCERTAIN),    # [-2, 0]: upper end exactly at 0 is not wholly behind
    (52.99, BEHIND),      # [-2.01, -0.01]
])
def test_trend_rule_both_sides_of_each_boundary(latest, status):
    # baseline 50 in 2020, target 60 in 2030: expected 54 in 2024; se of the latest 1/z, so the
    # trend through the two points has the half-width 1.0 at 2024 (se of the baseline 0.5 does
    # not matter at the latest point of a line through two points)
    p = assess(60, 2030, {2020: 50.0, 2024: latest}, polarity=HIGHER, baseline_year=2020,
               se={2020: 0.5, 2024: 1 / Z})
    assert p.expected_value == pytest.approx(54.0)
    assert p.status == status


def test_trend_rule_tolerance_and_lower_is_better():
    # lower is better: baseline 20 in 2020, target 10 in 2030, expected 16 in 2024; latest 17
    # with half-width 1: d = -(17 - 16) = -1, interval [-2, 0]; tolerance 2 -> lower -2 >= -2
    kw = dict(target_value=10, target_year=2030, observed={2020: 20.0, 2024: 17.0}, polarity=LOWER,
              baseline_year=2020, se={2020: 0.5, 2024: 1 / Z})
    assert assess(tolerance=2.0, **kw).status == ON_TRACK
    assert assess(tolerance=1.99, **kw).status == UNCERTAIN


def test_trend_fit_weighted_by_hand():
    # three equally precise points 0, 2, 1 at x = 0, 1, 2 (at = 2): OLS slope 0.5, value at 2:
    # 1 + 0.5 x 1 = 1.5; var = s^2 (1/n + (x0 - xbar)^2 / Sxx) = 1 x (1/3 + 1/2) -> se 0.91287
    v, se = trend_fit(pd.Series({2020: 0.0, 2021: 2.0, 2022: 1.0}), {2020: 1, 2021: 1, 2022: 1}, 2022)
    assert v == pytest.approx(1.5) and se == pytest.approx(0.912871, abs=1e-6)
    # no standard errors: the same line, an unknown interval
    v, se = trend_fit(pd.Series({2020: 0.0, 2021: 2.0, 2022: 1.0}), None, 2022)
    assert v == pytest.approx(1.5) and math.isnan(se)


def test_national_trend_is_stated_not_subtracted():
    kw = dict(target_value=60, target_year=2030, observed={2020: 50.0, 2024: 55.0}, polarity=HIGHER,
              baseline_year=2020, se={2020: 0.5, 2024: 1 / Z})
    alone = assess(**kw)
    with_nl = assess(national={2020: 40.0, 2022: 41.0, 2024: 42.0}, **kw)
    assert with_nl.status == alone.status == ON_TRACK
    assert with_nl.national_change == pytest.approx(2.0)
    assert "landelijk veranderde de waarde tussen 2020 en 2024 met 2" in with_nl.rule
    with pytest.raises(ValueError, match="onbekende regel"):
        assess(rule="xyz", **kw)
