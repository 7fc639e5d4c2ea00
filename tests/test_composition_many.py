"""Several indicators of one unit at once (``standardised_gaps``, used by the website and the
fiche) and their one-line summary (``gap_summary``): synthetic stores, expected values by hand."""

from __future__ import annotations

import pytest

from wijkmonitor import composition as comp

from test_composition import STANDARD_YAML, make_store  # tests/ has no __init__: pytest puts it on sys.path


@pytest.fixture
def standard(tmp_path):
    p = tmp_path / "std.yaml"
    p.write_text(STANDARD_YAML, encoding="utf-8")
    return comp.load_standard(p)


RATES = {("WK999901", 2012): (76, 80, 60), ("WK999901", 2016): (70, 80, 60),
         ("GM9999", 2012): (86, 90, 70), ("GM9999", 2016): (86, 90, 70)}
WEIGHTS = {("WK999901", 2012): (400, 400, 200), ("WK999901", 2016): (250, 250, 500),
           ("GM9999", 2012): (4000, 4000, 2000), ("GM9999", 2016): (4000, 4000, 2000)}


def test_many_indicators_give_the_single_results_and_the_reasons(standard):
    con = make_store(RATES, WEIGHTS, {"oud": ["WK999901"]})
    asked = ["ervaren_gezondheid_pct", "ervaren_gezondheid_65plus_pct", "eenzaam_pct"]
    got = comp.standardised_gaps(con, "oud", asked, 2012, 2016, standard=standard)
    assert [g["indicator"] for g in got] == asked
    # the same dict as the single call (the CLI's)
    assert got[0] == comp.standardised_gap(con, "oud", "ervaren_gezondheid_pct", 2012, 2016, standard=standard)
    # one age group already: not standardisable, with the reason of standardisable()
    assert got[1]["error"] == "kan niet worden gestandaardiseerd: al één leeftijdsgroep (65+): er is niets te standaardiseren"
    # eenzaamheid is a 50090NED 18+ estimate, but this store holds none of it
    assert got[2]["error"] == "geen 50090NED-cijfers voor 18+ en 65+ in de store"


def test_summary_of_the_worked_case(standard):
    # hand: crude gap -10 -> -16 (change -6); standardised 75 - 85 = -10 in both years (change 0)
    con = make_store(RATES, WEIGHTS, {"oud": ["WK999901"]})
    s = comp.gap_summary(comp.standardised_gaps(con, "oud", ["ervaren_gezondheid_pct"], 2012, 2016,
                                                standard=standard)[0])
    assert s["crude_baseline"] == pytest.approx(-10) and s["crude_latest"] == pytest.approx(-16)
    assert s["crude_change"] == pytest.approx(-6) and s["standardised_change"] == pytest.approx(0)
    assert s["crude_reason"] is None and s["standardised_reason"] is None and not s["derived"]


def test_summary_says_why_a_change_is_missing(standard):
    # the area's 65+ rate of 2016 is secret: crude change computable, standardised not
    rates = dict(RATES)
    rates[("WK999901", 2016)] = (70, 80, ".")
    con = make_store(rates, WEIGHTS, {"oud": ["WK999901"]})
    s = comp.gap_summary(comp.standardised_gap(con, "oud", "ervaren_gezondheid_pct", 2012, 2016, standard=standard))
    assert s["crude_change"] == pytest.approx(-6) and s["crude_reason"] is None
    assert s["standardised_change"] is None
    assert s["standardised_reason"] == "Oud 2016: geheim"
    # one year only: nothing to change
    con1 = make_store({k: v for k, v in RATES.items() if k[1] == 2016},
                      {k: v for k, v in WEIGHTS.items() if k[1] == 2016}, {"oud": ["WK999901"]})
    s1 = comp.gap_summary(comp.standardised_gap(con1, "oud", "ervaren_gezondheid_pct", 2012, 2016, standard=standard))
    assert s1["baseline_year"] == s1["latest_year"] == 2016
    assert s1["crude_change"] is None and s1["standardised_change"] is None
    assert s1["standardised_reason"] == "50090NED heeft deze maat alleen voor 2016: geen verandering te berekenen"
