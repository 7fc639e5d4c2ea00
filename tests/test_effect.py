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


# ------------------------------------------------------------------------------------------
# pre-baseline trend (Leefbaarometer class 2002 -> 2012 per wijk)
# ------------------------------------------------------------------------------------------

PRE = effect.PRE_TREND["indicator"]


def _pre_con(area_pre=(5.0, 3.0), level="wijk"):
    """15 candidates WK0002xx with baseline 60..74 (the other matching variables all 50) and
    a Leefbaarometer class change 2002 -> 2012 of -2 (bases 60 and 66..74; change of the outcome
    +1) or 0 (bases 61..65; change +3). The area: 65.2 -> 69.2 and, when ``area_pre`` is given,
    class 5 (2002) -> 3 (2012): a change of -2."""
    rows, pre = [], []
    for i in range(15):
        code, base = f"WK0002{i:02d}", 60.0 + i
        trend = -2.0 if (base == 60 or base >= 66) else 0.0
        change = 1.0 if trend == -2.0 else 3.0
        rows += [(code, IND, 2012, base, 5000.0, 2020), (code, IND, 2020, base + change, 5000.0, 2020)]
        rows += [(code, v, 2012, 50.0, 5000.0, 2020) for v in OTHERS]
        # the 2016 division: same code; classes 6 in 2002 and 2008, 6 + trend in 2012
        pre += [(code, PRE, 2002, 6.0, np.nan, 2016), (code, PRE, 2008, 6.0, np.nan, 2016),
                (code, PRE, 2012, 6.0 + trend, np.nan, 2016)]
    iv = pd.DataFrame(rows + pre, columns=["region_code", "indicator", "period", "value", "denominator",
                                           "geo_year"]).assign(numerator=np.nan, status="ok")
    av = [("a", IND, 2012, 65.2, 5000.0), ("a", IND, 2020, 69.2, 5000.0)] + [("a", v, 2012, 50.0, 5000.0)
                                                                            for v in OTHERS]
    if area_pre is not None:
        av += [("a", PRE, 2002, area_pre[0], np.nan), ("a", PRE, 2012, area_pre[1], np.nan)]
    av = pd.DataFrame(av, columns=["unit_id", "indicator", "period", "value", "denominator"]).assign(
        numerator=np.nan, status="ok", unit_kind="area")
    idx = pd.DataFrame([dict(area_id="a", name="Gebied A", programme="aandachtswijken", gemeente="GM0001",
                             gemeente_unit="GM0001", level=level, reference_year=2020, n_codes=1,
                             codes="WK000101")])
    con = duckdb.connect()
    for name, df in (("indicator_values", iv), ("area_values", av), ("area_index", idx)):
        con.register(f"_{name}", df)
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM _{name}")
    return con


def test_pre_trend_is_matched_on_where_the_area_has_it():
    r = effect.effects("a", IND, 2012, 2020, con=_pre_con())[0]
    # sd of the candidates' class change (ten -2, five 0): sqrt(120/126) = 0.976, so a
    # different trend costs (2 / 0.976)^2 = 4.2 in squared distance, more than the farthest
    # outcome (|74 - 65.2| / sqrt(20))^2 = 3.87: the ten with the area's trend are nearest
    assert sorted(r["comparison_areas"]) == sorted(f"WK0002{i:02d}" for i in [0] + list(range(6, 15)))
    # area change 4, comparison change +1 each: estimate 3
    assert r["comparison_change"] == pytest.approx(1.0) and r["estimate"] == pytest.approx(3.0)
    assert r["pre_trend"] == "leefbaarometer-klasse 2002→2012"
    assert r["matched_on"] == [IND] + OTHERS + [f"{PRE}:2002-2012"]
    assert "gematcht op de ontwikkeling vóór het basisjaar" in r["pre_trend_note"]
    assert "5 in 2002, 3 in 2012" in r["pre_trend_note"]
    assert "op trend gematcht met leefbaarometer-klasse 2002→2012" in r["method"]
    b = {x["variable"]: x for x in r["balance"]}
    # the trend: area -2, candidates' mean -4/3, sd sqrt(120/126); matched mean -2
    assert b[f"{PRE}:2002-2012"]["smd_before"] == pytest.approx((-2 + 4 / 3) / np.sqrt(120 / 126))
    assert b[f"{PRE}:2002-2012"]["smd_after"] == pytest.approx(0.0)


