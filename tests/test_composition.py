"""Direct age standardisation (wijkmonitor.composition) on small synthetic stores.

Every expected number is computed by hand in the comments: two age groups (18-65, 65+), a
standard population of 300 / 100 (shares 0,75 / 0,25), one gemeente, areas of one or two
parts. The real-data checks are in test_composition_real.py.
"""

from __future__ import annotations

import json

import duckdb
import numpy as np
import pandas as pd
import pytest

from wijkmonitor import composition as comp
from wijkmonitor.composition import GroupValue, aggregate_rates, standardise

STANDARD_YAML = """
id: test
name: "testbevolking"
source: "hand"
population: {"18_65": 300, 65plus: 100}
weights:
  "18_65": [a_25_44, a_45_64]
  65plus: [a_65_oo]
  18plus: [a_25_44, a_45_64, a_65_oo]
weight_window: 12
min_base: 100
"""


@pytest.fixture
def standard(tmp_path):
    p = tmp_path / "std.yaml"
    p.write_text(STANDARD_YAML, encoding="utf-8")
    return comp.load_standard(p)


def make_store(rates: dict, weights: dict, areas: dict, *, young_periods=None) -> duckdb.DuckDBPyConnection:
    """An in-memory store with the tables composition reads.

    rates:   {(code, period): (rate_18plus, rate_18_65, rate_65plus)}; None = not published,
             "." = geheim
    weights: {(code, period): (a_25_44, a_45_64, a_65_oo)}
    areas:   {area_id: [codes]} (all in gemeente GM9999)
    young_periods: periods whose 18-65 table is in the store (default: all)
    """
    con = duckdb.connect()
    obs = []
    for (code, period), (r_all, r_young, r_old) in rates.items():
        for var, val, age in (("gez_ervaren_goed_18plus", r_all, "18plus"),
                              ("gez_ervaren_goed_18_65", r_young, "18_65"),
                              ("gez_ervaren_goed_65plus", r_old, "65plus")):
            if age == "18_65" and young_periods is not None and period not in young_periods:
                continue
            if val is None:
                continue
            status = "geheim" if val == "." else "ok"
            obs.append((code, 2020, period, var, None if val == "." else float(val), status,
                        f"rivm-50090ned-{period}-{age}"))
    for (code, period), vals in weights.items():
        for var, val in zip(("a_25_44", "a_45_64", "a_65_oo"), vals):
            obs.append((code, period, period, var, float(val), "ok", f"kwb-{period}"))
    # a second publication of the 18+ figure that must never be used (another model run)
    for (code, period), (r_all, _, _) in rates.items():
        if r_all not in (None, "."):
            obs.append((code, 2024, period, "gez_ervaren_goed_18plus", float(r_all) + 5, "ok",
                        "woonikveilig-gezondheid"))
    con.execute("CREATE TABLE observations (region_code VARCHAR, geo_year INT, period INT, variable VARCHAR, "
                "value DOUBLE, status VARCHAR, source_id VARCHAR)")
    con.executemany("INSERT INTO observations VALUES (?, ?, ?, ?, ?, ?, ?)", obs)
    srcs = sorted({o[6] for o in obs})
    con.execute("CREATE TABLE sources (source_id VARCHAR, table_id VARCHAR, rank INT)")
    con.executemany("INSERT INTO sources VALUES (?, ?, ?)",
                    [(s, "50090NED" if s.startswith("rivm") else ("50150NED" if s.startswith("woon") else "KWB"),
                      i) for i, s in enumerate(srcs)])
    codes = sorted({c for c, _ in rates} | {c for c, _ in weights})
    con.execute("CREATE TABLE regions (code VARCHAR, year INT, level VARCHAR, name VARCHAR, gemeente_code VARCHAR)")
    level = {"GM": "gemeente", "WK": "wijk", "BU": "buurt"}
    con.executemany("INSERT INTO regions VALUES (?, 2020, ?, ?, 'GM9999')",
                    [(c, level[c[:2]], "Teststad" if c.startswith("GM") else None) for c in codes])
    con.execute("CREATE TABLE area_index (area_id VARCHAR, name VARCHAR, programme VARCHAR, gemeente VARCHAR, "
                "codes VARCHAR)")
    con.executemany("INSERT INTO area_index VALUES (?, ?, 'custom', 'GM9999', ?)",
                    [(a, a.title(), ",".join(cs)) for a, cs in areas.items()])
    return con


