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
    p = assess(60, 2030, pd.Series({2022: 52.0, 2018: 40.0, 2024: 49.0}), polarity=HIGHER)
    assert p.baseline_year == 2018 and p.latest_year == 2024
    assert p.expected_value == pytest.approx(40 + 20 * 6 / 12)
    assert p.status == BEHIND


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