def test_without_the_area_trend_no_pre_period_and_the_reason():
    r = effect.effects("a", IND, 2012, 2020, con=_pre_con(area_pre=None))[0]
    # by the outcome alone: 61..70 (distances 0.2..4.8; 60 is 5.2 away); changes 3 (61-65), 1 (66-70)
    assert sorted(r["comparison_areas"]) == sorted(f"WK0002{i:02d}" for i in range(1, 11))
    assert r["comparison_change"] == pytest.approx(2.0) and r["estimate"] == pytest.approx(2.0)
    assert r["pre_trend"] is None and r["matched_on"] == [IND] + OTHERS
    assert r["pre_trend_note"].startswith("geen pre-periode: het gebied heeft geen leefbaarometer-klasse in 2002 en 2012")
    assert "niet optelbaar" in r["pre_trend_note"]


def test_buurt_area_and_a_baseline_without_two_earlier_years_have_no_pre_period():
    r = effect.effects("a", IND, 2012, 2020, con=_pre_con(level="buurt"))[0]
    assert r["pre_trend"] is None
    assert "alleen per wijk, dit gebied bestaat uit buurten" in r["pre_trend_note"]
    data = effect.load(con=_pre_con())
    # pre-period years at or before the baseline: 2002 and 2008 for 2008 (two: a trend), only
    # 2002 for 2002 (none)
    assert effect._pre_years(data, 2008) == (2002, 2008)
    assert effect._pre_years(data, 2002) is None
    r = effect.estimate(data, "a", IND, 2002, 2020)[0]
    assert r["pre_trend_note"] == "geen pre-periode: de leefbaarometer-klasse heeft geen twee jaren tot en met 2002"


# ------------------------------------------------------------------------------------------
# the report chapter and the area-page section (content from synthetic rows)
# ------------------------------------------------------------------------------------------

def _se_by_hand(v, w):
    """The model standard error of one value, from the calibrated parameters (README: one value
    carries a^2/4 + b^2/(2W), scaled by sqrt(p(1-p)) relative to p0)."""
    prm = uncertainty.model_parameters()
    a, b, p0 = float(prm["a"]), float(prm["b"]), float(prm["p0"])
    p = v / 100
    return np.sqrt(a * a / 4 + b * b / (2 * w)) * np.sqrt(p * (1 - p) / (p0 * (1 - p0)))


def test_chapter_content_estimate_interval_and_outcome_by_hand():
    from wijkmonitor.catalogue import load_catalogue
    from wijkmonitor.nlformat import nl_difference
    from wijkmonitor.report import effect_chapter

    cat = load_catalogue()
    rows = effect.effects("a", IND, 2012, 2020, con=_pre_con())            # estimate 3 (see above)
    rows += effect.effects("a", IND, 2012, 2020, con=_con(n_candidates=10))  # no estimate
    rows[1]["area"], rows[1]["area_name"] = "b", "Gebied B"
    ctx = effect_chapter.chapter(rows, cat)
    (it,) = ctx["indicators"]
    # interval: comparison changes all +1 (sd 0), so the area's two model errors alone:
    # 3 +- 1.96 * sqrt(se(65.2)^2 + se(69.2)^2), W = 5000
    half = 1.959963984540054 * np.sqrt(_se_by_hand(65.2, 5000) ** 2 + _se_by_hand(69.2, 5000) ** 2)
    a, b = it["rows"]
    assert a["estimate"] == "+3,0" and a["n_comparison"] == 10 and a["pre_trend"] == "ja"
    assert a["interval"] == f"{nl_difference(3 - half, 1)} tot {nl_difference(3 + half, 1)}"
    assert 0 < 3 - half  # the interval lies above 0: higher is better here, so "gunstiger"
    assert a["outcome"] == "gunstiger" and a["reading"] == "Gunstiger ontwikkeld dan de vergelijkingsgebieden."
    assert a["years"] == "2012–2020"
    # no estimate: the reason instead of a number
    assert not b["shown"] and b["estimate"] == "—" and b["interval"] == "—"
    assert b["outcome"] == "geen schatting: te weinig vergelijkingsgebieden (10; nodig: meer dan 10)"
    assert (it["n"], it["estimated"], it["better"], it["worse"], it["unclear"]) == (2, 1, 1, 0, 0)
    assert "1 van de 2 gebieden" in ctx["pre_text"] and "Gebied A" in ctx["pre_text"]
    text = " ".join(ctx["method"])
    assert "naaste-buren-matching" in text and "verschil-in-verschillen" in text
    assert "geen causaal bewijs op zichzelf" in text


