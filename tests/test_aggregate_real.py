"""Areas, groups, disclosure control and the gap on the real data (issue 4).

The store is the one the session builds from ``../shared/data`` (``real_store`` in conftest.py).
Every expected number is recomputed here from the store's ``observations`` (what the sources
published) or ``indicator_values`` (one value per CBS region), never through
:mod:`wijkmonitor.aggregate`. Custom areas are written as YAML into a temporary directory and
built into a copy of the store, the way a user adds one.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import duckdb
import numpy as np
import pandas as pd
import pytest

from wijkmonitor import analysis, store
from wijkmonitor.aggregate import MIN_COVERAGE
from wijkmonitor.area_tables import _fill_successors, build_area_tables
from wijkmonitor.areas import load_areas, load_groups, successor_gemeente, translate_codes
from wijkmonitor.catalogue import load_catalogue

NV = "niet vergelijkbaar"
TWW = "te weinig waarnemingen"
HEALTH_WEIGHT = ("a_25_44", "a_45_64", "a_65_oo")  # 25+ as the weight of 18+ estimates (catalogue)


# ---------------------------------------------------------------------------------------------
# Fixtures and independent helpers
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def con(real_store):
    c = store.connect(real_store)
    yield c
    c.close()


@pytest.fixture(scope="module")
def av(con):
    return con.execute("SELECT * FROM area_values").df()


@pytest.fixture(scope="module")
def cat():
    return load_catalogue()


def one(values: pd.DataFrame, unit: str, indicator: str, period: int) -> pd.Series:
    rows = values[(values["unit_id"] == unit) & (values["indicator"] == indicator)
                  & (values["period"] == period)]
    assert len(rows) == 1, f"{unit} {indicator} {period}: {len(rows)} rows"
    return rows.iloc[0]


def shown(row) -> bool:
    return row["status"] == "ok" and not pd.isna(row["value"])


def obs(con, codes, variable: str, period: int, geo_year: int | None = None) -> dict:
    """``{code: (value, status)}`` of one source variable; per code the best-ranked source's
    row (the store's precedence rule), on ``geo_year`` when given."""
    df = con.execute("""
        SELECT o.region_code, o.geo_year, o.value, o.status, s.rank
        FROM observations o JOIN sources s USING (source_id)
        WHERE o.variable = ? AND o.period = ? AND o.region_code IN (SELECT unnest(?))""",
                     [variable, period, list(codes)]).df()
    if geo_year is not None:
        df = df[df["geo_year"] == geo_year]
    df = df.sort_values(["rank", "geo_year"], ascending=[True, False]).drop_duplicates("region_code")
    return {r.region_code: (float(r.value) if r.status == "ok" else None, r.status)
            for r in df.itertuples()}


def health_weight(con, code: str, period: int, window: int = 12) -> float | None:
    """Inhabitants of 25 years and older from the KWB period nearest ``period`` (ties: the
    later one, within ``window`` years) -- the catalogue's weight of the 50090NED estimates."""
    df = con.execute("""
        SELECT o.variable, o.period, o.value, o.status, s.rank
        FROM observations o JOIN sources s USING (source_id)
        WHERE o.region_code = ? AND o.variable IN (SELECT unnest(?))""",
                     [code, list(HEALTH_WEIGHT)]).df()
    df = df.sort_values("rank").drop_duplicates(["variable", "period"])
    years = sorted((y for y in set(df["period"]) if abs(y - period) <= window),
                   key=lambda y: (abs(y - period), -y))
    if not years:
        return None
    sel = df[df["period"] == years[0]]
    if len(sel) < len(HEALTH_WEIGHT) or (sel["status"] != "ok").any():
        return None
    return float(sel["value"].sum())


def weighted_by_hand(con, codes, variable, period, *, geo_year, min_base=100):
    """Population-weighted mean of a model estimate over the parts that are shown (estimate
    published, weight known; issue 15: a published estimate is shown whatever its weight, so
    ``min_base`` no longer drops a part). Returns (value, numerator, weight, parts used)."""
    vals = obs(con, codes, variable, period, geo_year)
    num = den = 0.0
    used = []
    for c in codes:
        v = vals.get(c, (None, None))[0]
        w = health_weight(con, c, period)
        if v is None or w is None:
            continue
        num += v * w
        den += w
        used.append(c)
    return num / den, num, den, used


def percentage_by_hand(con, codes, pct_var, base_var, period, *, min_base=50):
    """Sum of (published percentage x base) over sum of base, every published part with its
    base (issue 15: ``min_base`` no longer drops a published percentage)."""
    p = obs(con, codes, pct_var, period)
    b = obs(con, codes, base_var, period)
    num = den = 0.0
    used = []
    for c in codes:
        pv, bv = p.get(c, (None, None))[0], b.get(c, (None, None))[0]
        if pv is None or bv is None:
            continue
        num += pv * bv / 100
        den += bv
        used.append(c)
    return 100 * num / den, num, den, used


def counts_ratio_by_hand(con, codes, num_var, den_var, period, *, scale=100.0, min_base=50):
    n = obs(con, codes, num_var, period)
    d = obs(con, codes, den_var, period)
    num = den = 0.0
    used = []
    for c in codes:
        nv, dv = n.get(c, (None, None))[0], d.get(c, (None, None))[0]
        if nv is None or dv is None or dv < min_base:
            continue
        num += nv
        den += dv
        used.append(c)
    return scale * num / den, num, den, used


def sum_by_hand(con, codes, var, period):
    vals = obs(con, codes, var, period)
    assert all(vals.get(c, (None,))[0] is not None for c in codes), "a part without a count"
    return sum(vals[c][0] for c in codes)


def population(con, codes, year: int) -> dict:
    """Inhabitants per code from the regions table of the division nearest ``year``."""
    df = con.execute("""
        SELECT code, year, population FROM regions
        WHERE population IS NOT NULL AND code IN (SELECT unnest(?))""", [list(codes)]).df()
    df = df.assign(d=(df["year"] - year).abs()).sort_values(["d", "year"], ascending=[True, False])
    return dict(df.drop_duplicates("code")[["code", "population"]].itertuples(index=False))


def chosen_division(rows: pd.DataFrame, ref_year: int) -> int | None:
    """The division an area of these rows' codes is added up from (README, "One publication
    per area figure"): the one nearest ``ref_year`` (ties: the later) among those where some
    part has more than 'niet beschikbaar'; if there is none, the nearest of all."""
    if rows.empty:
        return None
    per = rows.groupby("geo_year")["status"].apply(lambda s: bool((s != "niet beschikbaar").any()))
    keys = sorted(per.index, key=lambda g: (not per[g], abs(g - ref_year), -g))
    return int(keys[0])


def region_values(con, codes, indicator, period, ref_year=2020, unit_codes=None) -> pd.DataFrame:
    """Per code the ``indicator_values`` row on the division an area of ``unit_codes`` (default:
    ``codes``) with reference year ``ref_year`` is added up from."""
    every = list(unit_codes) if unit_codes is not None else list(codes)
    df = con.execute("""
        SELECT region_code AS code, geo_year, value, numerator, denominator, status, estimate
        FROM indicator_values WHERE indicator = ? AND period = ?
          AND region_code IN (SELECT unnest(?))""", [indicator, period, every]).df()
    division = chosen_division(df, ref_year)
    df = df[(df["geo_year"] == division) & df["code"].isin(list(codes))]
    return df.drop_duplicates("code").set_index("code")


# --- custom areas, written as a user writes them, built into a copy of the store ---------------

AREA_YAML = """schema: 1
version: 1
id: {id}
name: "{name}"
programme: custom
gemeente: {gemeente}
gemeente_name: "{gemeente_name}"
reference_year: {year}
level: buurt
codes: [{codes}]
removed: null
delineation_note: "test: {name}"
sources: ["tests/test_aggregate_real.py"]
"""

DORDRECHT_B = ["BU05050700", "BU05050701", "BU05050702", "BU05050703", "BU05050704", "BU05050705",
               "BU05050706", "BU05050707", "BU05050800", "BU05050801"]  # = dordrecht-wielwijk-crabbehof
DORDRECHT_SECRET = "BU05050706"  # 50090NED health estimates of 2012, 2016 and 2020: geheim
AMERSFOORT_SECRET = "BU03073104"  # 460 inhabitants in 2022; 50090NED estimates 2012-2020: geheim
AMERSFOORT_31 = ["BU03073101", "BU03073102", "BU03073103"]  # the shown buurten of its wijk (2020)
BUNNIK_SMALL = "BU03120008"      # 50090NED 2020 published, but its 25+ weight is 35 (< 100)
BUNNIK_A = ["BU03120000", "BU03120001", "BU03120009"]
ROZENDAAL_SMALL = "BU02770009"   # Rozendaal has two buurten; this one has 15 inhabitants of 25+
VEENENDAAL_2024 = "WK034500"     # a 2024 wijk whose buurten are partly new since 2020

CUSTOM = {
    # A and B = A + one buurt whose value is suppressed by CBS/RIVM (geheim)
    "dordrecht-a": ("Dordrecht A", "GM0505", "Dordrecht", 2020,
                    [c for c in DORDRECHT_B if c != DORDRECHT_SECRET]),
    "dordrecht-b": ("Dordrecht B", "GM0505", "Dordrecht", 2020, DORDRECHT_B),
    # the same with a populated secret buurt
    "amersfoort-a": ("Amersfoort A", "GM0307", "Amersfoort", 2020, AMERSFOORT_31),
    "amersfoort-b": ("Amersfoort B", "GM0307", "Amersfoort", 2020, AMERSFOORT_31 + [AMERSFOORT_SECRET]),
    # A and B = A + one buurt suppressed by the monitor (te weinig waarnemingen)
    "bunnik-a": ("Bunnik A", "GM0312", "Bunnik", 2020, BUNNIK_A),
    "bunnik-b": ("Bunnik B", "GM0312", "Bunnik", 2020, BUNNIK_A + [BUNNIK_SMALL]),
    # all of a gemeente but one suppressed buurt: the rest of the gemeente is that buurt
    "rozendaal-zonder-klein": ("Rozendaal zonder klein", "GM0277", "Rozendaal", 2020, ["BU02770000"]),
    "bunnik-zonder-klein": ("Bunnik zonder klein", "GM0312", "Bunnik", 2020, None),  # filled below
    # drawn on the 2024 buurten, followed back to 2020 through the codes that persist
    "veenendaal-2024": ("Veenendaal 2024", "GM0345", "Veenendaal", 2024, None),
    # in a gemeente that merged after the reference year (Weesp -> Amsterdam, 2022)
    "weesp-centrum": ("Weesp centrum", "GM0457", "Weesp", 2020, ["BU04570001", "BU04570002"]),
}


@pytest.fixture(scope="module")
def custom(real_store, con, tmp_path_factory):
    """The real store with the custom areas above added (``build_area_tables``), read-only."""
    root = tmp_path_factory.mktemp("custom-areas")
    areas_dir = root / "areas"
    areas_dir.mkdir()
    specs = dict(CUSTOM)
    bunnik = [r[0] for r in con.execute(
        "SELECT code FROM regions WHERE year = 2020 AND level = 'buurt' AND gemeente_code = 'GM0312' "
        "ORDER BY code").fetchall()]
    specs["bunnik-zonder-klein"] = specs["bunnik-zonder-klein"][:4] + ([c for c in bunnik if c != BUNNIK_SMALL],)
    veen = [r[0] for r in con.execute(
        "SELECT code FROM regions WHERE year = 2024 AND level = 'buurt' AND wijk_code = ? ORDER BY code",
        [VEENENDAAL_2024]).fetchall()]
    specs["veenendaal-2024"] = specs["veenendaal-2024"][:4] + (veen,)
    for area_id, (name, gm, gm_name, year, codes) in specs.items():
        (areas_dir / f"{area_id}.yaml").write_text(AREA_YAML.format(
            id=area_id, name=name, gemeente=gm, gemeente_name=gm_name, year=year,
            codes=", ".join(codes)), encoding="utf-8")
    path = root / "store.duckdb"
    shutil.copyfile(real_store, path)
    areas = load_areas(areas_dir)
    assert len(areas) == 60 + len(specs)
    with contextlib.closing(duckdb.connect(str(path))) as rw:
        build_area_tables(rw, list(areas.values()))
    c = store.connect(path)
    try:
        yield SimpleNamespace(path=path, con=c, areas=areas, codes={k: v[4] for k, v in specs.items()},
                              av=c.execute("SELECT * FROM area_values").df(),
                              index=c.execute("SELECT * FROM area_index").df())
    finally:
        c.close()


# ---------------------------------------------------------------------------------------------
# 1. An area that is exactly one CBS region takes that region's published value
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("area", ["utrecht-overvecht", "utrecht-overvecht-2007"])
@pytest.mark.parametrize("indicator, period, variable, geo_year, expected", [
    # RIVM/CBS 50090NED model estimates (percentages) on the 2020 division
    ("ervaren_gezondheid_pct", 2012, "gez_ervaren_goed_18plus", 2020, 65.8),
    ("ervaren_gezondheid_pct", 2016, "gez_ervaren_goed_18plus", 2020, 63.5),
    ("ervaren_gezondheid_pct", 2020, "gez_ervaren_goed_18plus", 2020, 69.9),
    ("roker_pct", 2020, "gez_roker_18plus", 2020, None),
    ("eenzaam_pct", 2012, "gez_eenzaam_18plus", 2020, None),
    # CBS KWB percentages, rounded by CBS to whole percents: published, not recomputed from counts
    ("koopwoningen_pct", 2023, "p_koopw", 2023, 20.0),
    ("huurwoningen_pct", 2023, "p_huurw", 2023, 80.0),
    ("corporatiewoningen_pct", 2023, "p_wcorpw", 2023, 61.0),
    ("leegstand_pct", 2023, "p_leegsw", 2023, None),
    # counts and an average
    ("inwoners", 2024, "a_inw", 2024, 35255.0),
    ("huishoudens", 2023, "a_hh", 2023, None),
    ("woz_gemiddeld", 2023, "g_wozbag", 2023, 301.0),
])
def test_area_that_is_one_wijk_takes_its_published_value(av, con, area, indicator, period, variable,
                                                          geo_year, expected):
    row = one(av, area, indicator, period)
    published = obs(con, ["WK034403"], variable, period, geo_year)["WK034403"]
    assert published[1] == "ok"
    assert row["status"] == "ok" and row["method"] == "gepubliceerd"
    assert row["value"] == published[0]  # exactly: the published figure, not a re-aggregation
    if expected is not None:
        assert row["value"] == expected


def test_suppressed_published_value_of_a_one_region_area_stays_suppressed(av, con):
    # Utrecht's own KWB 2024 file marks Overvecht's housing figures secret
    assert obs(con, ["WK034403"], "p_koopw", 2024, 2024)["WK034403"][1] == "geheim"
    for ind in ("koopwoningen_pct", "woningvoorraad", "inkomen_per_inwoner"):
        row = one(av, "utrecht-overvecht", ind, 2024)
        assert row["status"] == "geheim" and row["method"] == "gepubliceerd"
        # value and numerator are never kept for a figure not shown (a base such as the number
        # of inhabitants is no secret and may stay)
        assert pd.isna(row["value"]) and pd.isna(row["numerator"])


def test_every_one_region_area_matches_its_region_on_the_reference_division(av, con, cat):
    """All one-code areas, all indicators and years: the area's row is its region's row on the
    division nearest the area's reference year -- also where a buurt is published on two
    divisions (50090NED on 2020, 50150NED on 2024) with different estimates -- unless that
    division has only 'niet beschikbaar' for it (e.g. a population without crime counts)."""
    index = con.execute("SELECT area_id, codes, reference_year FROM area_index WHERE n_codes = 1").df()
    assert len(index) >= 25
    iv = con.execute("""SELECT region_code, indicator, period, geo_year, value, status FROM indicator_values
                        WHERE region_code IN (SELECT unnest(?))""", [list(index["codes"])]).df()
    checked = two_divisions = 0
    for area_id, code, ref in index.itertuples(index=False):
        mine = av[(av["unit_id"] == area_id) & (av["method"] == "gepubliceerd")]
        regs = iv[iv["region_code"] == code]
        assert set(zip(mine["indicator"], mine["period"])) == set(zip(regs["indicator"], regs["period"]))
        for r in mine.itertuples():
            cand = regs[(regs["indicator"] == r.indicator) & (regs["period"] == r.period)]
            best = cand[cand["geo_year"] == chosen_division(cand, ref)].iloc[0]
            two_divisions += len(cand) > 1 and cand["value"].nunique() > 1
            assert r.status == best["status"], (area_id, r.indicator, r.period)
            assert (pd.isna(r.value) and pd.isna(best["value"])) or r.value == best["value"], \
                (area_id, r.indicator, r.period, r.value, best["value"])
            checked += 1
    assert checked > 1000 and two_divisions >= 20


# ---------------------------------------------------------------------------------------------
# 2. An area's value recomputed by hand from its parts
# ---------------------------------------------------------------------------------------------

def _codes(con, area_id):
    return con.execute("SELECT codes FROM area_index WHERE area_id = ?", [area_id]).fetchone()[0].split(",")


@pytest.mark.parametrize("area, indicator, period, how", [
    # NPLV Rotterdam-Zuid: three wijken
    ("rotterdam-zuid", "inwoners", 2024, ("sum", "a_inw")),
    ("rotterdam-zuid", "huishoudens", 2024, ("sum", "a_hh")),
    ("rotterdam-zuid", "inwoners_65plus_pct", 2024, ("counts", "a_65_oo", "a_inw")),
    ("rotterdam-zuid", "ervaren_gezondheid_pct", 2012, ("weighted", "gez_ervaren_goed_18plus")),
    ("rotterdam-zuid", "ervaren_gezondheid_pct", 2016, ("weighted", "gez_ervaren_goed_18plus")),
    ("rotterdam-zuid", "ervaren_gezondheid_pct", 2020, ("weighted", "gez_ervaren_goed_18plus")),
    ("rotterdam-zuid", "roker_pct", 2020, ("weighted", "gez_roker_18plus")),
    # NPLV Amsterdam Nieuw-West: fourteen wijken of 2020, Amsterdam's own KWB 2017/2019
    ("amsterdam-nieuw-west", "inwoners", 2019, ("sum", "a_inw")),
    ("amsterdam-nieuw-west", "koopwoningen_pct", 2017, ("percentage", "p_koopw", "a_woning")),
    ("amsterdam-nieuw-west", "koopwoningen_pct", 2019, ("percentage", "p_koopw", "a_woning")),
    ("amsterdam-nieuw-west", "huurwoningen_pct", 2019, ("percentage", "p_huurw", "a_woning")),
    ("amsterdam-nieuw-west", "inwoners_65plus_pct", 2019, ("counts", "a_65_oo", "a_inw")),
    # weights from the KWB nearest the estimate's year: 2017 for 2012, 2019 for 2020
    ("amsterdam-nieuw-west", "ervaren_gezondheid_pct", 2012, ("weighted", "gez_ervaren_goed_18plus")),
    ("amsterdam-nieuw-west", "ervaren_gezondheid_pct", 2020, ("weighted", "gez_ervaren_goed_18plus")),
    ("amsterdam-nieuw-west", "overgewicht_pct", 2016, ("weighted", "gez_overgewicht_18plus")),
    # 40 aandachtswijken: Dordrecht Wielwijk/Crabbehof, ten buurten, one of them secret in 50090NED
    ("dordrecht-wielwijk-crabbehof", "inwoners", 2024, ("sum", "a_inw")),
    ("dordrecht-wielwijk-crabbehof", "herkomst_buiten_europa_pct", 2024, ("counts", "a_neu_al", "a_inw")),
    ("dordrecht-wielwijk-crabbehof", "ervaren_gezondheid_pct", 2020, ("weighted", "gez_ervaren_goed_18plus")),
    ("dordrecht-wielwijk-crabbehof", "moeite_rondkomen_pct", 2012, ("weighted", "gez_moeite_rondkomen_18plus")),
    # 40 aandachtswijken: Heerlen Meezenbroek is one wijk; NPLV Heerlen-Noord ten wijken (KWB 2016-2020)
    ("heerlen-noord", "inwoners", 2018, ("sum", "a_inw")),
    ("heerlen-noord", "koopwoningen_pct", 2019, ("percentage", "p_koopw", "a_woning")),
    ("heerlen-noord", "inwoners_65plus_pct", 2020, ("counts", "a_65_oo", "a_inw")),
    ("heerlen-noord", "ervaren_gezondheid_pct", 2016, ("weighted", "gez_ervaren_goed_18plus")),
    # 40 aandachtswijken: Rotterdam Oud-Zuid, seven buurten
    ("rotterdam-oud-zuid", "inwoners", 2024, ("sum", "a_inw")),
    ("rotterdam-oud-zuid", "ervaren_gezondheid_pct", 2016, ("weighted", "gez_ervaren_goed_18plus")),
])
def test_area_value_equals_the_value_recomputed_by_hand(av, con, cat, area, indicator, period, how):
    codes = _codes(con, area)
    ind = cat[indicator]
    row = one(av, area, indicator, period)
    assert row["method"] == "opgeteld" and row["status"] == "ok", dict(row)
    kind = how[0]
    if kind == "sum":
        assert row["value"] == sum_by_hand(con, codes, how[1], period)
        assert row["coverage"] == 1.0 and row["n_used"] == len(codes)
        return
    if kind == "counts":
        value, num, den, used = counts_ratio_by_hand(con, codes, how[1], how[2], period,
                                                     min_base=ind.min_base)
    elif kind == "percentage":
        value, num, den, used = percentage_by_hand(con, codes, how[1], how[2], period,
                                                   min_base=ind.min_base)
    else:
        # the estimate on the area's reference division (2020), weighted with inhabitants 25+
        value, num, den, used = weighted_by_hand(con, codes, how[1], period, geo_year=2020,
                                                 min_base=ind.min_base)
        assert bool(row["estimate"]) is True  # a weighted mean of model estimates stays an estimate
    assert row["value"] == pytest.approx(value, rel=1e-12)
    assert row["numerator"] == pytest.approx(num, rel=1e-12)
    assert row["denominator"] == pytest.approx(den, rel=1e-12)
    assert row["n_used"] == len(used)
    pop = population(con, codes, 2020)
    if len(pop) == len(codes):
        assert row["coverage"] == pytest.approx(sum(pop[c] for c in used) / sum(pop.values()), rel=1e-12)


def test_a_suppressed_part_is_left_out_and_lowers_the_coverage(av, con):
    """Dordrecht Wielwijk/Crabbehof: one buurt's 50090NED estimates are secret; the area is
    the other nine, with the coverage their population share."""
    codes = _codes(con, "dordrecht-wielwijk-crabbehof")
    assert obs(con, [DORDRECHT_SECRET], "gez_ervaren_goed_18plus", 2020, 2020)[DORDRECHT_SECRET][1] == "geheim"
    row = one(av, "dordrecht-wielwijk-crabbehof", "ervaren_gezondheid_pct", 2020)
    pop = population(con, codes, 2020)
    expected = 1 - pop[DORDRECHT_SECRET] / sum(pop.values())
    assert row["n_used"] == 9 and row["coverage"] == pytest.approx(expected, rel=1e-12)
    assert row["coverage"] >= MIN_COVERAGE


def test_every_area_aggregate_is_the_sum_over_its_shown_parts_only(av, con, cat):
    """All 60 areas, every additive indicator and year: numerator and denominator of the area
    are the sums over the parts that are shown (status ok with a base); parts not shown add
    exactly nothing. This is what makes every combination of areas a combination of shown
    figures."""
    index = con.execute("SELECT area_id, codes, reference_year FROM area_index WHERE n_codes > 1").df()
    # areas followed across a recoding (Amsterdam 2022) add their later figures up from the new codes
    recoded = {r[0]: (r[1].split(","), r[2]) for r in con.execute(
        "SELECT unit_id, codes, recoding_year FROM area_recodings WHERE followed").fetchall()}
    iv = con.execute("SELECT region_code, indicator, period, geo_year, value, numerator, denominator, status "
                     "FROM indicator_values").df()
    iv = iv[iv["region_code"].isin({c for cs in index["codes"] for c in cs.split(",")}
                                   | {c for cs, _ in recoded.values() for c in cs})]
    # the declared stand-in weight (households, weight_fallback): per code, division and period
    # the observation of the best-ranked source
    hh = con.execute("""SELECT o.region_code, o.geo_year, o.period, arg_min(o.value, s.rank) AS w,
                               arg_min(o.status, s.rank) AS st
                        FROM observations o JOIN sources s USING (source_id)
                        WHERE o.variable = 'a_hh' GROUP BY ALL""").df()
    hh = {(c, g, p): w for c, g, p, w, st in hh.itertuples(index=False) if st == "ok" and w == w}
    checked = with_hidden_parts = approximated = 0
    for area_id, area_codes, area_ref in index.itertuples(index=False):
        mine = av[(av["unit_id"] == area_id) & (av["status"] == "ok")]
        for r in mine.itertuples():
            codes, ref = (recoded[area_id] if "omzettabel" in r.method else (area_codes.split(","), area_ref))
            parts = iv[iv["region_code"].isin(codes)]
            agg = cat[r.indicator].aggregation
            p = parts[(parts["indicator"] == r.indicator) & (parts["period"] == r.period)]
            p = p[p["geo_year"] == chosen_division(p, ref)]  # one division for all parts
            if "benadering: gewogen met huishoudens" in r.method:
                # every part with households instead of its own weight (never a mix)
                w = np.array([hh.get((c, g, y), np.nan) for c, g, y in
                              zip(p["region_code"], p["geo_year"], p["period"])], dtype="float64")
                ok = (p["status"] == "ok").to_numpy() & np.isfinite(w)
                per = 100.0 if agg == "verhouding" else 1.0
                assert r.numerator == pytest.approx((p["value"].to_numpy()[ok] * w[ok] / per).sum(), rel=1e-12)
                assert r.denominator == pytest.approx(w[ok].sum(), rel=1e-12)
                # used only where the own weight is missing for some shown part
                assert (p["status"].eq("ok") & p["denominator"].isna()).any(), (area_id, r.indicator)
                approximated += 1
                checked += 1
                continue
            ok = p[(p["status"] == "ok") & ((agg == "som") | p["denominator"].notna())]
            with_hidden_parts += len(ok) < len(codes)
            if agg == "som":
                assert r.value == ok["value"].sum(), (area_id, r.indicator, r.period)
            else:
                assert r.numerator == pytest.approx(ok["numerator"].sum(), rel=1e-12), (area_id, r.indicator)
                assert r.denominator == pytest.approx(ok["denominator"].sum(), rel=1e-12), (area_id, r.indicator)
            checked += 1
    assert checked > 500 and with_hidden_parts > 20 and approximated > 20


# ---------------------------------------------------------------------------------------------
# 3. Disclosure control by differencing
# ---------------------------------------------------------------------------------------------

def _compare_a_b(custom, a, b, extra):
    """For every indicator and year: where the extra buurt is not shown, B and A carry the very
    same value, numerator and denominator (the difference is zero, not the hidden figure) or B
    is not shown at all. Returns (cases with the buurt hidden, cases where A and B differ)."""
    cat = load_catalogue()
    av = custom.av
    xa = av[av["unit_id"] == a].set_index(["indicator", "period"])
    xb = av[av["unit_id"] == b].set_index(["indicator", "period"])
    hidden_cases = differing = 0
    b_codes = custom.codes[b]
    for (ind, period), rb in xb.iterrows():
        x = region_values(custom.con, [extra], ind, period, unit_codes=b_codes)
        extra_shown = (extra in x.index and x.loc[extra, "status"] == "ok"
                       and (cat[ind].aggregation == "som" or not pd.isna(x.loc[extra, "denominator"])))
        if extra in x.index and "benadering: gewogen met huishoudens" in str(rb["method"]):
            # B weighted with the declared stand-in: the extra buurt counts when its own value
            # and its household count (both published) are shown
            hh = obs(custom.con, [extra], "a_hh", period, int(x.loc[extra, "geo_year"])).get(extra, (None, None))
            extra_shown = x.loc[extra, "status"] == "ok" and hh[1] == "ok"
        if (ind, period) not in xa.index:
            continue
        ra = xa.loc[(ind, period)]
        if extra_shown:
            differing += shown(rb) and shown(ra) and rb["value"] != ra["value"]
            continue
        hidden_cases += 1
        if not shown(rb):
            assert pd.isna(rb["value"]) and pd.isna(rb["numerator"]), (b, ind, period)
            continue
        assert shown(ra), (a, ind, period)
        for col in ("value", "numerator", "denominator"):
            assert (pd.isna(rb[col]) and pd.isna(ra[col])) or rb[col] == ra[col], (ind, period, col)
        assert rb["coverage"] <= ra["coverage"]
    return hidden_cases, differing


def test_area_one_secret_buurt_larger_reveals_nothing(custom):
    """B = A + a buurt whose 50090NED estimates CBS/RIVM keep secret: B - A is exactly zero."""
    x = region_values(custom.con, [DORDRECHT_SECRET], "ervaren_gezondheid_pct", 2020)
    assert x.loc[DORDRECHT_SECRET, "status"] == "geheim"
    hidden, differing = _compare_a_b(custom, "dordrecht-a", "dordrecht-b", DORDRECHT_SECRET)
    assert hidden >= 20  # every health indicator and year
    assert differing >= 3  # where the buurt is shown (KWB 2024 counts), B and A do differ
    # the declared 40-wijken area is that same B
    b = custom.av[custom.av["unit_id"] == "dordrecht-b"].set_index(["indicator", "period"])["value"]
    d = custom.av[custom.av["unit_id"] == "dordrecht-wielwijk-crabbehof"].set_index(["indicator", "period"])["value"]
    pd.testing.assert_series_equal(b.sort_index(), d.sort_index(), check_names=False)


def test_area_one_populated_secret_buurt_larger_reveals_nothing(custom):
    """A buurt of some 460 inhabitants whose estimates are secret. Added to an area it changes
    nothing but the coverage (its share of the inhabitants): B - A is zero."""
    con = custom.con
    x = region_values(con, [AMERSFOORT_SECRET], "ervaren_gezondheid_pct", 2020).loc[AMERSFOORT_SECRET]
    pop = population(con, AMERSFOORT_31 + [AMERSFOORT_SECRET], 2020)
    assert x["status"] == "geheim" and pop[AMERSFOORT_SECRET] >= 400
    hidden, differing = _compare_a_b(custom, "amersfoort-a", "amersfoort-b", AMERSFOORT_SECRET)
    assert hidden >= 20 and differing >= 3
    for ind in ("ervaren_gezondheid_pct", "roker_pct", "eenzaam_pct"):
        for period in (2012, 2016, 2020):
            ra, rb = (one(custom.av, u, ind, period) for u in ("amersfoort-a", "amersfoort-b"))
            assert shown(ra) and shown(rb) and ra["coverage"] == 1.0
            assert (rb["value"], rb["numerator"], rb["denominator"]) == (ra["value"], ra["numerator"], ra["denominator"])
            assert rb["coverage"] == pytest.approx(1 - pop[AMERSFOORT_SECRET] / sum(pop.values()), rel=1e-12)


def test_area_one_small_published_buurt_larger_adds_its_published_value(custom):
    """B = A + a buurt whose published 50090NED estimate has a 25+ weight under the minimum
    base (35 < 100). Issue 15 changed this case: the monitor used to hide that published value
    ("te weinig waarnemingen"); a value the publisher shows is shown, so the buurt is shown
    and B adds it in: B - A is exactly the buurt's published estimate times its weight."""
    con = custom.con
    x = region_values(con, [BUNNIK_SMALL], "ervaren_gezondheid_pct", 2020)
    published = obs(con, [BUNNIK_SMALL], "gez_ervaren_goed_18plus", 2020, 2020)[BUNNIK_SMALL]
    assert published[1] == "ok"
    assert x.loc[BUNNIK_SMALL, "status"] == "ok" and x.loc[BUNNIK_SMALL, "denominator"] < 100
    assert x.loc[BUNNIK_SMALL, "value"] == published[0]
    ra, rb = (one(custom.av, u, "ervaren_gezondheid_pct", 2020) for u in ("bunnik-a", "bunnik-b"))
    assert shown(ra) and shown(rb)
    w = x.loc[BUNNIK_SMALL, "denominator"]
    assert rb["denominator"] - ra["denominator"] == pytest.approx(w, rel=1e-12)
    assert rb["numerator"] - ra["numerator"] == pytest.approx(published[0] * w, rel=1e-9)


@pytest.mark.parametrize("area, gemeente, small", [
    ("rozendaal-zonder-klein", "GM0277", ROZENDAAL_SMALL),
    ("bunnik-zonder-klein", "GM0312", BUNNIK_SMALL),
])
@pytest.mark.parametrize("indicator, variable", [
    ("ervaren_gezondheid_pct", "gez_ervaren_goed_18plus"),
    ("roker_pct", "gez_roker_18plus"),
    ("overgewicht_pct", "gez_overgewicht_18plus"),
])
@pytest.mark.parametrize("period", [2012, 2016, 2020])
def test_rest_of_gemeente_that_is_one_small_buurt(custom, area, gemeente, small, indicator, variable, period):
    """The area is its gemeente but one buurt with a 25+ weight under the minimum base. The
    buurt's own published estimate is shown (issue 15: the publisher shows it). The rest of
    the gemeente is that buurt *added up by the monitor*: an aggregate whose summed base is
    under the minimum, so "te weinig waarnemingen" (min_base applies to what the monitor
    computes)."""
    con, av = custom.con, custom.av
    assert set(custom.codes[area]) | {small} == {r[0] for r in con.execute(
        "SELECT code FROM regions WHERE year = 2020 AND level = 'buurt' AND gemeente_code = ?",
        [gemeente]).fetchall()}
    x = region_values(con, [small], indicator, period).loc[small]
    pub = obs(con, [small], variable, period, 2020)[small]
    assert pub[1] == "ok" and x["status"] == "ok" and x["value"] == pub[0] and x["denominator"] < 100
    rest = one(av, f"{area}~rest", indicator, period)
    assert rest["status"] == TWW and rest["n_used"] == 1
    assert pd.isna(rest["value"]) and pd.isna(rest["numerator"]) and pd.isna(rest["denominator"])
    a = one(av, area, indicator, period)
    g = one(av, gemeente, indicator, period)
    assert shown(a) and shown(g)
    # the area adds up exactly its shown buurten
    parts = region_values(con, custom.codes[area], indicator, period)
    assert a["numerator"] == pytest.approx(parts.loc[parts["status"] == "ok", "numerator"].sum(), rel=1e-12)


def test_custom_areas_validate_and_their_codes_exist(custom):
    from wijkmonitor.areas import check_codes_exist

    for area_id in CUSTOM:
        area = custom.areas[area_id]
        assert area.programme == "custom"
        assert check_codes_exist(area) == [], area_id


# ---------------------------------------------------------------------------------------------
# 4. Coverage: an area followed into a year where its codes no longer (or not yet) exist
# ---------------------------------------------------------------------------------------------

def test_area_whose_codes_were_all_recoded_is_not_comparable(av, con):
    """Amsterdam recoded all its wijken and buurten in 2022: the 2020 codes of Amsterdam
    Nieuw-West and Bos en Lommer have no 2024 figures while Amsterdam has. Where the city's
    crosswalk cannot account for 90 % of the inhabitants (Bos en Lommer: 89 %, see
    tests/test_recoding.py) 2024 is 'niet vergelijkbaar' with coverage 0, not a number and not
    silence; where it can (Nieuw-West) the area is followed onto the 2022 wijken and the method
    names the crosswalk. 2019 (same codes) is complete."""
    for area in ("amsterdam-nieuw-west", "amsterdam-bos-en-lommer"):
        codes = _codes(con, area)
        present_2024 = con.execute("SELECT count(*) FROM regions WHERE year = 2024 AND code IN (SELECT unnest(?))",
                                   [codes]).fetchone()[0]
        assert present_2024 == 0
    assert con.execute("SELECT count(*) FROM indicator_values WHERE period = 2024 AND region_code LIKE 'WK0363%'"
                       ).fetchone()[0] > 0
    for ind in ("inwoners", "koopwoningen_pct", "inwoners_65plus_pct", "herkomst_buiten_europa_pct"):
        row = one(av, "amsterdam-bos-en-lommer", ind, 2024)
        assert row["status"] == NV and row["coverage"] == 0.0 and row["n_used"] == 0
        assert pd.isna(row["value"]) and pd.isna(row["numerator"])
    for ind in ("inwoners", "inwoners_65plus_pct", "herkomst_buiten_europa_pct"):
        row = one(av, "amsterdam-nieuw-west", ind, 2024)
        assert row["status"] == "ok" and row["n_used"] == 14 and "omzettabel" in row["method"]
    ok = one(av, "amsterdam-nieuw-west", "inwoners", 2019)
    assert ok["status"] == "ok" and ok["coverage"] == 1.0 and ok["method"] == "opgeteld"


def test_area_translated_to_a_year_with_low_coverage_is_not_comparable(custom, con):
    """Veenendaal wijk 00 drawn on the 2024 buurten: some are new since 2020. In 2020 the
    persisting buurten hold less than 90 % of its inhabitants: 'niet vergelijkbaar', with that
    share reported as the coverage; in 2024 the area is complete."""
    codes = custom.codes["veenendaal-2024"]
    in_2020 = {r[0] for r in con.execute("SELECT code FROM regions WHERE year = 2020 AND code IN (SELECT unnest(?))",
                                         [codes]).fetchall()}
    assert 0 < len(in_2020) < len(codes)
    pop = population(con, codes, 2024)
    assert len(pop) == len(codes)
    share = sum(pop[c] for c in in_2020) / sum(pop.values())
    assert share < MIN_COVERAGE
    # the same share from the areas module's translation
    tr = translate_codes(custom.areas["veenendaal-2024"], 2020, in_2020, weights=pop)
    assert tr.uncovered_share == pytest.approx(1 - share) and set(tr.covered) == in_2020
    # roker and eenzaamheid of 2020 are published on the 2020 division only (50090NED)
    for ind in ("roker_pct", "eenzaam_pct"):
        assert con.execute("SELECT DISTINCT geo_year FROM indicator_values WHERE indicator = ? "
                           "AND period = 2020", [ind]).fetchall() == [(2020,)]
        row = one(custom.av, "veenendaal-2024", ind, 2020)
        parts = region_values(con, codes, ind, 2020, ref_year=2024)
        used = [c for c in codes if c in parts.index and parts.loc[c, "status"] == "ok"
                and not pd.isna(parts.loc[c, "denominator"])]
        assert set(used) <= in_2020
        assert row["status"] == NV and pd.isna(row["value"]) and pd.isna(row["numerator"])
        assert row["coverage"] == pytest.approx(sum(pop[c] for c in used) / sum(pop.values()), rel=1e-12)
        assert row["coverage"] <= share + 1e-12
    full = one(custom.av, "veenendaal-2024", "inwoners", 2024)
    assert full["status"] == "ok" and full["coverage"] == 1.0
    assert full["value"] == sum_by_hand(con, codes, "a_inw", 2024)


def test_area_is_added_up_from_one_division_and_one_model_run(custom, con):
    """Ervaren gezondheid of 2020 exists on two divisions from two RIVM model runs: 50090NED on
    the 2020 buurten and 50150NED (woonikveilig re-publication) on the 2024 buurten. An area
    drawn on the 2024 buurten takes every part from the 2024 division, including the buurten
    that also exist in 2020: never some parts from one run and some from the other."""
    codes = custom.codes["veenendaal-2024"]
    rows = con.execute("""
        SELECT region_code AS code, geo_year, value, status, source_id FROM indicator_values
        WHERE indicator = 'ervaren_gezondheid_pct' AND period = 2020
          AND region_code IN (SELECT unnest(?))""", [codes]).df()
    both = set(rows.loc[rows.geo_year == 2020, "code"]) & set(rows.loc[rows.geo_year == 2024, "code"])
    assert both, "the test needs buurten published on both divisions"
    on_2024 = rows[rows.geo_year == 2024].set_index("code")
    assert set(on_2024["source_id"]) == {"woonikveilig-gezondheid"}
    assert set(rows.loc[rows.geo_year == 2020, "source_id"]) == {"rivm-50090ned-2020-18plus"}
    # by hand: the base-weighted mean of the shown 2024-division parts
    parts = con.execute("""
        SELECT value, denominator FROM indicator_values
        WHERE indicator = 'ervaren_gezondheid_pct' AND period = 2020 AND geo_year = 2024
          AND status = 'ok' AND denominator IS NOT NULL AND region_code IN (SELECT unnest(?))""",
                        [codes]).df()
    row = one(custom.av, "veenendaal-2024", "ervaren_gezondheid_pct", 2020)
    assert row["status"] == "ok" and row["n_used"] == len(parts)
    expected = (parts["value"] * parts["denominator"]).sum() / parts["denominator"].sum()
    assert row["value"] == pytest.approx(expected, rel=1e-12)
    # the runs differ for the same buurt and year, so mixing them would change the figure
    by_run = rows[rows.code.isin(sorted(both))].pivot(index="code", columns="geo_year", values="value")
    assert (by_run[2020] != by_run[2024]).any()


def test_parts_missing_on_the_chosen_division_are_not_filled_from_another(tmp_path):
    """Synthetic: an area of three buurten on the 2024 division. In period 2020 buurt C has no
    figure on the 2024 division but has one on the 2020 division (another model run). The
    area takes A and B from 2024 and leaves C out (lower coverage), rather than mixing in C's
    2020-division figure. Expected values by hand."""
    from wijkmonitor.aggregate import Unit, aggregate
    from wijkmonitor.catalogue import load_catalogue

    cat = load_catalogue()
    con = duckdb.connect()
    con.execute("""CREATE TABLE regions AS SELECT * FROM (VALUES
        ('BU00010001', 2024, 'buurt', 'A', 'GM0001', 1000.0),
        ('BU00010002', 2024, 'buurt', 'B', 'GM0001', 1000.0),
        ('BU00010003', 2024, 'buurt', 'C', 'GM0001', 1000.0),
        ('BU00010003', 2020, 'buurt', 'C', 'GM0001', 1000.0))
        t(code, year, level, name, gemeente_code, population)""")
    con.execute("""CREATE TABLE indicator_values AS SELECT * FROM (VALUES
        ('ervaren_gezondheid_pct', 'BU00010001', 2024, 2020, 70.0, 56000.0, 800.0, 'ok', true),
        ('ervaren_gezondheid_pct', 'BU00010002', 2024, 2020, 80.0, 64000.0, 800.0, 'ok', true),
        ('ervaren_gezondheid_pct', 'BU00010003', 2020, 2020, 10.0, 8000.0, 800.0, 'ok', true))
        t(indicator, region_code, geo_year, period, value, numerator, denominator, status, estimate)""")
    con.execute("ALTER TABLE indicator_values ADD COLUMN source_id VARCHAR DEFAULT 'synthetisch'").fetchall()
    unit = Unit("drie", "area", ("BU00010001", "BU00010002", "BU00010003"), 2024)
    out = aggregate(con, [unit], cat)
    row = out[(out.indicator == "ervaren_gezondheid_pct") & (out.period == 2020)].iloc[0]
    # C left out: coverage 2/3 < 0.9 -> niet vergelijkbaar (mixing would give 53.3, 'ok')
    assert row["n_used"] == 2 and row["coverage"] == pytest.approx(2 / 3)
    assert row["status"] == "niet vergelijkbaar" and pd.isna(row["value"])
    # with C published on the 2024 division too, the area is complete and uses 2024 only
    con.execute("INSERT INTO indicator_values VALUES ('ervaren_gezondheid_pct', 'BU00010003', 2024, "
                "2020, 90.0, 72000.0, 800.0, 'ok', true, 'synthetisch')").fetchall()
    row = aggregate(con, [unit], cat).query("indicator == 'ervaren_gezondheid_pct' and period == 2020").iloc[0]
    assert row["status"] == "ok" and row["value"] == pytest.approx(80.0)
    # an area drawn on the 2020 division takes C's 2020 figure (the nearest division)
    old = Unit("een", "area", ("BU00010003",), 2020)
    row = aggregate(con, [old], cat).query("indicator == 'ervaren_gezondheid_pct' and period == 2020").iloc[0]
    assert row["value"] == pytest.approx(10.0)
    # ... unless the nearest division has nothing but 'niet beschikbaar' (an input absent):
    # then the next division with figures is used, for the parts and for a published region
    con.execute("UPDATE indicator_values SET status = 'niet beschikbaar', value = NULL, numerator = NULL "
                "WHERE geo_year = 2020").fetchall()
    for unit in (old, Unit("pub", "area", ("BU00010003",), 2020, "BU00010003")):
        row = aggregate(con, [unit], cat).query(
            "indicator == 'ervaren_gezondheid_pct' and period == 2020").iloc[0]
        assert row["status"] == "ok" and row["value"] == pytest.approx(90.0), unit.id


def test_part_without_known_population_counts_as_an_average_part(av, con):
    """Rotterdam's wijk 26 of 2020 exists in no population source (it is gone by 2024 and its
    health estimates are secret). The rest of Rotterdam around Rotterdam-Zuid is then covered
    by population share with that wijk counted as an average wijk -- not by a head count of
    wijken, which would let a port wijk of a few inhabitants decide the status."""
    rest_codes = [r[0] for r in con.execute(
        "SELECT code FROM regions WHERE year = 2020 AND level = 'wijk' AND gemeente_code = 'GM0599' "
        "AND code NOT IN ('WK059910', 'WK059912', 'WK059915') ORDER BY code").fetchall()]
    pop = population(con, rest_codes, 2020)
    unknown = [c for c in rest_codes if c not in pop]
    assert unknown == ["WK059926"]
    row = one(av, "rotterdam-zuid~rest", "ervaren_gezondheid_pct", 2020)
    parts = region_values(con, rest_codes, "ervaren_gezondheid_pct", 2020)
    used = [c for c in rest_codes if c in parts.index and parts.loc[c, "status"] == "ok"
            and not pd.isna(parts.loc[c, "denominator"])]
    mean = sum(pop.values()) / len(pop)
    expected = (sum(pop[c] for c in used if c in pop) + mean * sum(c not in pop for c in used)) / (mean * len(rest_codes))
    assert row["coverage"] == pytest.approx(expected, rel=1e-12)
    assert row["status"] == "ok" and row["coverage"] >= MIN_COVERAGE
    assert row["numerator"] == pytest.approx(parts.loc[used, "numerator"].sum(), rel=1e-12)


# ---------------------------------------------------------------------------------------------
# 5. Reference groups and the rest of the gemeente
# ---------------------------------------------------------------------------------------------

def test_group_members_g14_is_g18_minus_g4():
    groups = load_groups()
    assert set(groups["G14"].members) == set(groups["G18"].members) - set(groups["G4"].members)
    assert set(groups["G4"].members) == {"GM0363", "GM0599", "GM0518", "GM0344"}


def _additive(av, cat, unit):
    rows = av[(av["unit_id"] == unit) & (av["status"] == "ok")]
    return rows.set_index(["indicator", "period"])


def test_g4_is_the_four_gemeenten_added_up(av, cat, con):
    """G4 is its four gemeenten on their 2024 territory (the harmonised series; issue 15 made the
    gemeente *units* the gemeente as published in each year, so G4 is checked against the
    harmonised series of its members, not against those units)."""
    g4 = _additive(av, cat, "G4")
    hv = con.execute("SELECT indicator, region_code AS unit_id, period, value, numerator, denominator, status "
                     "FROM harmonised_values").df()
    members = [_additive(hv, cat, gm) for gm in ("GM0363", "GM0599", "GM0518", "GM0344")]
    checked = 0
    for (ind, period), r in g4.iterrows():
        agg = cat[ind].aggregation
        assert agg != "niet optelbaar"
        if not all((ind, period) in m.index for m in members):
            continue
        ms = [m.loc[(ind, period)] for m in members]
        if agg == "som":
            assert r["value"] == pytest.approx(sum(m["value"] for m in ms), rel=1e-12)
        else:
            assert r["numerator"] == pytest.approx(sum(m["numerator"] for m in ms), rel=1e-12)
            assert r["denominator"] == pytest.approx(sum(m["denominator"] for m in ms), rel=1e-12)
            scale = (cat[ind].formulas[0].scale if cat[ind].formulas[0].mode == "ratio" else cat[ind].formulas[0].per) \
                if agg == "verhouding" else 1.0
            assert r["value"] == pytest.approx(scale * r["numerator"] / r["denominator"], rel=1e-12)
        checked += 1
    assert checked >= 30
    # by hand for three indicators of different kinds
    for ind, period in (("inwoners", 2024), ("koopwoningen_pct", 2022), ("ervaren_gezondheid_pct", 2020)):
        assert (ind, period) in g4.index


def test_g4_g14_g18_add_up(av, cat):
    """G18 = G4 + G14 for every shown additive figure (numerators and denominators)."""
    g4, g14, g18 = (_additive(av, cat, g) for g in ("G4", "G14", "G18"))
    both = g18.index.intersection(g4.index).intersection(g14.index)
    assert len(both) >= 30
    for key in both:
        agg = cat[key[0]].aggregation
        if agg == "som":
            assert g18.loc[key, "value"] == pytest.approx(g4.loc[key, "value"] + g14.loc[key, "value"], rel=1e-12)
        else:
            for col in ("numerator", "denominator"):
                assert g18.loc[key, col] == pytest.approx(g4.loc[key, col] + g14.loc[key, col], rel=1e-12), key
        # and so G14 is G18 minus G4
        col = "value" if agg == "som" else "numerator"
        assert g14.loc[key, col] == pytest.approx(g18.loc[key, col] - g4.loc[key, col], rel=1e-9)


def test_nl_matches_the_published_national_figure(av, con):
    nl00 = con.execute("""SELECT indicator, period, value, status FROM (
                            SELECT *, row_number() OVER (PARTITION BY indicator, period ORDER BY geo_year DESC) rn
                            FROM indicator_values WHERE region_code = 'NL00') WHERE rn = 1""").df()
    assert len(nl00) >= 40
    nl = av[av["unit_id"] == "NL"].set_index(["indicator", "period"])
    for r in nl00.itertuples():
        row = nl.loc[(r.indicator, r.period)]
        assert row["method"] == "gepubliceerd" and row["status"] == r.status
        assert (pd.isna(row["value"]) and pd.isna(r.value)) or row["value"] == r.value
    # the README's national figures: 78,4 % good health in 2020, 17,9 million inhabitants in 2024
    assert nl.loc[("ervaren_gezondheid_pct", 2020), "value"] == 78.4
    assert nl.loc[("inwoners", 2024), "value"] == obs(con, ["NL00"], "a_inw", 2024)["NL00"][0]


@pytest.mark.parametrize("area, gemeente, indicator, period, exact", [
    ("utrecht-overvecht", "GM0344", "woningvoorraad", 2023, True),   # dwellings: not rounded
    ("utrecht-overvecht", "GM0344", "inwoners", 2024, False),        # CBS rounds wijk counts to 5
    ("heerlen-noord", "GM0917", "inwoners", 2019, False),
    ("heerlen-noord", "GM0917", "huishoudens", 2024, False),
    ("heerlen-noord", "GM0917", "woningvoorraad", 2018, True),
])
def test_rest_of_gemeente_is_gemeente_minus_area_for_counts(av, area, gemeente, indicator, period, exact):
    a = one(av, area, indicator, period)
    rest = one(av, f"{area}~rest", indicator, period)
    g = one(av, gemeente, indicator, period)
    assert shown(a) and shown(rest) and shown(g)
    assert rest["coverage"] == 1.0 and rest["n_used"] == rest["n_parts"]
    if exact:
        assert a["value"] + rest["value"] == g["value"]
    else:
        # the gemeente's count is exact, its wijken are rounded to multiples of 5 (at most 2.5 off each)
        assert abs(a["value"] + rest["value"] - g["value"]) <= 2.5 * (rest["n_parts"] + a["n_parts"])
        assert a["value"] % 5 == 0 and rest["value"] % 5 == 0


# ---------------------------------------------------------------------------------------------
# 6. The gap on the command line and in the Python API
# ---------------------------------------------------------------------------------------------

GAP_KEYS = {"area", "indicator", "baseline_year", "latest_year", "value_baseline", "value_latest",
            "reference_baseline", "reference_latest", "gap_baseline", "gap_latest", "class", "rule"}


def _cli(real_store, *args) -> subprocess.CompletedProcess:
    env = {**os.environ, "WIJKMONITOR_STORE": str(real_store), "COLUMNS": "250"}
    return subprocess.run([sys.executable, "-m", "wijkmonitor", *args], capture_output=True, text=True,
                          env=env, timeout=300)


@pytest.fixture(scope="module")
def gap_json(real_store):
    out = _cli(real_store, "gap", "--areas", "nplv", "--baseline", "2016", "--latest", "2022", "--format", "json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_gap_json_one_object_per_area_and_indicator(gap_json, av, cat):
    nplv = sorted(a.id for a in load_areas(include_custom=False).values() if a.programme == "nplv")
    assert len(nplv) == 20
    # counts (inwoners, woningvoorraad, ...) measure size, not position: no gap (analysis.comparable)
    with_gap = [i.id for i in cat.values() if analysis.comparable(i)]
    assert len(with_gap) == len(cat) - 4
    assert len(gap_json) == 20 * len(with_gap)
    assert {(o["area"], o["indicator"]) for o in gap_json} == {(a, i) for a in nplv for i in with_gap}
    look = av.set_index(["unit_id", "indicator", "period"])
    index = analysis.load_area_index()
    gm = dict(zip(index["area_id"], index["gemeente_unit"]))
    for o in gap_json:
        assert GAP_KEYS <= set(o), set(o)
        assert o["class"] in analysis.CLASSES
        assert o["rule"] and isinstance(o["rule"], str)
        # a value only where its status is ok; the gap only where both sides are shown
        for side in ("baseline", "latest"):
            year = o[f"{side}_year"]
            status = o[f"status_{side}"]
            assert (o[f"value_{side}"] is None) == (status != "ok"), o
            if year is not None:
                key = (o["area"], o["indicator"], year)
                have = look.loc[key] if key in look.index else None
                assert status == (have["status"] if have is not None else "niet beschikbaar")
                if status == "ok":
                    assert o[f"value_{side}"] == pytest.approx(have["value"], rel=1e-9, abs=1e-9)
                rkey = (gm[o["area"]], o["indicator"], year)
                ref = look.loc[rkey] if rkey in look.index else None
                # one publication per comparison: a gemeente figure from another division (or,
                # for model estimates, another model run) than the area's is not compared
                same = (have is None or ref is None or analysis.same_publication(
                    have["publication"], ref["publication"], model=bool(cat[o["indicator"]].estimate)))
                if ref is None or ref["status"] != "ok" or not same:
                    assert o[f"reference_{side}"] is None
                else:
                    assert o[f"reference_{side}"] == pytest.approx(ref["value"], rel=1e-9, abs=1e-9)
            if o[f"value_{side}"] is None or o[f"reference_{side}"] is None:
                assert o[f"gap_{side}"] is None
            else:
                assert o[f"gap_{side}"] == pytest.approx(o[f"value_{side}"] - o[f"reference_{side}"], abs=1e-8)
        if None in (o["value_baseline"], o["value_latest"], o["reference_baseline"], o["reference_latest"]):
            assert o["class"] == TWW
    classes = {o["class"] for o in gap_json}
    assert {"kleiner", "gelijk", TWW} <= classes


def test_gap_json_equals_the_python_api(gap_json, real_store):
    from wijkmonitor.commands import GAP_FIELDS

    import wijkmonitor.api as wm

    df = analysis.gaps(areas="nplv", baseline=2016, latest=2022, path=real_store)
    assert isinstance(df, pd.DataFrame) and len(df) == len(gap_json)
    pd.testing.assert_frame_equal(wm.gaps("nplv", baseline=2016, latest=2022, path=real_store), df)
    api = json.loads(df[GAP_FIELDS].to_json(orient="records", force_ascii=False))
    assert [(o["area"], o["indicator"]) for o in api] == [(o["area"], o["indicator"]) for o in gap_json]
    for a, b in zip(api, gap_json):
        assert set(a) == set(b)
        for k in a:
            if isinstance(a[k], float) and isinstance(b[k], float):
                assert a[k] == pytest.approx(b[k], rel=1e-9), k
            else:
                assert a[k] == b[k], k


def test_gap_for_one_area_and_indicator_the_readme_example(real_store, av):
    out = _cli(real_store, "gap", "--area", "Utrecht Overvecht", "--indicator", "ervaren_gezondheid_pct",
               "--baseline", "2012", "--latest", "2020", "--format", "json")
    assert out.returncode == 0, out.stderr
    (o,) = json.loads(out.stdout)
    assert o["area"] == "utrecht-overvecht" and o["indicator"] == "ervaren_gezondheid_pct"
    assert (o["baseline_year"], o["latest_year"]) == (2012, 2020)
    assert (o["value_baseline"], o["value_latest"]) == (65.8, 69.9)
    ref_b, ref_l = (one(av, "GM0344", "ervaren_gezondheid_pct", y)["value"] for y in (2012, 2020))
    assert (o["reference_baseline"], o["reference_latest"]) == (pytest.approx(ref_b), pytest.approx(ref_l))
    change = (ref_l - 69.9) - (ref_b - 65.8)
    expected = "gelijk" if abs(change) <= 1 else ("kleiner" if change < 0 else "groter")
    assert o["class"] == expected == "kleiner"
    assert "1,0 procentpunt" in o["rule"]
    # the table format for one area
    table = _cli(real_store, "gap", "--area", "Utrecht Overvecht", "--indicator", "ervaren_gezondheid_pct",
                 "--baseline", "2012", "--latest", "2020")
    assert table.returncode == 0, table.stderr
    assert "Utrecht Overvecht" in table.stdout and "kleiner" in table.stdout and "65,8" in table.stdout


def test_gap_csv_and_table_formats(real_store, gap_json):
    out = _cli(real_store, "gap", "--areas", "nplv", "--baseline", "2016", "--latest", "2022", "--format", "csv")
    assert out.returncode == 0, out.stderr
    df = pd.read_csv(io.StringIO(out.stdout))
    assert len(df) == len(gap_json) and GAP_KEYS <= set(df.columns)
    assert list(zip(df["area"], df["indicator"])) == [(o["area"], o["indicator"]) for o in gap_json]
    assert list(df["class"]) == [o["class"] for o in gap_json]
    table = _cli(real_store, "gap", "--areas", "nplv", "--baseline", "2016", "--latest", "2022", "--format", "table")
    assert table.returncode == 0, table.stderr
    assert "Ervaren gezondheid" in table.stdout and "kleiner" in table.stdout
    bad = _cli(real_store, "gap", "--area", "Nergenshuizen", "--format", "json")
    assert bad.returncode != 0 and "Nergenshuizen" in bad.stderr


# ---------------------------------------------------------------------------------------------
# 7. Gemeente mergers after the reference year
# ---------------------------------------------------------------------------------------------

def test_area_in_a_merged_gemeente_keeps_the_successor_as_reference(custom):
    """Weesp (GM0457) joined Amsterdam in 2022. A custom area on Weesp's 2020 buurten keeps
    Amsterdam as its gemeente after the merger: the gap in 2024 is measured against Amsterdam."""
    assert successor_gemeente("GM0457", 2024) == "GM0363"
    assert successor_gemeente("GM0457", 2020) == "GM0457"
    idx = custom.index.set_index("area_id").loc["weesp-centrum"]
    assert idx["gemeente"] == "GM0457" and idx["gemeente_successor"] == "GM0363"
    gm = custom.av[custom.av["unit_id"] == "GM0457"].set_index(["indicator", "period"])
    ams = custom.av[custom.av["unit_id"] == "GM0363"].set_index(["indicator", "period"])
    # Weesp publishes nothing after 2022; its reference rows for 2023/2024 are Amsterdam's
    for ind in ("inwoners", "koopwoningen_pct", "misdrijven"):
        assert gm.loc[(ind, 2024), "status"] == "ok"
        assert gm.loc[(ind, 2024), "value"] == ams.loc[(ind, 2024), "value"]
    # in the gap: the latest year (2024, taken from areas that have it) is measured against Amsterdam
    df = analysis.gaps(areas=["weesp-centrum", "rotterdam-zuid", "groningen-noord"],
                       indicators=["inwoners_65plus_pct", "herkomst_buiten_europa_pct"],
                       baseline=2012, latest=2024, values=custom.av, index=custom.index)
    weesp = df[df["area"] == "weesp-centrum"]
    assert len(weesp) == 2
    for r in weesp.itertuples():
        assert r.reference_unit == "GM0457" and r.latest_year == 2024
        assert r.reference_latest == ams.loc[(r.indicator, 2024), "value"]
        assert r.reference_status_latest == "ok"


def test_successor_fills_only_periods_after_the_merger(con):
    """The merger table says Weesp was last seen in 2022: Amsterdam's figures may stand in for
    2023 on, never for an earlier year in which Weesp simply has no figure (Amsterdam's own
    KWB 2019 has figures Weesp's data lack)."""
    iv = con.execute("""SELECT region_code AS unit_id, indicator, period, value, status FROM (
                          SELECT *, row_number() OVER (PARTITION BY region_code, indicator, period
                                                       ORDER BY geo_year DESC) rn
                          FROM indicator_values WHERE region_code IN ('GM0457', 'GM0363')) WHERE rn = 1""").df()
    iv = iv.assign(unit_kind="gemeente", method="gepubliceerd")
    weesp = set(zip(iv.loc[iv["unit_id"] == "GM0457", "indicator"], iv.loc[iv["unit_id"] == "GM0457", "period"]))
    only_ams = iv[(iv["unit_id"] == "GM0363").to_numpy()
                  & np.array([(i, p) not in weesp for i, p in zip(iv["indicator"], iv["period"])], dtype=bool)]
    assert (only_ams["period"] <= 2022).any()  # e.g. jeugdzorg_pct 2019: Amsterdam has it, Weesp not
    out = _fill_successors(iv, {"GM0457": "GM0363"})
    filled = out[(out["unit_id"] == "GM0457") & (out["method"] == "opvolger GM0363")]
    assert len(filled) and (filled["period"] >= 2023).all()
    assert set(zip(filled["indicator"], filled["period"])) == set(
        zip(only_ams.loc[only_ams["period"] >= 2023, "indicator"], only_ams.loc[only_ams["period"] >= 2023, "period"]))
