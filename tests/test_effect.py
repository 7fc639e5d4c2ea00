"""Comparison areas and difference-in-differences (issue 15, item 3) on a small synthetic store.

Expected numbers are derived by hand in the comments.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from wijkmonitor import effect, uncertainty

IND = "ervaren_gezondheid_pct"
OTHERS = [v for v in effect.MATCH_ON if v != IND]


def _con(n_candidates=15, area_latest=69.2):
    """Area 'a' = wijk WK000101 (in the programme), 65.2 -> area_latest; candidates WK0002xx with
    baseline 60, 61, ..., 74 and change +2, except 60 and 71-74 (far away) with change +10;
    a close candidate (65.1) with too small a weight; every other matching variable 50."""
    rows = []
    for i in range(n_candidates):
        code, base = f"WK0002{i:02d}", 60.0 + i
        change = 10.0 if base == 60 or base >= 71 else 2.0
        rows += [(code, IND, 2012, base, 5000.0), (code, IND, 2020, base + change, 5000.0)]
        rows += [(code, v, 2012, 50.0, 5000.0) for v in OTHERS]
    rows += [("WK000299", IND, 2012, 65.1, 100.0), ("WK000299", IND, 2020, 90.0, 100.0)]
    rows += [("WK000299", v, 2012, 50.0, 100.0) for v in OTHERS]
    # the area's own wijk is in the programme: never a comparison area
    rows += [("WK000101", IND, 2012, 65.2, 5000.0), ("WK000101", IND, 2020, 60.0, 5000.0)]
    rows += [("WK000101", v, 2012, 50.0, 5000.0) for v in OTHERS]
    iv = pd.DataFrame(rows, columns=["region_code", "indicator", "period", "value", "denominator"]).assign(
        numerator=np.nan, status="ok", geo_year=2020)
    av = pd.DataFrame([("a", IND, 2012, 65.2, 5000.0), ("a", IND, 2020, area_latest, 5000.0)]
                      + [("a", v, 2012, 50.0, 5000.0) for v in OTHERS],
                      columns=["unit_id", "indicator", "period", "value", "denominator"]).assign(
        numerator=np.nan, status="ok", unit_kind="area")
    idx = pd.DataFrame([dict(area_id="a", name="Gebied A", programme="nplv", gemeente="GM0001",
                             gemeente_unit="GM0001", level="wijk", reference_year=2020, n_codes=1,
                             codes="WK000101")])
    con = duckdb.connect()
    for name, df in (("indicator_values", iv), ("area_values", av), ("area_index", idx)):
        con.register(f"_{name}", df)
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM _{name}")
    return con


def test_nearest_neighbours_and_difference_in_differences_by_hand():
    r = effect.effects("a", IND, 2012, 2020, con=_con())[0]
    assert r["status"] == "ok" and r["reason"] == ""
    # distances |x - 65.2| (the other variables are equal): 65, 66, 64, 67, 63, 68, 62, 69, 61, 70
    # (0.2 ... 4.8); 60 (5.2) and 71 (5.8) are farther; 65.1 has 100 < 500 inhabitants of 25+
    assert sorted(r["comparison_areas"]) == sorted(f"WK0002{i:02d}" for i in range(1, 11))
    assert "WK000101" not in r["comparison_areas"] and "WK000299" not in r["comparison_areas"]
    # area change 4.0, comparison change 2.0 each: estimate 2.0
    assert r["area_change"] == pytest.approx(4.0) and r["comparison_change"] == pytest.approx(2.0)
    assert r["estimate"] == pytest.approx(2.0)
    # interval: the comparison changes have sd 0, so only the area's own two values count
    se = uncertainty.model_se(np.array([65.2, 69.2]), np.array([5000.0, 5000.0]))
    half = uncertainty.Z * np.sqrt((se ** 2).sum())
    assert r["lower"] == pytest.approx(2.0 - half) and r["upper"] == pytest.approx(2.0 + half)
    # balance of the outcome: candidates 60..74 (mean 67, sd sqrt(20) = 4.4721); matched mean 65.5
    b = {x["variable"]: x for x in r["balance"]}
    assert b[IND]["smd_before"] == pytest.approx((65.2 - 67) / np.sqrt(20), abs=1e-9)
    assert b[IND]["smd_after"] == pytest.approx((65.2 - 65.5) / np.sqrt(20), abs=1e-9)
    assert "naaste-buren-matching" in r["method"] and "geen pre-periode" in r["method"]


def test_no_estimate_with_too_few_comparison_areas():
    # 10 candidates with enough weight: not more than K = 10 -> no estimate, with the reason
    r = effect.effects("a", IND, 2012, 2020, con=_con(n_candidates=10))[0]
    assert r["status"] == "geen schatting" and r["estimate"] is None
    assert "te weinig vergelijkingsgebieden (10" in r["reason"]
    # 11: an estimate
    assert effect.effects("a", IND, 2012, 2020, con=_con(n_candidates=11))[0]["status"] == "ok"


def test_no_estimate_without_the_area_value():
    r = effect.effects("a", IND, 2012, 2016, con=_con())[0]
    assert r["status"] == "geen schatting" and "geen getoond cijfer in 2016" in r["reason"]