def rows(result) -> dict:
    return {r["measure"]: r for r in result["rows"]}


# ---------------------------------------------------------------------------------------
# The method: hand-computed two-group cases
# ---------------------------------------------------------------------------------------

def test_standard_shares_are_the_declared_population(standard):
    assert standard.shares == {"18_65": 0.75, "65plus": 0.25}


def test_crude_gap_moves_with_the_age_mix_the_standardised_gap_does_not(standard):
    # Rates per age group stay the same: area 80 (18-65) / 60 (65+), gemeente 90 / 70.
    # The area ages: 65+ share of 18+ 20 % in 2012, 50 % in 2016; the gemeente stays at 20 %.
    # Published 18+ (the publisher's own mix): area 2012 0,8x80+0,2x60 = 76, 2016 0,5x80+0,5x60 = 70;
    # gemeente 0,8x90+0,2x70 = 86 in both years.
    rates = {("WK999901", 2012): (76, 80, 60), ("WK999901", 2016): (70, 80, 60),
             ("GM9999", 2012): (86, 90, 70), ("GM9999", 2016): (86, 90, 70)}
    weights = {("WK999901", 2012): (400, 400, 200), ("WK999901", 2016): (250, 250, 500),
               ("GM9999", 2012): (4000, 4000, 2000), ("GM9999", 2016): (4000, 4000, 2000)}
    con = make_store(rates, weights, {"oud": ["WK999901"]})
    res = comp.standardised_gap(con, "oud", "ervaren_gezondheid_pct", 2012, 2016, standard=standard)
    r = rows(res)
    crude, std = r["ruw (18+)"], r["leeftijdsgestandaardiseerd"]
    # crude gap -10 -> -16: the gap "grew" by 6 points only because the area got older
    assert crude["gap_baseline"] == pytest.approx(-10)
    assert crude["gap_latest"] == pytest.approx(-16)
    assert crude["gap_change"] == pytest.approx(-6)
    # standardised: area 0,75x80+0,25x60 = 75, gemeente 0,75x90+0,25x70 = 85, gap -10 both years
    assert std["value_baseline"] == pytest.approx(75) and std["value_latest"] == pytest.approx(75)
    assert std["reference_baseline"] == pytest.approx(85) and std["reference_latest"] == pytest.approx(85)
    assert std["gap_baseline"] == pytest.approx(-10) and std["gap_latest"] == pytest.approx(-10)
    assert std["gap_change"] == pytest.approx(0)
    assert res["reference"] == "GM9999" and res["baseline_year"] == 2012 and res["latest_year"] == 2016
    # the 65+ share the weights give (65+ of 25+): 200/1000 and 500/1000
    assert res["share_65plus"]["area_baseline"] == pytest.approx(0.2)
    assert res["share_65plus"]["area_latest"] == pytest.approx(0.5)
    assert not std["derived_baseline"] and not std["derived_latest"]
    json.dumps(res)  # serialisable as the CLI prints it