def test_outcome_follows_polarity_and_the_interval_boundary():
    from wijkmonitor.catalogue import load_catalogue

    cat = load_catalogue()
    row = dict(status="ok", estimate=-1.0, lower=-2.0, upper=-0.01, reason="")
    # lower is better (moeite met rondkomen): an interval wholly below 0 is favourable
    assert effect.outcome(row, cat["moeite_rondkomen_pct"]) == "gunstiger"
    assert effect.outcome(row, cat["ervaren_gezondheid_pct"]) == "ongunstiger"
    # an interval touching 0 exactly: no clear difference (both sides of the boundary)
    assert effect.outcome(dict(row, upper=0.0), cat["moeite_rondkomen_pct"]) == "geen duidelijk verschil"
    assert effect.outcome(dict(row, lower=0.01, upper=2.0), cat["moeite_rondkomen_pct"]) == "ongunstiger"


def test_rendered_chapter_and_page_section_show_the_reason_without_estimate():
    from wijkmonitor.catalogue import load_catalogue
    from wijkmonitor.report import effect_chapter
    from wijkmonitor.report.narrative import Words
    from wijkmonitor.report.render import _env

    cat = load_catalogue()
    rows = effect.effects("a", IND, 2012, 2020, con=_con(n_candidates=10))
    ctx = effect_chapter.chapter(rows, cat)
    html = _env().get_template("effect_national.html").render(
        r=dict(sections=[], effect=ctx, words=Words("wijk", "wijken", "de wijken samen"), programme="nplv"))
    assert "3 Vergeleken met vergelijkbare wijken" in html  # no sections; after "2 Signalen"
    assert "geen schatting: te weinig vergelijkingsgebieden (10; nodig: meer dan 10)" in html
    assert "geen causaal bewijs op zichzelf" in html

    from wijkmonitor.web.app import TEMPLATES
    section = dict(title="Vergeleken met vergelijkbare wijken", method=effect.method_text(),
                   method_name=effect.METHOD_SHORT, caveat=effect.CAVEAT, pre_note="Geen pre-periode", k=10,
                   rows=[dict(name="Ervaren gezondheid", shown=False, years="2012–2020", outcome=effect.outcome(rows[0], cat[IND]),
                              comparison_areas=[])])
    page = TEMPLATES.get_template("_effect.html").render(u=dict(name="Gebied A"), effect=section)
    assert 'id="vergeleken"' in page
    assert "geen schatting: te weinig vergelijkingsgebieden (10; nodig: meer dan 10)" in page


def test_cli_markdown_summary_counts_by_hand():
    from wijkmonitor.catalogue import load_catalogue
    from wijkmonitor.commands import _effect_summary

    cat = load_catalogue()
    rows = effect.effects("a", IND, 2012, 2020, con=_pre_con())             # +3, interval > 0, trend
    rows += effect.effects("a", IND, 2012, 2020, con=_pre_con(area_pre=None))  # +2, interval > 0
    rows += effect.effects("a", IND, 2012, 2020, con=_con(n_candidates=10))    # no estimate
    (s,) = _effect_summary(rows, cat, "aandachtswijken").to_dict("records")
    assert s["programme"] == "40 aandachtswijken" and s["areas"] == 3 and s["with estimate"] == 2
    assert s["mean DiD"] == "+2,50" and s["median"] == "+2,50"
    assert (s["interval > 0"], s["interval < 0"], s["interval contains 0"]) == (2, 0, 0)
    assert s["matched on pre-trend"] == 1
