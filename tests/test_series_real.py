"""Harmonised gemeente series on the real data: every year on the gemeenten of 2024."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from wijkmonitor import api, series, store
from wijkmonitor.areas import load_groups
from wijkmonitor.catalogue import load_catalogue

TARGET = 2024
HOEKSCHE_WAARD = "GM1963"  # 2019: Binnenmaas, Cromstrijen, Korendijk, Oud-Beijerland, Strijen
HW_PARTS = ["GM0585", "GM0611", "GM0588", "GM0584", "GM0617"]


@pytest.fixture(scope="module")
def con(real_store):
    c = store.connect(real_store)
    yield c
    c.close()


@pytest.fixture(scope="module")
def iv(con):
    return con.execute(series._IV_SQL.format(where="")).df()


@pytest.fixture(scope="module")
def crosswalks(con):
    return series.stored_crosswalks(con, TARGET)


@pytest.fixture(scope="module")
def every_division(iv, crosswalks):
    """Each source division moved on its own, without the quality threshold."""
    return series.move_indicator_values(iv, crosswalks, load_catalogue(), target_year=TARGET,
                                        min_quality=0.0, choose=False)


@pytest.fixture(scope="module")
def stored(con):
    return con.execute("SELECT * FROM harmonised_values").df()


def _published(iv, indicator, geo_year, period=None):
    rows = iv[(iv["indicator"] == indicator) & (iv["geo_year"] == geo_year)
              & (iv["period"] == (period or geo_year))]
    return rows.set_index("region_code")


def _one(frame, **where):
    sel = np.ones(len(frame), dtype=bool)
    for k, v in where.items():
        sel &= (frame[k] == v).to_numpy()
    rows = frame[sel]
    assert len(rows) == 1, where
    return rows.iloc[0]


def test_store_holds_one_geography(con, stored, crosswalks):
    assert set(stored["geo_year"]) == {TARGET}
    codes_2024 = {r[0] for r in con.execute(
        "SELECT code FROM regions WHERE level = 'gemeente' AND year = 2024").fetchall()}
    assert set(stored["region_code"]) <= codes_2024
    assert not stored.duplicated(["indicator", "region_code", "period"]).any()
    # value and numerator only where the status is ok
    hidden = stored[stored["status"] != "ok"]
    assert hidden["value"].isna().all() and hidden["numerator"].isna().all()
    assert hidden["reason"].notna().all()
    # every 2012 gemeente is placed; shares of a placed source sum to 1
    cw12 = crosswalks[(crosswalks["source_year"] == 2012) & crosswalks["status"].isna()]
    assert cw12["source_code"].nunique() == 415
    assert np.allclose(cw12.groupby("source_code")["share"].sum(), 1.0)


def test_counts_2012_keep_the_national_total(iv, every_division):
    pub = _published(iv, "inwoners", 2012)
    pub = pub[pub.index.str.startswith("GM")]
    moved = every_division[(every_division["indicator"] == "inwoners") & (every_division["period"] == 2012)
                           & (every_division["source_year"] == 2012)]
    assert len(moved) == 342 and (moved["status"] == "ok").all()
    assert moved["value"].sum() == pytest.approx(pub["value"].sum(), rel=1e-12)
    assert pub["value"].sum() == 16_730_345  # as test_harmonise: the KWB 2012 gemeenten


def test_merged_gemeente_is_the_sum_of_its_predecessors(iv, stored):
    pub = _published(iv, "inwoners", 2012)
    row = _one(stored, indicator="inwoners", region_code=HOEKSCHE_WAARD, period=2012)
    assert row["value"] == pub.loc[HW_PARTS, "value"].sum()  # exactly: whole gemeenten
    assert row["quality"] == 1.0 and row["method"] == "opgeteld" and row["n_pieces"] == 5
    assert row["source_year"] == 2012 and not row["estimate"]
    # the same for every count the KWB 2012 gives
    for ind in ("huishoudens", "woningvoorraad"):
        pub = _published(iv, ind, 2012)
        assert _one(stored, indicator=ind, region_code=HOEKSCHE_WAARD, period=2012)["value"] == \
            pub.loc[HW_PARTS, "value"].sum()


def test_one_to_one_gemeenten_keep_exactly_their_values(iv, crosswalks, every_division):
    cw = crosswalks[(crosswalks["source_year"] == 2012) & (crosswalks["share"] > 0)]
    fed = cw.groupby("target_code").size()
    one = cw[(cw["method"] == "identical") & cw["target_code"].map(fed).eq(1)]
    assert len(one) > 250 and "GM0344" in set(one["target_code"])  # Utrecht
    moved = every_division[every_division["source_year"] == 2012].set_index(
        ["indicator", "region_code", "period"])
    src = iv[iv["geo_year"] == 2012].set_index(["indicator", "region_code", "period"])
    n = 0
    for (ind, code, period), s in src[src.index.get_level_values(1).isin(set(one["source_code"]))].iterrows():
        m = moved.loc[(ind, code, period)]
        assert m["status"] == s["status"]
        if s["status"] == "ok":
            assert m["value"] == s["value"]  # exactly, not approximately
            assert m["method"] == "overgenomen" and m["quality"] == 1.0
            n += 1
    assert n > 2000


def test_rate_of_a_merged_gemeente_is_re_derived_not_averaged(iv, stored):
    pub = _published(iv, "inwoners_65plus_pct", 2012).loc[HW_PARTS]
    row = _one(stored, indicator="inwoners_65plus_pct", region_code=HOEKSCHE_WAARD, period=2012)
    derived = 100 * pub["numerator"].sum() / pub["denominator"].sum()
    assert row["value"] == pytest.approx(derived, rel=1e-12)
    assert row["denominator"] == pub["denominator"].sum()
    assert abs(row["value"] - pub["value"].mean()) > 0.05  # an average would be another number
    # KWB 2012 publishes the percentage, not the count: a base-weighted estimate, marked as such
    assert row["estimate"] and "schatting" in row["reason"]
    # 2017 publishes counts (a_65_oo / a_inw): the rate from the summed counts
    pub17 = _published(iv, "inwoners_65plus_pct", 2017).loc[HW_PARTS]
    row17 = _one(stored, indicator="inwoners_65plus_pct", region_code=HOEKSCHE_WAARD, period=2017)
    assert row17["numerator"] == pub17["numerator"].sum()
    assert row17["value"] == pytest.approx(100 * pub17["numerator"].sum() / pub17["denominator"].sum(),
                                           rel=1e-12)


def test_a_piece_without_a_figure_hides_the_result_with_its_reason(iv, stored):
    # Haren (GM0017, into Groningen 2019) is missing from the 2010-2020 crime export
    assert "GM0017" not in set(_published(iv, "misdrijven", 2012).query("status == 'ok'").index)
    row = _one(stored, indicator="misdrijven", region_code="GM0014", period=2012)
    assert row["status"] == "niet beschikbaar" and pd.isna(row["value"])
    assert "GM0017" in row["reason"]
    # from 2019 Groningen includes Haren: the published figure is the 2024 gemeente's
    row19 = _one(stored, indicator="misdrijven", region_code="GM0014", period=2019)
    assert row19["status"] == "ok" and row19["method"] == "overgenomen"


def test_a_suppressed_piece_makes_the_result_suppressed(iv, crosswalks):
    """The real gemeente data hold no secret predecessor of a merged gemeente, so one of the
    five predecessors of Hoeksche Waard is marked secret in the real 2012 rows."""
    rows = iv[(iv["geo_year"] == 2012) & (iv["indicator"].isin(["inwoners", "inwoners_65plus_pct"]))].copy()
    secret = rows["region_code"] == "GM0617"  # Strijen
    rows.loc[secret, ["value", "numerator"]] = np.nan
    rows.loc[secret, "status"] = "geheim"
    moved = series.move_indicator_values(rows, crosswalks, load_catalogue(), target_year=TARGET)
    for ind in ("inwoners", "inwoners_65plus_pct"):
        row = _one(moved, indicator=ind, region_code=HOEKSCHE_WAARD, period=2012)
        assert row["status"] == "geheim" and pd.isna(row["value"]) and pd.isna(row["numerator"])
        assert "GM0617" in row["reason"] and "geheim" in row["reason"]
    # the other gemeenten are untouched
    assert _one(moved, indicator="inwoners", region_code="GM0344", period=2012)["status"] == "ok"
    # a real secret value of a 1:1 gemeente stays secret
    real = iv[(iv["status"] == "geheim") & iv["region_code"].str.startswith("GM")]
    assert len(real)
    r = real.iloc[0]
    out = series.move_indicator_values(iv[iv["geo_year"] == r["geo_year"]], crosswalks, load_catalogue(),
                                       target_year=TARGET, choose=False)
    hit = out[(out["indicator"] == r["indicator"]) & (out["period"] == r["period"])
              & (out["region_code"] == series.successor_codes([r["region_code"]], TARGET)[0])]
    assert (hit["status"] == "geheim").all() and hit["value"].isna().all()


def test_low_quality_is_hidden_with_the_reason(every_division, stored):
    # Gooise Meren (2016) from Bussum, Muiden and Naarden: Bussum and Muiden were split by area
    # (parts went to Hilversum and Amsterdam), so most of the 2012 value is an area estimate
    raw = _one(every_division, indicator="inwoners", region_code="GM1942", period=2012, source_year=2012)
    assert raw["quality"] < series.MIN_QUALITY and raw["method"] == "verdeeld"
    row = _one(stored, indicator="inwoners", region_code="GM1942", period=2012)
    assert row["status"] == "niet vergelijkbaar" and pd.isna(row["value"])
    assert row["reason"].startswith(f"kwaliteit {raw['quality']:.2f}")
    shown = stored[stored["status"] == "ok"]
    assert (shown["quality"] >= series.MIN_QUALITY).all()
    # a shown value with a part apportioned by area is marked as an estimate
    assert shown.loc[shown["method"] == "verdeeld", "estimate"].all()


def test_division_without_polygons_is_placed_through_its_neighbours(iv, crosswalks, every_division, stored):
    # 2015 (polygons only as a coarse TopoJSON): Leeuwarden had absorbed part of Boarnsterhim
    # (2014), so it takes its 2017 territory; Leeuwarderadeel (into Leeuwarden 2018) its own
    cw15 = crosswalks[crosswalks["source_year"] == 2015].set_index("source_code")
    assert cw15.loc["GM0080", "polygon_year"] == 2017
    assert cw15.loc["GM0081", "polygon_year"] == 2012
    pub = _published(iv, "inwoners", 2015)
    pub = pub[pub.index.str.startswith("GM")]
    moved = every_division[(every_division["indicator"] == "inwoners") & (every_division["period"] == 2015)
                           & (every_division["source_year"] == 2015)]
    # GM1921 (De Friese Meren, a code of 2015 only) has no polygon in 2012 or 2017: it cannot be
    # placed, so the 2024 gemeente it lies in (De Fryske Marren) has a part without a figure
    assert "GM1921" in pub.index and "GM1921" not in cw15.index
    bad = moved[moved["status"] != "ok"]
    assert list(bad["region_code"]) == ["GM1940"] and "zonder cijfer" in bad["reason"].iloc[0]
    # everything else keeps the national total exactly
    assert moved.loc[moved["status"] == "ok", "value"].sum() == pytest.approx(
        pub["value"].sum() - pub.loc["GM1921", "value"], rel=1e-12)
    # before the first polygon year nothing can be placed
    early = stored[stored["period"].isin([2010, 2011])]
    assert len(early) > 500 and (early["status"] == "niet vergelijkbaar").all()
    assert early["reason"].str.contains("geen gebiedsindeling van 201[01] bekend").all()


def test_g18_reference_2012_uses_the_2024_gemeenten(con, stored, iv):
    g18 = load_groups()["G18"].members
    members = series.successor_codes(g18, TARGET)
    av = con.execute("SELECT * FROM area_values WHERE unit_id = 'G18' AND indicator = 'inwoners' "
                     "AND period = 2012").df().iloc[0]
    parts = stored[(stored["indicator"] == "inwoners") & (stored["period"] == 2012)
                   & stored["region_code"].isin(members)]
    assert len(parts) == 18 and (parts["status"] == "ok").all()
    assert av["status"] == "ok" and av["value"] == pytest.approx(parts["value"].sum(), rel=1e-12)
    assert av["method"].startswith("geharmoniseerd 2024")
    # the predecessors are in: Haren and Ten Boer (Groningen), Leeuwarderadeel (Leeuwarden),
    # Weesp (Amsterdam) -- more than the 2012 figures of the same codes
    pub = _published(iv, "inwoners", 2012)
    old = pub.loc[list(g18), "value"].sum()
    extra = pub.loc[["GM0017", "GM0009", "GM0081", "GM0457"], "value"].sum()
    assert av["value"] > old + extra
    # the G18 ratio is re-derived from the members' harmonised numerators
    r = con.execute("SELECT * FROM area_values WHERE unit_id = 'G18' AND indicator = 'koopwoningen_pct' "
                    "AND period = 2012").df().iloc[0]
    p = stored[(stored["indicator"] == "koopwoningen_pct") & (stored["period"] == 2012)
               & stored["region_code"].isin(members) & (stored["status"] == "ok")]
    assert len(p) == 18
    assert r["value"] == pytest.approx(100 * p["numerator"].sum() / p["denominator"].sum(), rel=1e-9)


def test_gemeente_reference_of_an_area_is_the_gemeente_as_published(con, stored, iv):
    """Issue 15 changed this: the stedelijk gemiddelde of an area is the gemeente *as published
    in each year* (on the division nearest the areas' reference year, the same rule that picks
    the areas' parts), no longer the harmonised 2024 territory. Groningen absorbed Haren and
    Ten Boer in 2019: its reference for 2018 is the published 2018 Groningen, and the
    harmonised series (with the predecessors) stays available beside it."""
    idx = con.execute("SELECT * FROM area_index WHERE area_id = 'groningen-noord'").df().iloc[0]
    ref = con.execute("SELECT * FROM area_values WHERE unit_id = ? AND indicator = 'inwoners' "
                      "ORDER BY period", [idx["gemeente_unit"]]).df().set_index("period")
    hv = stored[(stored["indicator"] == "inwoners") & (stored["region_code"] == "GM0014")].set_index("period")
    for year in (2012, 2018, 2019, 2024):
        pub = _published(iv, "inwoners", year)
        assert ref.loc[year, "value"] == pub.loc["GM0014", "value"], year
        assert ref.loc[year, "method"] == "gepubliceerd"
    # before the merger the published gemeente is smaller than the harmonised one
    assert ref.loc[2018, "value"] < hv.loc[2018, "value"]
    assert ref.loc[2024, "value"] == hv.loc[2024, "value"]


def test_api_harmonised(real_store, stored):
    df = api.harmonised("inwoners", path=real_store)
    assert list(df.columns) == series.SERIES_COLUMNS
    assert len(df) == int((stored["indicator"] == "inwoners").sum())
    one = api.harmonised("inwoners", regions=HOEKSCHE_WAARD, path=real_store)
    assert set(one["region_code"]) == {HOEKSCHE_WAARD}
    # a custom area of 2024 gemeenten is added up from the harmonised gemeenten
    area = api.harmonised("inwoners", areas={"HW+Dordrecht": [HOEKSCHE_WAARD, "GM0505"]}, path=real_store)
    a12 = _one(area, period=2012)
    hw = _one(stored, indicator="inwoners", region_code=HOEKSCHE_WAARD, period=2012)["value"]
    dd = _one(stored, indicator="inwoners", region_code="GM0505", period=2012)["value"]
    assert a12["value"] == hw + dd
    with pytest.raises(ValueError):
        api.harmonised("inwoners", level="wijk", path=real_store)


def test_area_and_its_gemeente_reference_come_from_the_same_publication(con, stored):
    """RIVM health 2012-2020 is published on the 2020 and on the 2024 division (different model
    runs); the areas add up the 2020 one, so the gemeente reference must use it too."""
    for period in (2012, 2016, 2020):
        row = _one(stored, indicator="ervaren_gezondheid_pct", region_code="GM0344", period=period)
        assert row["source_id"].startswith("rivm-50090ned-"), (period, row["source_id"])
    ref = con.execute("""SELECT period, value FROM area_values WHERE unit_id = 'GM0344'
                         AND indicator = 'ervaren_gezondheid_pct' AND period IN (2012, 2020)
                         ORDER BY period""").fetchall()
    published = dict(con.execute("""SELECT period, value FROM indicator_values
        WHERE region_code = 'GM0344' AND geo_year = 2020 AND indicator = 'ervaren_gezondheid_pct'
          AND period IN (2012, 2020)""").fetchall())
    assert [(p, v) for p, v in ref] == [(2012, published[2012]), (2020, published[2020])]