def test_two_part_area_weighs_each_age_group_by_its_own_population(standard):
    # B1: 18-65 84 (weight 25-64 = 300), 65+ 55 (weight 100), 18+ published 76
    # B2: 18-65 72 (weight 150),         65+ 65 (weight 100), 18+ published 70
    # area 18-65 = (84x300 + 72x150) / 450 = 36000/450 = 80
    # area 65+   = (55x100 + 65x100) / 200 = 60
    # area 18+ (crude, weights 25+ = 400 and 250) = (76x400 + 70x250) / 650 = 47900/650
    # standardised = 0,75x80 + 0,25x60 = 75; gemeente published 90 / 70 -> 85
    rates = {("BU99990001", 2012): (76, 84, 55), ("BU99990002", 2012): (70, 72, 65),
             ("GM9999", 2012): (86, 90, 70)}
    weights = {("BU99990001", 2012): (200, 100, 100), ("BU99990002", 2012): (100, 50, 100),
               ("GM9999", 2012): (4000, 4000, 2000)}
    con = make_store(rates, weights, {"twee": ["BU99990001", "BU99990002"]})
    r = rows(comp.standardised_gap(con, "twee", "ervaren_gezondheid_pct", 2012, 2012, standard=standard))
    assert r["18 tot 65 jaar"]["value_baseline"] == pytest.approx(80)
    assert r["65 jaar of ouder"]["value_baseline"] == pytest.approx(60)
    assert r["ruw (18+)"]["value_baseline"] == pytest.approx(47900 / 650)
    assert r["leeftijdsgestandaardiseerd"]["value_baseline"] == pytest.approx(75)
    assert r["leeftijdsgestandaardiseerd"]["gap_baseline"] == pytest.approx(-10)
    assert r["leeftijdsgestandaardiseerd"]["gap_change"] is None  # one year: no change


def test_another_publication_of_the_same_variable_is_never_used(standard):
    # make_store adds a 50150NED copy (+5 points) of every 18+ figure on the 2024 division
    rates = {("WK999901", 2012): (76, 80, 60), ("GM9999", 2012): (86, 90, 70)}
    con = make_store(rates, {}, {"a": ["WK999901"]})
    r = rows(comp.standardised_gap(con, "WK999901", "ervaren_gezondheid_pct", 2012, 2012, standard=standard))
    assert r["ruw (18+)"]["value_baseline"] == 76
    assert r["ruw (18+)"]["reference_baseline"] == 86


# ---------------------------------------------------------------------------------------
# The coverage and minimum-base rules, both sides of each boundary
# ---------------------------------------------------------------------------------------

def test_coverage_exactly_90_percent_is_shown_just_below_is_not_comparable():
    at = aggregate_rates([50.0, None], ["ok", "geheim"], [900, 100])
    assert at.status == "ok" and at.coverage == pytest.approx(0.9) and at.value == pytest.approx(50)
    below = aggregate_rates([50.0, None], ["ok", "geheim"], [890, 110])
    assert below.status == "niet vergelijkbaar" and below.value is None
    assert below.coverage == pytest.approx(0.89)


def test_minimum_base_exactly_100_is_shown_99_is_too_few():
    assert aggregate_rates([40.0, 60.0], ["ok", "ok"], [50, 50]).status == "ok"
    small = aggregate_rates([40.0, 60.0], ["ok", "ok"], [50, 49])
    assert small.status == "te weinig waarnemingen" and small.value is None


def test_a_part_without_known_weight_counts_as_an_average_part_and_is_not_added():
    # weights 100, 100, unknown: the unknown part counts as 100; it has a value but no weight,
    # so it is not added: coverage 200/300 -> niet vergelijkbaar
    g = aggregate_rates([50.0, 60.0, 70.0], ["ok", "ok", "ok"], [100, 100, None])
    assert g.status == "niet vergelijkbaar" and g.coverage == pytest.approx(2 / 3)


def test_all_parts_secret_is_geheim():
    g = aggregate_rates([None, None], ["geheim", "geheim"], [100, 100])
    assert g.status == "geheim" and g.value is None


