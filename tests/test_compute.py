"""Edge cases of the compiled indicator computation, on small synthetic stores.

The same rules are checked on the real data in tests/test_foundation_real.py.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from wijkmonitor import store
from wijkmonitor.catalogue import load_catalogue
from wijkmonitor.compute import compute


def make_store(tmp_path, rows, sources=(("s1", "kwb", 0), ("s2", "other", 1))):
    path = tmp_path / "t.duckdb"
    with store.writing(path) as con:
        for sid, adapter, rank in sources:
            con.execute("INSERT INTO sources VALUES (?,?,?,?,?,?,?,?,?,?)",
                        [sid, "T", "t", "p", "l", "loc", "2024-01-01", adapter, "", rank])
        df = pd.DataFrame(rows, columns=["region_code", "geo_year", "period", "variable", "value",
                                         "status", "source_id"])
        store.append_observations(con, df)
        compute(con, load_catalogue())
    return path


def value(path, indicator, region, period=2024):
    with store.connect(path) as con:
        row = con.execute("SELECT value, numerator, denominator, status FROM indicator_values "
                          "WHERE indicator=? AND region_code=? AND period=?",
                          [indicator, region, period]).fetchone()
    return row


def test_ratio_from_counts(tmp_path):
    p = make_store(tmp_path, [
        ("GM0001", 2024, 2024, "a_inw", 1000.0, "ok", "s1"),
        ("GM0001", 2024, 2024, "a_65_oo", 250.0, "ok", "s1"),
    ])
    v, num, den, status = value(p, "inwoners_65plus_pct", "GM0001")
    assert status == "ok" and v == pytest.approx(25.0) and num == 250 and den == 1000


def test_secret_input_never_becomes_a_number(tmp_path):
    p = make_store(tmp_path, [
        ("BU00010001", 2024, 2024, "a_inw", 1000.0, "ok", "s1"),
        ("BU00010001", 2024, 2024, "a_65_oo", math.nan, "geheim", "s1"),
    ])
    v, num, den, status = value(p, "inwoners_65plus_pct", "BU00010001")
    assert status == "geheim" and v is None and num is None


def test_below_min_base_is_hidden_with_reason(tmp_path):
    p = make_store(tmp_path, [
        ("BU00010001", 2024, 2024, "a_inw", 20.0, "ok", "s1"),
        ("BU00010001", 2024, 2024, "a_65_oo", 5.0, "ok", "s1"),
    ])
    v, num, den, status = value(p, "inwoners_65plus_pct", "BU00010001")
    assert status == "te weinig waarnemingen" and v is None and num is None


def test_missing_input_is_niet_beschikbaar(tmp_path):
    p = make_store(tmp_path, [("GM0001", 2024, 2024, "a_65_oo", 5.0, "ok", "s1"),
                              ("GM0002", 2024, 2024, "a_inw", 900.0, "ok", "s1")])
    assert value(p, "inwoners_65plus_pct", "GM0001")[3] == "niet beschikbaar"
    assert value(p, "inwoners", "GM0002")[0] == 900


def test_published_percentage_with_base(tmp_path):
    p = make_store(tmp_path, [
        ("WK000101", 2023, 2023, "p_koopw", 40.0, "ok", "s1"),
        ("WK000101", 2023, 2023, "a_woning", 500.0, "ok", "s1"),
    ])
    v, num, den, status = value(p, "koopwoningen_pct", "WK000101", 2023)
    assert (v, num, den, status) == (40.0, 200.0, 500.0, "ok")


def test_secret_base_hides_published_percentage(tmp_path):
    p = make_store(tmp_path, [
        ("WK000101", 2023, 2023, "p_koopw", 40.0, "ok", "s1"),
        ("WK000101", 2023, 2023, "a_woning", math.nan, "geheim", "s1"),
    ])
    assert value(p, "koopwoningen_pct", "WK000101", 2023)[3] == "geheim"


def test_source_precedence_lowest_rank_wins(tmp_path):
    p = make_store(tmp_path, [
        ("GM0001", 2024, 2024, "a_inw", 1000.0, "ok", "s2"),
        ("GM0001", 2024, 2024, "a_inw", 1005.0, "ok", "s1"),
    ])
    assert value(p, "inwoners", "GM0001")[0] == 1005.0


def test_first_formula_with_a_value_wins(tmp_path):
    # counts for the ratio are secret, the published rate (second formula) exists
    p = make_store(tmp_path, [
        ("GM0001", 2022, 2022, "misdrijven_totaal", math.nan, "geheim", "s1"),
        ("GM0001", 2022, 2022, "a_inw", 10000.0, "ok", "s1"),
        ("GM0001", 2022, 2022, "misdrijven_per1000", 50.5, "ok", "s2"),
        ("GM0002", 2022, 2022, "misdrijven_totaal", 300.0, "ok", "s1"),
        ("GM0002", 2022, 2022, "a_inw", 10000.0, "ok", "s1"),
        ("GM0002", 2022, 2022, "misdrijven_per1000", 99.0, "ok", "s2"),
    ])
    v, num, den, status = value(p, "misdrijven_per_1000", "GM0001", 2022)
    assert status == "ok" and v == 50.5 and num == pytest.approx(505.0)
    assert value(p, "misdrijven_per_1000", "GM0002", 2022)[0] == pytest.approx(30.0)


def test_estimate_weight_from_nearest_period(tmp_path):
    p = make_store(tmp_path, [
        ("BU00010001", 2020, 2016, "gez_ervaren_goed_18plus", 70.0, "ok", "s2"),
        ("BU00010001", 2024, 2024, "a_25_44", 100.0, "ok", "s1"),
        ("BU00010001", 2024, 2024, "a_45_64", 100.0, "ok", "s1"),
        ("BU00010001", 2024, 2024, "a_65_oo", 50.0, "ok", "s1"),
    ])
    v, num, den, status = value(p, "ervaren_gezondheid_pct", "BU00010001", 2016)
    assert status == "ok" and v == 70.0 and den == 250.0 and num == pytest.approx(17500.0)
    with store.connect(p) as con:
        est, base_period = con.execute(
            "SELECT estimate, base_period FROM indicator_values WHERE indicator='ervaren_gezondheid_pct'").fetchone()
    assert est is True and base_period == 2024


def _rate(path, region, period):
    with store.connect(path) as con:
        return con.execute(
            "SELECT value, denominator, status, base_period FROM indicator_values "
            "WHERE indicator = 'misdrijven_per_1000' AND region_code = ? AND period = ?",
            [region, period]).fetchone()


def test_crime_rate_denominator_from_the_nearest_year_within_five(tmp_path):
    """misdrijven_per_1000 declares ``denominator_window: 5``: yearly counts over the
    population of the same year, else of the nearest year (2020 or 2024 here); 2029 (5 years
    from 2024) is inside the window, 2030 (6 years) outside; equal distances take the later
    year. Expected values by hand (count = 10 x (year - 2010))."""
    rows = [("BU00010001", 2024, y, "misdrijven_totaal", 10.0 * (y - 2010), "ok", "s1")
            for y in (2019, 2021, 2024, 2026, 2029, 2030)]
    rows += [("BU00010001", 2024, 2024, "a_inw", 500.0, "ok", "s1"),
             ("BU00010001", 2024, 2020, "a_inw", 400.0, "ok", "s1")]
    p = make_store(tmp_path, rows)
    assert _rate(p, "BU00010001", 2024) == (pytest.approx(280.0), 500.0, "ok", 2024)
    # 2021: 2020 (1 year) beats 2024 (3 years); 2019: 2020
    assert _rate(p, "BU00010001", 2021) == (pytest.approx(275.0), 400.0, "ok", 2020)
    assert _rate(p, "BU00010001", 2019) == (pytest.approx(225.0), 400.0, "ok", 2020)
    # 2026: 2024 (2 years); 2029: 2024 (5 years, the edge of the window)
    assert _rate(p, "BU00010001", 2026) == (pytest.approx(320.0), 500.0, "ok", 2024)
    assert _rate(p, "BU00010001", 2029) == (pytest.approx(380.0), 500.0, "ok", 2024)
    # 2030: 6 years from 2024: no denominator, no rate
    v, den, status, bp = _rate(p, "BU00010001", 2030)
    assert status == "niet beschikbaar" and v is None and den is None and bp is None
    # 2022 lies 2 years from 2020 and from 2024: the later year wins
    (tmp_path / "tie").mkdir()
    rows2 = [("BU00010002", 2024, 2022, "misdrijven_totaal", 60.0, "ok", "s1"),
             ("BU00010002", 2024, 2020, "a_inw", 400.0, "ok", "s1"),
             ("BU00010002", 2024, 2024, "a_inw", 600.0, "ok", "s1")]
    p2 = make_store(tmp_path / "tie", rows2)
    assert _rate(p2, "BU00010002", 2022) == (pytest.approx(100.0), 600.0, "ok", 2024)


def test_secret_population_of_the_nearest_year_keeps_the_rate_secret(tmp_path):
    p = make_store(tmp_path, [
        ("BU00010001", 2024, 2023, "misdrijven_totaal", 30.0, "ok", "s1"),
        ("BU00010001", 2024, 2024, "a_inw", math.nan, "geheim", "s1"),
    ])
    v, den, status, _ = _rate(p, "BU00010001", 2023)
    assert status == "geheim" and v is None and den is None


def test_denominator_window_only_for_ratios():
    from pydantic import ValidationError

    from wijkmonitor.catalogue import Formula

    with pytest.raises(ValidationError, match="denominator_window"):
        Formula(value=("x",), base=("y",), denominator_window=2)
    with pytest.raises(ValidationError, match="tussen 0 en 20"):
        Formula(numerator=("x",), denominator=("y",), denominator_window=21)
    assert Formula(numerator=("x",), denominator=("y",), denominator_window=20).denominator_window == 20
