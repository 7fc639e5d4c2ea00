"""The declared stand-in weight of the woningvoorraad indicators (``weight_fallback``), on a
small synthetic store: which weight an area gets, that the two are never mixed, the
provenance and interval of an approximation, and what happens when both weights are missing.

Expected numbers are worked out by hand in the comments.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from wijkmonitor import uncertainty
from wijkmonitor.aggregate import MIN_COVERAGE, NOT_COMPARABLE_REASON, Unit, aggregate
from wijkmonitor.catalogue import load_catalogue

A, B, C = "BU00010001", "BU00010002", "BU00010003"
AREA = Unit("drie", "area", (A, B, C), 2024)
APPROX = "opgeteld; benadering: gewogen met huishoudens, woningvoorraad per buurt ontbreekt"


@pytest.fixture
def cat():
    return load_catalogue()


def store(woz=((A, 200.0, 100.0), (B, 300.0, 200.0), (C, 400.0, 300.0)),
          households=((A, 150.0), (B, 150.0), (C, 300.0)), population=(1000.0, 1000.0, 1000.0),
          koop=()):
    """A store with three buurten of 2024: WOZ (value, woningvoorraad or None) as compute
    writes it (numerator = value x weight; a missing weight leaves numerator and denominator
    NULL with status ok), households as observations of source ``kwb``."""
    con = duckdb.connect()
    con.execute("CREATE TABLE regions (code VARCHAR, year INTEGER, level VARCHAR, name VARCHAR, "
                "gemeente_code VARCHAR, population DOUBLE)")
    for code, pop in zip((A, B, C), population):
        con.execute("INSERT INTO regions VALUES (?, 2024, 'buurt', ?, 'GM0001', ?)", [code, code, pop])
    con.execute("CREATE TABLE indicator_values (indicator VARCHAR, region_code VARCHAR, geo_year INTEGER, "
                "period INTEGER, value DOUBLE, numerator DOUBLE, denominator DOUBLE, status VARCHAR, "
                "estimate BOOLEAN, source_id VARCHAR)")
    for code, v, w in woz:
        con.execute("INSERT INTO indicator_values VALUES ('woz_gemiddeld', ?, 2024, 2024, ?, ?, ?, 'ok', false, "
                    "'kwb')", [code, v, None if w is None else v * w, w])
    for code, p, w in koop:
        con.execute("INSERT INTO indicator_values VALUES ('koopwoningen_pct', ?, 2024, 2024, ?, ?, ?, 'ok', "
                    "false, 'kwb')", [code, p, None if w is None else p * w / 100, w])
    con.execute("CREATE TABLE observations (region_code VARCHAR, geo_year INTEGER, period INTEGER, "
                "variable VARCHAR, value DOUBLE, status VARCHAR, source_id VARCHAR)")
    for code, hh in households:
        con.execute("INSERT INTO observations VALUES (?, 2024, 2024, 'a_hh', ?, ?, 'kwb')",
                    [code, hh, "ok" if hh is not None else "geheim"])
    con.execute("CREATE TABLE sources (source_id VARCHAR, table_id VARCHAR, rank INTEGER)")
    con.execute("INSERT INTO sources VALUES ('kwb', '85984NED', 1), ('stad', 'stad-xlsx', 2)")
    return con


def row(con, cat, unit=AREA, indicator="woz_gemiddeld", **kw):
    out = aggregate(con, [unit], cat, **kw)
    return out[(out["indicator"] == indicator) & (out["period"] == 2024)].iloc[0]


def test_own_weight_present_for_all_parts_is_used(cat):
    r = row(store(), cat)
    # (200 x 100 + 300 x 200 + 400 x 300) / 600 = 200 000 / 600
    assert r["status"] == "ok" and r["method"] == "opgeteld"
    assert r["value"] == pytest.approx(200_000 / 600) and r["denominator"] == 600
    assert not uncertainty.is_approximation([r["method"]])[0]


def test_own_weight_missing_for_one_part_weights_all_parts_with_households(cat):
    con = store(woz=((A, 200.0, 100.0), (B, 300.0, 200.0), (C, 400.0, None)))
    r = row(con, cat)
    # own weight: A and B only, 2 of 3 equal buurten = 67 % < 90 % -> not comparable; so every
    # part with households: (200 x 150 + 300 x 150 + 400 x 300) / 600 = 195 000 / 600 = 325
    # (a mix, A and B with dwellings and C with households, would be 260 000 / 600)
    assert r["status"] == "ok" and r["method"] == APPROX
    assert r["value"] == pytest.approx(325.0)
    assert r["numerator"] == pytest.approx(195_000.0) and r["denominator"] == 600
    assert r["coverage"] == 1.0 and r["n_used"] == 3
    assert r["source_id"] == "kwb" and r["publication"] == "85984NED, indeling 2024"
    assert uncertainty.is_approximation([r["method"]])[0]


def test_households_from_another_source_are_named_in_the_provenance(cat):
    con = store(woz=((A, 200.0, None), (B, 300.0, None), (C, 400.0, None)), households=())
    for code, hh in ((A, 150.0), (B, 150.0), (C, 300.0)):
        con.execute("INSERT INTO observations VALUES (?, 2024, 2024, 'a_hh', ?, 'ok', 'stad')", [code, hh])
    # a better-ranked source wins where both give the weight
    con.execute("INSERT INTO observations VALUES (?, 2024, 2024, 'a_hh', 450.0, 'ok', 'kwb')", [C])
    r = row(con, cat)
    # (200 x 150 + 300 x 150 + 400 x 450) / 750 = 255 000 / 750 = 340
    assert r["value"] == pytest.approx(340.0) and r["method"] == APPROX
    assert r["source_id"] == "kwb,stad" and r["publication"] == "85984NED + stad-xlsx, indeling 2024"


def test_a_small_part_without_its_own_weight_keeps_the_own_weight(cat):
    """The other side of the coverage threshold: C holds 100 of 2 100 inhabitants; A and B
    alone cover 95 % >= 90 %, so the own weight stands and no approximation is made."""
    con = store(woz=((A, 200.0, 100.0), (B, 300.0, 200.0), (C, 400.0, None)),
                population=(1000.0, 1000.0, 100.0))
    r = row(con, cat)
    assert 2000 / 2100 >= MIN_COVERAGE
    assert r["status"] == "ok" and r["method"] == "opgeteld"
    assert r["value"] == pytest.approx(80_000 / 300) and r["coverage"] == pytest.approx(2000 / 2100)


def test_both_weights_missing_is_not_comparable_with_its_reason(cat):
    # C lacks dwellings, B lacks households: own weight covers A+B, stand-in A+C: both 2/3
    con = store(woz=((A, 200.0, 100.0), (B, 300.0, 200.0), (C, 400.0, None)),
                households=((A, 150.0), (C, 300.0)))
    r = row(con, cat)
    assert r["status"] == "niet vergelijkbaar" and pd.isna(r["value"]) and r["method"] == "opgeteld"
    assert "vervangende gewicht" in NOT_COMPARABLE_REASON
    # nothing to weight with at all
    con = store(woz=((A, 200.0, None), (B, 300.0, None), (C, 400.0, None)), households=())
    r = row(con, cat)
    assert r["status"] == "niet vergelijkbaar" and pd.isna(r["value"]) and r["n_used"] == 0


def test_a_secret_household_count_is_no_weight(cat):
    con = store(woz=((A, 200.0, None), (B, 300.0, None), (C, 400.0, None)),
                households=((A, 150.0), (B, 150.0), (C, None)))  # C: geheim
    r = row(con, cat)
    assert r["status"] == "niet vergelijkbaar" and pd.isna(r["value"])


def test_the_stand_in_only_when_it_gives_a_shown_value(cat):
    # households sum to 45 < min_base 50: the stand-in would be 'te weinig waarnemingen', so the
    # own weight's result (not comparable) stands
    con = store(woz=((A, 200.0, 100.0), (B, 300.0, 200.0), (C, 400.0, None)),
                households=((A, 15.0), (B, 15.0), (C, 15.0)))
    assert cat["woz_gemiddeld"].min_base == 50
    r = row(con, cat)
    assert r["status"] == "niet vergelijkbaar" and r["method"] == "opgeteld"
    con = store(woz=((A, 200.0, 100.0), (B, 300.0, 200.0), (C, 400.0, None)),
                households=((A, 15.0), (B, 15.0), (C, 20.0)))  # 50: shown
    r = row(con, cat)
    assert r["status"] == "ok" and r["method"] == APPROX
    assert r["value"] == pytest.approx((200 * 15 + 300 * 15 + 400 * 20) / 50)


def test_percentage_with_households(cat):
    con = store(woz=(), koop=((A, 10.0, None), (B, 50.0, None), (C, 90.0, None)))
    r = row(con, cat, indicator="koopwoningen_pct")
    # (10 x 150 + 50 x 150 + 90 x 300) / 600 = 36 000 / 600 = 60 %; numerator in households
    assert r["status"] == "ok" and r["value"] == pytest.approx(60.0)
    assert r["numerator"] == pytest.approx(360.0) and r["denominator"] == 600
    assert r["method"] == APPROX


def test_published_values_are_never_replaced(cat):
    con = store(woz=((A, 200.0, None), (B, 300.0, None), (C, 400.0, None)))
    r = row(con, cat, unit=Unit("a", "area", (A,), 2024, A))  # an area that is one buurt
    assert r["method"] == "gepubliceerd" and r["value"] == 200.0
    # a harmonised series (another geography) or an explicit opt-out: no stand-in weight
    r = row(con, cat, weight_fallback=False)
    assert r["status"] == "niet vergelijkbaar" and r["method"] == "opgeteld"


def test_a_store_without_observations_has_no_stand_in(cat):
    con = store(woz=((A, 200.0, None), (B, 300.0, None), (C, 400.0, None)))
    con.execute("DROP TABLE observations")
    r = row(con, cat)
    assert r["status"] == "niet vergelijkbaar"


def test_interval_of_an_approximation_includes_its_measured_error(cat):
    ind = cat["woz_gemiddeld"]
    prm = uncertainty.fallback_parameters()["woz_gemiddeld"]
    assert prm["scale"] == "relatief" and prm["weight"] == ["a_hh"]
    iv = uncertainty.intervals(ind, [325.0, 325.0], approx=[False, True])
    # without: the rounding, +/- 0,5 (x 1 000 euro, 0 decimals); with: plus p95 x 325
    assert iv["lower"][0] == 324.5 and iv["upper"][0] == 325.5
    half = 0.5 + prm["p95"] * 325.0
    assert iv["lower"][1] == pytest.approx(325.0 - half) and iv["upper"][1] == pytest.approx(325.0 + half)
    assert iv["se"][1] == pytest.approx(np.sqrt((0.5 / np.sqrt(3)) ** 2 + (prm["p95"] * 325.0 / uncertainty.Z) ** 2))
    koop = uncertainty.fallback_parameters()["koopwoningen_pct"]
    assert koop["scale"] == "procentpunt"
    iv = uncertainty.intervals(cat["koopwoningen_pct"], [60.0], approx=[True])
    assert iv["upper"][0] - iv["lower"][0] == pytest.approx(2 * (0.5 + koop["p95"]))
    # the fields the API and CLI give, from the row's provenance
    f = uncertainty.interval_fields(ind, 325.0, 195_000.0, 600.0, method=APPROX)
    assert f["interval_method"] == "vervangend_gewicht" and f["upper"] == pytest.approx(325.0 + half)
    assert uncertainty.interval_fields(ind, 325.0, 195_000.0, 600.0, method="opgeteld")["interval_method"] \
        == "afronding"
    cols = uncertainty.interval_columns(pd.DataFrame({
        "indicator": ["woz_gemiddeld"] * 2, "value": [325.0, 325.0], "status": ["ok", "ok"],
        "method": ["opgeteld", APPROX]}), cat)
    assert list(cols["interval_method"]) == ["afronding", "vervangend_gewicht"]