def test_standardised_value_needs_every_age_group():
    young = GroupValue(80.0, "ok", 1.0)
    old = GroupValue(None, "niet vergelijkbaar", 0.85)
    out = standardise({"18_65": young, "65plus": old}, {"18_65": 0.75, "65plus": 0.25})
    assert out.value is None and out.status == "niet vergelijkbaar"
    both = standardise({"18_65": young, "65plus": GroupValue(60.0, "ok", 1.0)}, {"18_65": 0.75, "65plus": 0.25})
    assert both.status == "ok" and both.value == pytest.approx(75)


def test_area_whose_65plus_coverage_is_below_90_percent_has_no_standardised_value(standard):
    # 65+ of B2 is secret; B2 has 65+ weight 120 of 1 000 -> 65+ coverage 0,88: niet vergelijkbaar,
    # while 18-65 (both shown) and the crude 18+ are fine
    rates = {("BU99990001", 2012): (76, 80, 60), ("BU99990002", 2012): (70, 72, "."),
             ("GM9999", 2012): (86, 90, 70)}
    weights = {("BU99990001", 2012): (200, 100, 880), ("BU99990002", 2012): (100, 50, 120),
               ("GM9999", 2012): (4000, 4000, 2000)}
    con = make_store(rates, weights, {"a": ["BU99990001", "BU99990002"]})
    r = rows(comp.standardised_gap(con, "a", "ervaren_gezondheid_pct", 2012, 2012, standard=standard))
    assert r["65 jaar of ouder"]["status_baseline"] == "niet vergelijkbaar"
    assert r["65 jaar of ouder"]["coverage_baseline"] == pytest.approx(0.88)
    assert r["leeftijdsgestandaardiseerd"]["status_baseline"] == "niet vergelijkbaar"
    assert r["leeftijdsgestandaardiseerd"]["value_baseline"] is None
    assert r["leeftijdsgestandaardiseerd"]["gap_baseline"] is None
    assert r["18 tot 65 jaar"]["status_baseline"] == "ok"
    # the other side of the boundary: B2's 65+ weight 100 of 1 000 -> coverage 0,9: shown
    weights[("BU99990001", 2012)] = (200, 100, 900)
    weights[("BU99990002", 2012)] = (100, 50, 100)
    con = make_store(rates, weights, {"a": ["BU99990001", "BU99990002"]})
    r = rows(comp.standardised_gap(con, "a", "ervaren_gezondheid_pct", 2012, 2012, standard=standard))
    assert r["65 jaar of ouder"]["status_baseline"] == "ok"
    assert r["65 jaar of ouder"]["value_baseline"] == pytest.approx(60)  # B1 alone
    assert r["leeftijdsgestandaardiseerd"]["status_baseline"] == "ok"


# ---------------------------------------------------------------------------------------
# Derived 18-65 where the store lacks the 18-65 table of a period
# ---------------------------------------------------------------------------------------

def test_missing_18_65_table_is_derived_from_18plus_and_65plus_and_marked(standard):
    # 2020 without 18-65: wijk 18+ 76, 65+ 60, weights 25-64 = 800, 65+ = 200:
    # 18-65 = (76 x 1000 - 60 x 200) / 800 = 64000/800 = 80; standardised 0,75x80+0,25x60 = 75
    rates = {("WK999901", 2020): (76, None, 60), ("GM9999", 2020): (86, None, 70),
             ("WK999901", 2012): (76, 80, 60), ("GM9999", 2012): (86, 90, 70)}
    weights = {("WK999901", 2020): (400, 400, 200), ("GM9999", 2020): (4000, 4000, 2000)}
    con = make_store(rates, weights, {"a": ["WK999901"]}, young_periods={2012})
    res = comp.standardised_gap(con, "a", "ervaren_gezondheid_pct", 2012, 2020, standard=standard)
    r = rows(res)
    assert r["18 tot 65 jaar"]["value_latest"] == pytest.approx(80)
    assert r["18 tot 65 jaar"]["derived_latest"] and not r["18 tot 65 jaar"]["derived_baseline"]
    assert r["leeftijdsgestandaardiseerd"]["value_latest"] == pytest.approx(75)
    assert r["leeftijdsgestandaardiseerd"]["derived_latest"]
    assert any("afgeleid" in n for n in res["notes"])
    table = comp.standardisable(con).set_index("indicator")
    assert table.loc["ervaren_gezondheid_pct", "derived_periods"] == "2020"


