"""The gap classification rule at its edges, on small synthetic area tables.

Everything here is synthetic on purpose: the edges (exactly at the tolerance, one step beyond,
a missing or suppressed number, flipped polarity, one year only) rarely occur exactly in real
data. The real-data checks are in test_aggregate_real.py and test_gap_cli.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from wijkmonitor import analysis
from wijkmonitor.analysis import classify, gaps, nearest_year, available_years
from wijkmonitor.catalogue import load_catalogue
from wijkmonitor.nlformat import nl_number

TWW = "te weinig waarnemingen"


@pytest.fixture(scope="module")
def cat():
    return load_catalogue()


# ---------------------------------------------------------------------------------------
# classify(): the rule itself
# ---------------------------------------------------------------------------------------

def _one(vb, vl, rb, rl, hib=True, tol=1.0, same=None):
    return classify([vb], [vl], [rb], [rl], higher_is_better=hib, tolerance=tol,
                    same_year=None if same is None else [same])[0]


def test_exactly_at_tolerance_is_gelijk_both_ways():
    # higher is better, reference 70: shortfall 10 -> 9 (shrank by exactly 1) and 10 -> 11
    assert _one(60, 61, 70, 70) == "gelijk"
    assert _one(60, 59, 70, 70) == "gelijk"
    # values whose difference is not exact in binary floating point still count as "at"
    assert _one(60.3, 61.3, 70.1, 70.1) == "gelijk"
    assert _one(0.1 + 0.2, 1.3, 2.0, 2.0, tol=1.0) == "gelijk"


def test_just_beyond_tolerance():
    assert _one(60, 61.01, 70, 70) == "kleiner"
    assert _one(60, 58.99, 70, 70) == "groter"
    # the reference moving counts too: area stays, the reference rises by more than the tolerance
    assert _one(60, 60, 70, 71.5) == "groter"
    assert _one(60, 60, 70, 68.5) == "kleiner"


def test_tolerance_zero_means_any_change_counts():
    assert _one(3, 3, 5, 5, tol=0.0) == "gelijk"
    assert _one(3, 4, 5, 5, tol=0.0) == "kleiner"


@pytest.mark.parametrize("missing", range(4))
def test_any_missing_number_gives_too_few_observations(missing):
    args = [60.0, 61.0, 70.0, 70.0]
    args[missing] = np.nan
    assert _one(*args) == TWW
    assert _one(*args, hib=None) == TWW


def test_missing_tolerance_gives_too_few_observations():
    # the global relative rule needs the reference's baseline; without it there is no rule
    assert _one(60, 61, 70, 70, tol=np.nan) == TWW


def test_same_year_gives_too_few_observations_even_when_better():
    assert _one(60, 61, 70, 70, same=True) == TWW
    assert _one(80, 80, 70, 70, same=True) == TWW
    assert _one(80, 80, 70, 70, same=False) == "beter dan referentie"


def test_better_than_reference_in_latest_year():
    assert _one(60, 72, 70, 70) == "beter dan referentie"
    assert _one(60, 70, 70, 70) == "beter dan referentie"  # equal to the reference counts
    # lower is better: below the reference is better
    assert _one(30, 18, 20, 20, hib=False) == "beter dan referentie"
    # better at baseline but not at latest: classified by the shortfall's change
    assert _one(75, 68.5, 70, 70) == "groter"


def test_polarity_flipped_mirrors_the_class():
    """Mirroring every value around its reference and flipping the polarity keeps the class."""
    rng = np.random.default_rng(4)
    n = 2000
    # quarter steps are exact in binary, so mirroring adds no float noise
    rb = rng.integers(0, 400, n) / 4
    rl = rb + rng.integers(-8, 9, n) / 4
    vb = rb + rng.integers(-40, 41, n) / 4
    vl = vb + rng.integers(-12, 13, n) / 4
    tol = rng.integers(0, 8, n) / 4
    up = classify(vb, vl, rb, rl, higher_is_better=True, tolerance=tol)
    down = classify(2 * rb - vb, 2 * rl - vl, rb, rl, higher_is_better=False, tolerance=tol)
    assert (up == down).all()
    assert set(up) == {"kleiner", "groter", "gelijk", "beter dan referentie"}
    # the same numbers under the other polarity are not the same classification
    flipped = classify(vb, vl, rb, rl, higher_is_better=False, tolerance=tol)
    assert (flipped != up).any()


def test_polarity_flipped_concrete():
    # area 60 -> 55 against a reference of 50: higher is worse -> it came closer
    assert _one(60, 55, 50, 50, hib=False) == "kleiner"
    # the same numbers when higher is better: the area beats the reference
    assert _one(60, 55, 50, 50, hib=True) == "beter dan referentie"
    # and below the reference when higher is worse is never a shortfall
    assert _one(40, 45, 50, 50, hib=False) == "beter dan referentie"


def test_neutral_indicators_are_never_better():
    rng = np.random.default_rng(7)
    vb, vl, rb, rl = (rng.normal(50, 10, 5000) for _ in range(4))
    out = classify(vb, vl, rb, rl, higher_is_better=None, tolerance=1.0)
    assert "beter dan referentie" not in set(out)
    assert set(out) == {"kleiner", "groter", "gelijk"}
    # absolute distance: above or below the reference by the same amount is the same gap
    assert _one(60, 41, 50, 50, hib=None) == "gelijk"
    assert _one(60, 38.5, 50, 50, hib=None) == "groter"
    assert _one(60, 51, 50, 50, hib=None) == "kleiner"


# ---------------------------------------------------------------------------------------
# Years
# ---------------------------------------------------------------------------------------

def test_nearest_year_ties_and_misses():
    years = [2012, 2016, 2020]
    assert nearest_year(years, 2016, prefer="earlier") == 2016
    assert nearest_year(years, 2014, prefer="earlier") == 2012
    assert nearest_year(years, 2014, prefer="later") == 2016
    assert nearest_year(years, 2018, prefer="later") == 2020
    assert nearest_year(years, 2030, prefer="later") == 2020
    assert nearest_year(years, 1990, prefer="earlier") == 2012
    assert nearest_year([], 2016, prefer="earlier") is None
    assert nearest_year([2020, 2020.0, 2012], 2013, prefer="later") == 2012


def test_available_years_need_half_the_areas():
    ok = pd.DataFrame({"unit_id": ["a", "b", "c", "a", "a", "b"],
                       "period": [2012, 2012, 2012, 2016, 2020, 2020]})
    # 4 areas asked: 2012 (3 of 4) and 2020 (2 of 4) count, 2016 (1 of 4) does not
    assert available_years(ok, 4) == [2012, 2020]
    # with 8 areas asked no year reaches half: every year with any value
    assert available_years(ok, 8) == [2012, 2016, 2020]
    # the same area twice in a year counts once
    dup = pd.DataFrame({"unit_id": ["a", "a", "b"], "period": [2012, 2012, 2016]})
    assert available_years(dup, 4) == [2012, 2016]


# ---------------------------------------------------------------------------------------
# gaps() on a synthetic area table
# ---------------------------------------------------------------------------------------

def _values(rows):
    df = pd.DataFrame(rows, columns=["unit_id", "unit_kind", "indicator", "period", "value", "status"])
    df.loc[df["status"] != "ok", "value"] = np.nan
    df["estimate"] = False
    return df


def _index(ids, gemeente="GM0001"):
    return pd.DataFrame({"area_id": ids, "name": [f"Gebied {i}" for i in ids], "programme": "custom",
                         "gemeente": gemeente, "gemeente_unit": gemeente})


IND = "ervaren_gezondheid_pct"  # % (tolerance 1 procentpunt), higher is better


def _health_case():
    rows = []
    for year, ref in ((2012, 70.0), (2016, 70.0), (2020, 70.0)):
        rows.append(("GM0001", "gemeente", IND, year, ref, "ok"))
    area = {  # id: (2012, 2020)
        "at": (60.0, 61.0),        # shortfall 10 -> 9: exactly the tolerance
        "beyond": (60.0, 61.5),    # 10 -> 8.5
        "worse": (60.0, 58.9),     # 10 -> 11.1
        "nobase": (None, 65.0),    # baseline suppressed
        "better": (60.0, 72.0),
    }
    for aid, (b, l) in area.items():
        rows.append((aid, "area", IND, 2012, b, "ok" if b is not None else TWW))
        rows.append((aid, "area", IND, 2020, l, "ok"))
    rows.append(("at", "area", IND, 2016, 60.5, "ok"))  # one area only: 2016 not available
    # an area in a gemeente whose reference is suppressed in the latest year
    rows += [("refsec", "area", IND, 2012, 60.0, "ok"), ("refsec", "area", IND, 2020, 61.0, "ok"),
             ("GM0002", "gemeente", IND, 2012, 70.0, "ok"), ("GM0002", "gemeente", IND, 2020, None, "geheim")]
    index = pd.concat([_index(list(area)), _index(["refsec"], "GM0002")], ignore_index=True)
    return _values(rows), index


def test_gaps_classes_on_synthetic_areas(cat):
    values, index = _health_case()
    df = gaps(baseline=2012, latest=2020, indicators=[IND], values=values, index=index, catalogue=cat)
    got = dict(zip(df["area"], df["class"]))
    assert got == {"at": "gelijk", "beyond": "kleiner", "worse": "groter", "nobase": TWW,
                   "better": "beter dan referentie", "refsec": TWW}
    r = df.set_index("area")
    assert r.loc["worse", "gap_baseline"] == pytest.approx(-10.0)
    assert r.loc["worse", "gap_latest"] == pytest.approx(-11.1)
    assert r.loc["worse", "ratio_latest"] == pytest.approx(58.9 / 70)
    # a suppressed number is never shown as a number, and its status says why
    assert np.isnan(r.loc["nobase", "value_baseline"]) and r.loc["nobase", "status_baseline"] == TWW
    assert np.isnan(r.loc["refsec", "reference_latest"])
    assert r.loc["refsec", "reference_status_latest"] == "geheim"
    assert np.isnan(r.loc["refsec", "gap_latest"])
    assert (df["tolerance"] == 1.0).all() and (df["polarity"] == "hoger is beter").all()


def test_gaps_nearest_available_years(cat):
    values, index = _health_case()
    # 2016 has a value for one area of six: not available; 2015 -> 2012 (earlier), 2017 -> 2020
    df = gaps(baseline=2015, latest=2017, indicators=[IND], values=values, index=index, catalogue=cat)
    assert set(df["baseline_year"]) == {2012} and set(df["latest_year"]) == {2020}
    assert dict(zip(df["area"], df["class"]))["at"] == "gelijk"


def test_gaps_same_baseline_and_latest_year(cat):
    values, index = _health_case()
    df = gaps(baseline=2020, latest=2020, indicators=[IND], values=values, index=index, catalogue=cat)
    assert (df["baseline_year"] == 2020).all() and (df["latest_year"] == 2020).all()
    assert (df["class"] == TWW).all()  # also for the area that beats its reference
    # asking a span that collapses onto one available year gives the same
    df = gaps(baseline=2021, latest=2030, indicators=[IND], values=values, index=index, catalogue=cat)
    assert (df["baseline_year"] == df["latest_year"]).all() and (df["class"] == TWW).all()


def test_gaps_missing_area_row_is_not_a_number(cat):
    values, index = _health_case()
    values = values[~((values["unit_id"] == "worse") & (values["period"] == 2020))]
    df = gaps(baseline=2012, latest=2020, indicators=[IND], values=values, index=index, catalogue=cat)
    r = df.set_index("area").loc["worse"]
    assert r["class"] == TWW and np.isnan(r["value_latest"]) and r["status_latest"] == "niet beschikbaar"


def test_gaps_polarity_flipped(cat):
    """roker_pct (higher is worse) with values mirrored around the reference gives the classes
    of the health case."""
    values, index = _health_case()
    ref = 70.0
    mirrored = values.copy()
    mirrored["indicator"] = "roker_pct"
    is_area = mirrored["unit_kind"] == "area"
    mirrored.loc[is_area, "value"] = 2 * ref - mirrored.loc[is_area, "value"]
    up = gaps(baseline=2012, latest=2020, indicators=[IND], values=values, index=index, catalogue=cat)
    down = gaps(baseline=2012, latest=2020, indicators=["roker_pct"], values=mirrored, index=index,
                catalogue=cat)
    assert list(down["class"]) == list(up["class"])
    assert (down["polarity"] == "hoger is slechter").all()
    assert "lager is beter" in down["rule"].iloc[0] and "hoger is beter" in up["rule"].iloc[0]


def test_gaps_neutral_indicator_never_better(cat):
    values, index = _health_case()
    neutral = values.assign(indicator="inwoners_65plus_pct")
    df = gaps(baseline=2012, latest=2020, indicators=["inwoners_65plus_pct"], values=neutral,
              index=index, catalogue=cat)
    got = dict(zip(df["area"], df["class"]))
    # "better" (60 -> 72 against 70): |gap| 10 -> 2, closer to the reference
    assert got["better"] == "kleiner"
    assert "beter dan referentie" not in got.values()


def test_gaps_relative_tolerance_and_rule_text(cat):
    """ww_per_1000 declares no tolerance and is not a percentage: 2% of the reference's
    baseline value (50 -> 1.0); the rule written next to each result contains that number."""
    rows = [("GM0001", "gemeente", "ww_per_1000", 2016, 50.0, "ok"),
            ("GM0001", "gemeente", "ww_per_1000", 2022, 40.0, "ok"),
            ("at", "area", "ww_per_1000", 2016, 60.0, "ok"), ("at", "area", "ww_per_1000", 2022, 51.0, "ok"),
            ("beyond", "area", "ww_per_1000", 2016, 60.0, "ok"), ("beyond", "area", "ww_per_1000", 2022, 51.1, "ok")]
    df = gaps(baseline=2016, latest=2022, indicators=["ww_per_1000"], values=_values(rows),
              index=_index(["at", "beyond"]), catalogue=cat, rule="omw")
    assert list(df["tolerance"]) == [1.0, 1.0]
    assert dict(zip(df["area"], df["class"])) == {"at": "gelijk", "beyond": "groter"}
    for rule in df["rule"]:
        assert "hoogstens 1,0 per 1 000 inwoners" in rule
        assert "2% van de referentiewaarde" in rule and "2016" in rule and "2022" in rule
        assert "lager is beter" in rule
    # the default rule (issue 15) states the same tolerance in its own words
    df = gaps(baseline=2016, latest=2022, indicators=["ww_per_1000"], values=_values(rows),
              index=_index(["at", "beyond"]), catalogue=cat)
    for rule in df["rule"]:
        assert "meer dan 1,0 per 1 000 inwoners" in rule and "lager is beter" in rule


def test_rule_text_states_the_tolerance_used(cat):
    values, index = _health_case()
    df = gaps(baseline=2012, latest=2020, indicators=[IND], values=values, index=index, catalogue=cat,
              rule="omw")
    assert all("hoogstens 1,0 procentpunt" in r for r in df["rule"])
    # a declared tolerance is written as declared
    woz = cat["woz_gemiddeld"]
    text = analysis.rule_text(woz, analysis.default_tolerance(woz, 250.0), 2016, 2022, "gemeente")
    assert "hoogstens 5,0 x 1 000 euro" in text and "gedeclareerd" in text
    assert "stedelijk gemiddelde" in text
    # every rule states the tolerance with which its row was classified
    for ind_id in ("inkomen_per_inwoner", "ww_per_1000", "roker_pct", "leefbaarometer_klasse"):
        ind = cat[ind_id]
        tol = analysis.default_tolerance(ind, 123.4)
        assert nl_number(tol, max(ind.decimals, 1)) in analysis.rule_text(ind, tol, 2012, 2020, "NL")


def test_reference_rest_and_unknown_reference(cat):
    values, index = _health_case()
    rest = values[values["unit_id"] == "GM0001"].assign(unit_id="at~rest", unit_kind="rest")
    rest.loc[rest["period"] == 2020, "value"] = 72.5
    df = gaps(baseline=2012, latest=2020, indicators=[IND], values=pd.concat([values, rest]),
              index=index, reference="rest", catalogue=cat)
    r = df.set_index("area")
    assert r.loc["at", "reference_latest"] == 72.5 and r.loc["at", "class"] == "groter"
    assert r.loc["beyond", "class"] == TWW  # no rest unit for it: no reference
    assert "rest van de gemeente" in r.loc["at", "rule"]
    with pytest.raises(ValueError, match="onbekende referentie"):
        gaps(baseline=2012, latest=2020, values=values, index=index, reference="G99", catalogue=cat)


def test_rule_years_are_whole_years_when_an_indicator_has_none(cat):
    """An indicator without any shown value has no years; the others' rules still say 2012,
    not 2012.0 (the year column must stay integer)."""
    values, index = _health_case()
    df = gaps(baseline=2012, latest=2020, indicators=[IND, "roker_pct"], values=values, index=index,
              catalogue=cat)
    health = df[df["indicator"] == IND]
    assert all("tussen 2012 en 2020" in r for r in health["rule"])
    assert not any(".0 " in r.replace("1,0 ", "") for r in df["rule"])
    smoke = df[df["indicator"] == "roker_pct"]
    assert smoke["baseline_year"].isna().all() and (smoke["class"] == TWW).all()
    # no years: said in words, never "tussen ? en ?" (issue 17.4)
    assert all("tussen het basisjaar en het laatste jaar" in r and "?" not in r for r in smoke["rule"])
    assert str(df["baseline_year"].dtype) == "Int64"


def test_dutch_notation_is_shared_by_cli_web_and_report():
    """One formatter: the same stored value reads the same everywhere (doctests in nlformat)."""
    import doctest

    from wijkmonitor import nlformat
    from wijkmonitor.report import format as report_format
    from wijkmonitor.web import format as web_format

    assert doctest.testmod(nlformat).failed == 0
    assert report_format.nl_value(78.44, 1, "%") == web_format.nl_value(78.44, 1, "%") == "78,4\u00a0%"
    assert report_format.nl_difference(-3.2, 1, "%") == web_format.nl_gap(-3.2, 1, "%") == "\u22123,2\u00a0procentpunt"
    assert web_format.nl_value(float("nan"), 1, "%") == web_format.DASH
    with pytest.raises(ValueError):
        nlformat.nl_number(None)


def test_choose_years_half_rule_then_best_pair():
    from wijkmonitor.analysis import choose_years

    # two years reach half of 4 areas: nearest of those to the asked years
    full = {"a": {2012, 2016, 2020}, "b": {2012, 2020}, "c": {2012}}
    assert choose_years(full, 4, 2010, 2024) == (2012, 2020)
    # only 2024 reaches half of 6 areas; 2017-2019 is the pair most areas have both years of
    part = {"a": {2017, 2019, 2024}, "b": {2017, 2019}, "c": {2024}, "d": {2024}, "e": {2016, 2024}}
    assert choose_years(part, 6, 2012, 2024) == (2017, 2019)
    # ties in the number of areas: nearest to the asked years
    tie = {"a": {2016, 2018}, "b": {2017, 2023}}
    assert choose_years(tie, 10, 2016, 2024) == (2017, 2023)
    # no area with two years: the nearest years (nothing to measure)
    assert choose_years({"a": {2016}, "b": {2020}}, 10, 2012, 2024) == (2016, 2020)
    assert choose_years({}, 10, 2012, 2024) == (None, None)


def test_counts_have_no_gap(cat):
    assert not analysis.comparable(cat["inwoners"]) and analysis.comparable(cat["koopwoningen_pct"])
    values, index = _health_case()
    with pytest.raises(ValueError, match="aantal"):
        analysis.gaps(indicators=["inwoners"], baseline=2012, latest=2020,
                      values=values, index=index, catalogue=cat)
    # without a list of indicators counts are simply left out
    df = analysis.gaps(baseline=2012, latest=2020, values=values, index=index, catalogue=cat)
    assert "inwoners" not in set(df["indicator"]) and IND in set(df["indicator"])


def test_rule_text_without_tolerance_or_years_has_no_question_mark(cat):
    """Issue 17.4: a rule never reads 'tussen ? en ?' or 'hoogstens ? ...'."""
    ind = cat["ao_per_1000"]
    text = analysis.rule_text(ind, float("nan"), None, None, "gemeente")
    assert "?" not in text
    assert "tussen het basisjaar en het laatste jaar" in text and "in het laatste jaar" in text
    assert "de tolerantie (hier niet te bepalen" in text
    # one year known is not enough for a span either
    assert "?" not in analysis.rule_text(ind, 1.0, 2012, None, "gemeente")
    full = analysis.rule_text(ind, 1.0, 2012, 2020, "gemeente")
    assert "tussen 2012 en 2020" in full and "in 2020" in full and "hoogstens 1,0 per 1 000 inwoners" in full