def test_derived_18_65_is_never_made_from_a_secret_value(standard):
    rates = {("WK999901", 2020): (76, None, "."), ("GM9999", 2020): (86, None, 70)}
    weights = {("WK999901", 2020): (400, 400, 200), ("GM9999", 2020): (4000, 4000, 2000)}
    con = make_store(rates, weights, {"a": ["WK999901"]}, young_periods=set())
    r = rows(comp.standardised_gap(con, "a", "ervaren_gezondheid_pct", 2020, 2020, standard=standard))
    assert r["18 tot 65 jaar"]["value_latest"] is None
    assert r["18 tot 65 jaar"]["status_latest"] == "geheim"
    assert r["leeftijdsgestandaardiseerd"]["value_latest"] is None
    assert r["ruw (18+)"]["value_latest"] == 76  # the published 18+ stays shown


# ---------------------------------------------------------------------------------------
# Which indicators, and errors
# ---------------------------------------------------------------------------------------

def test_only_50090ned_18plus_indicators_are_standardisable(standard):
    rates = {("WK999901", 2012): (76, 80, 60), ("GM9999", 2012): (86, 90, 70)}
    con = make_store(rates, {}, {"a": ["WK999901"]})
    table = comp.standardisable(con).set_index("indicator")
    assert bool(table.loc["ervaren_gezondheid_pct", "standardisable"])
    assert not bool(table.loc["ervaren_gezondheid_65plus_pct", "standardisable"])
    assert "één leeftijdsgroep" in table.loc["ervaren_gezondheid_65plus_pct", "reason"]
    assert not bool(table.loc["koopwoningen_pct", "standardisable"])
    with pytest.raises(comp.CompositionError, match="kan niet worden gestandaardiseerd"):
        comp.standardised_gap(con, "a", "koopwoningen_pct", 2012, 2012, standard=standard)
    with pytest.raises(comp.CompositionError, match="onbekend gebied"):
        comp.standardised_gap(con, "nergens", "ervaren_gezondheid_pct", 2012, 2012, standard=standard)
    with pytest.raises(comp.CompositionError, match="onbekende indicator"):
        comp.standardised_gap(con, "a", "bestaat_niet", 2012, 2012, standard=standard)


@pytest.mark.parametrize("body, field", [
    ("id: x\nname: x\nsource: x\nweight_window: 12\nmin_base: 100\n"
     "weights: {'18_65': [a], 65plus: [b], 18plus: [c]}\npopulation: {'18_65': 0, 65plus: 10}\n",
     "population.18_65"),
    ("id: x\nname: x\nsource: x\nweight_window: 12\nmin_base: 100\n"
     "weights: {'18_65': [a], 65plus: [b], 18plus: [c]}\n", "'population'"),
])
def test_bad_standard_population_file_names_file_and_field(tmp_path, body, field):
    p = tmp_path / "bad.yaml"
    p.write_text(body, encoding="utf-8")
    with pytest.raises(comp.CompositionError) as exc:
        comp.load_standard(p)
    assert str(p) in str(exc.value) and field in str(exc.value)


def test_declared_standard_is_the_nl00_row_of_kwb_2019():
    st = comp.load_standard()
    # KWB 2019 (84583NED), NL00: a_25_44 4 255 450, a_45_64 4 840 946, a_65_oo 3 314 004
    assert st.population == {"18_65": 4255450 + 4840946, "65plus": 3314004}
    assert st.shares["65plus"] == pytest.approx(3314004 / (4255450 + 4840946 + 3314004))
    assert st.weight_window == 12 and st.min_base == 100
