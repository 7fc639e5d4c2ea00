"""The Wijkindex on small synthetic cases (issue 16).

Expected numbers are derived by hand (standard normal quantiles from tables / Python's
``statistics.NormalDist``; the exponential transformation X = -23 ln(1 - R (1 - e^(-100/23)))
evaluated on a calculator), never by calling the module's own helpers.
"""

from __future__ import annotations

import hashlib
import textwrap

import numpy as np
import pandas as pd
import pytest

from wijkmonitor.wijkindex import method
from wijkmonitor.wijkindex.build import compute_index, reference_year
from wijkmonitor.wijkindex.model import WijkindexError, load_index
from wijkmonitor.wijkindex.select import SelectionError, parse_rule


# ----------------------------------------------------------------------------------------
# normalisation against a fixed reference
# ----------------------------------------------------------------------------------------

def test_rank_normal_uses_mid_rank_position_in_the_reference():
    ref = np.array([1.0, 2.0, 3.0, 4.0])
    z = method.normalise(np.array([2.0, 2.5, 0.0, 10.0, np.nan]), ref, "rang-normaal")
    # 2: 1 below, 2 at most -> p = 3/8 -> -0.3186; 2.5: p = 1/2 -> 0;
    # outside the reference: p kept within [1/8, 7/8] -> -/+1.1503; NaN stays NaN
    assert z[0] == pytest.approx(-0.318639, abs=1e-6)
    assert z[1] == pytest.approx(0.0, abs=1e-12)
    assert z[2] == pytest.approx(-1.150349, abs=1e-6)
    assert z[3] == pytest.approx(1.150349, abs=1e-6)
    assert np.isnan(z[4])


def test_z_score_uses_reference_mean_and_sample_sd():
    z = method.normalise(np.array([8.0, 4.0, 0.0]), np.array([2.0, 4.0, 6.0, np.nan]), "z-score")
    assert z.tolist() == pytest.approx([2.0, 0.0, -2.0])  # mean 4, sd 2


def test_unknown_normalisation_is_refused():
    with pytest.raises(ValueError, match="normalisatie"):
        method.normalise(np.array([1.0]), np.array([1.0, 2.0]), "min-max")


# ----------------------------------------------------------------------------------------
# exponential transformation: limited compensation
# ----------------------------------------------------------------------------------------

def test_exponential_transformation_known_points():
    x = method.exponential(np.array([0.0, 0.5, 0.9, 1.0]))
    assert x.tolist() == pytest.approx([0.0, 15.6468, 50.4267, 100.0], abs=1e-3)


def test_one_bad_domain_is_not_cancelled_by_one_good_domain():
    # equal weights: R = 0.95 and 0.05 average 32.51 on the exponential scale, far above the
    # 15.65 of an area at R = 0.5 on both (a plain mean of R would make them equal)
    x = method.exponential(np.array([0.95, 0.05, 0.5]))
    assert (x[0] + x[1]) / 2 == pytest.approx(32.506, abs=1e-2)
    assert x[2] == pytest.approx(15.647, abs=1e-2)


# ----------------------------------------------------------------------------------------
# the missing-data rule
# ----------------------------------------------------------------------------------------

def test_domain_minimum_both_sides():
    z = np.array([[1.0, 4.0, np.nan],
                  [np.nan, 4.0, np.nan],
                  [1.0, 4.0, 7.0]])
    w = np.array([1.0, 2.0, 1.0])
    two = method.domain_scores(z, w, minimum=2)
    assert two[0] == pytest.approx(3.0)          # (1*1 + 2*4) / 3: two of three, enough
    assert np.isnan(two[1])                      # one of three: below the minimum of 2
    assert two[2] == pytest.approx(4.0)          # (1 + 8 + 7) / 4
    one = method.domain_scores(z, w, minimum=1)
    assert one[1] == pytest.approx(4.0)          # the same row with a minimum of 1


# ----------------------------------------------------------------------------------------
# ranks and deciles
# ----------------------------------------------------------------------------------------

def test_ranks_within_groups_ties_share_the_lowest_rank():
    rank, size = method.ranks(np.array([5.0, 3.0, 3.0, 1.0, 2.0, 9.0, np.nan]),
                              np.array([0, 0, 0, 0, 1, 1, 0]))
    assert rank.tolist() == [1, 2, 2, 4, 2, 1, 0]
    assert size.tolist() == [4, 4, 4, 4, 2, 2, 0]


def test_deciles_from_rank_and_size():
    # n = 20: ranks 1-2 decile 1, rank 3 decile 2, rank 11 ceil(5.5) = 6, rank 20 decile 10
    d = method.deciles(np.array([1, 2, 3, 11, 20, 0]), np.array([20, 20, 20, 20, 20, 0]))
    assert d.tolist() == [1, 1, 2, 6, 10, 0]


# ----------------------------------------------------------------------------------------
# the whole chain on synthetic inputs
# ----------------------------------------------------------------------------------------

def _spec(tmp_path, body: str, name="idx.yaml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(body), encoding="utf-8")
    return load_index(p)


ONE_DOMAIN = """
    id: testindex
    naam: Test
    basisjaar: 2016
    basisniveau: buurt
    normalisatie: rang-normaal
    max_leeftijd: 0
    domeinen:
      - id: veiligheid
        naam: veiligheid
        gewicht: 1
        minimum: 1
        indicatoren:
          - {id: misdrijven_per_1000, richting: hoger is slechter, gewicht: 1}
"""


def _inputs(rows):
    df = pd.DataFrame(rows, columns=["unit_id", "indicator", "period", "value"])
    df["unit_kind"] = "buurt"
    df["programme"] = None
    df["gemeente"] = "GM0001"
    df["area_level"] = None
    return df


def test_single_domain_index_by_hand(tmp_path):
    spec = _spec(tmp_path, ONE_DOMAIN)
    inp = _inputs([(f"BU000100{i}", "misdrijven_per_1000", 2016, v) for i, v in enumerate([10, 20, 30, 40])])
    out, ref = compute_index(spec, inp, draws=0)
    idx = out[out["component"] == "testindex"].set_index("unit_id")["value"]
    # z = ndtri(1/8, 3/8, 5/8, 7/8); reference mean 0, sd 0.974623; X = exp-transform of Phi(z/sd)
    assert idx.tolist() == pytest.approx([2.8724, 10.5193, 22.2555, 46.8656], abs=1e-3)
    assert out[out["component"] == "testindex"]["rank_nl"].tolist() == [4, 3, 2, 1]


def test_base_year_scale_is_fixed_a_later_year_is_not_re_ranked(tmp_path):
    spec = _spec(tmp_path, ONE_DOMAIN)
    base = [(f"BU000100{i}", "misdrijven_per_1000", 2016, v) for i, v in enumerate([10, 20, 30, 40])]
    # 2024: every buurt but the first doubles its crime; the first stays at 10
    later = [(f"BU000100{i}", "misdrijven_per_1000", 2024, v) for i, v in enumerate([10, 40, 60, 80])]
    out, _ = compute_index(spec, _inputs(base + later), draws=0)
    idx = out[out["component"] == "testindex"].set_index(["unit_id", "period"])["value"]
    # the unchanged buurt keeps its score; the others are scored against the 2016 reference
    assert idx[("BU0001000", 2024)] == pytest.approx(idx[("BU0001000", 2016)], abs=1e-12)
    assert idx[("BU0001001", 2024)] == pytest.approx(idx[("BU0001003", 2016)], abs=1e-12)  # 40 = old max


TWO_DOMAINS = """
    id: testindex
    naam: Test
    basisjaar: 2024
    basisniveau: buurt
    normalisatie: z-score
    max_leeftijd: 4
    domeinen:
      - id: wonen
        naam: wonen
        gewicht: 1
        minimum: 2
        indicatoren:
          - {id: woz_gemiddeld, richting: hoger is beter}
          - {id: koopwoningen_pct, richting: hoger is beter}
      - id: gezondheid
        naam: gezondheid
        gewicht: 1
        minimum: 1
        indicatoren:
          - {id: ervaren_gezondheid_pct, richting: hoger is beter}
"""


def test_missing_domain_means_no_index_with_the_reason(tmp_path):
    spec = _spec(tmp_path, TWO_DOMAINS)
    rows = []
    for i in range(6):
        code = f"BU000100{i}"
        rows.append((code, "ervaren_gezondheid_pct", 2020, 70 + i))   # 4 years old: allowed
        rows.append((code, "woz_gemiddeld", 2024, 200 + 10 * i))
        if i != 0:  # buurt 0 has one of the two wonen indicators: below the minimum of 2
            rows.append((code, "koopwoningen_pct", 2024, 40 + i))
    out, _ = compute_index(spec, _inputs(rows), draws=0)
    out = out[out["period"] == 2024]
    won = out[(out["component"] == "testindex_wonen")].set_index("unit_id")
    idx = out[(out["component"] == "testindex")].set_index("unit_id")
    assert won.loc["BU0001000", "status"] == "niet beschikbaar"
    assert "1 van minimaal 2" in won.loc["BU0001000", "reason"] and "koopwoningen_pct" in won.loc["BU0001000", "reason"]
    assert idx.loc["BU0001000", "status"] == "niet beschikbaar"
    assert "wonen" in idx.loc["BU0001000", "reason"]
    assert idx.loc["BU0001000", "domains_available"] == "gezondheid"
    # two of two: a score, and the index with both domains
    assert won.loc["BU0001001", "status"] == "ok"
    assert idx.loc["BU0001001", "status"] == "ok"
    assert idx.loc["BU0001001", "domains_available"] == "wonen,gezondheid"
    # the health value of 2020 was used for 2024 (within max_leeftijd 4), and is said so
    assert "ervaren_gezondheid_pct:2020" in idx.loc["BU0001001", "indicators_used"]


def test_value_older_than_max_age_is_not_used(tmp_path):
    spec = _spec(tmp_path, TWO_DOMAINS)
    rows = [("BU0001000", "ervaren_gezondheid_pct", 2019, 70.0),   # 5 years before 2024: too old
            ("BU0001000", "woz_gemiddeld", 2024, 200.0), ("BU0001000", "koopwoningen_pct", 2024, 40.0),
            ("BU0001001", "ervaren_gezondheid_pct", 2020, 75.0),
            ("BU0001001", "woz_gemiddeld", 2024, 300.0), ("BU0001001", "koopwoningen_pct", 2024, 60.0)]
    rows += [(f"BU000200{i}", "ervaren_gezondheid_pct", 2020, 70.0 + 2 * i) for i in range(3)]  # reference
    out, _ = compute_index(spec, _inputs(rows), draws=0, years={"buurt": [2024]})
    gez = out[out["component"] == "testindex_gezondheid"].set_index("unit_id")
    assert gez.loc["BU0001000", "status"] == "niet beschikbaar"
    assert gez.loc["BU0001001", "status"] == "ok"


def test_reference_year_nearest_with_national_coverage():
    # 2022 is nearest to 2020 but covers too few units (100 < half of 1000): 2024 is taken
    assert reference_year({2022: 100, 2024: 1000}, 2020) == 2024
    assert reference_year({2016: 900, 2024: 1000}, 2020) == 2024  # tie in distance: the later
    assert reference_year({2020: 600, 2024: 1000}, 2020) == 2020
    assert reference_year({}, 2020) is None


# ----------------------------------------------------------------------------------------
# Monte Carlo
# ----------------------------------------------------------------------------------------

def _design(n=60, seed=3):
    rng = np.random.default_rng(seed)
    z0 = rng.normal(size=(n, 4))
    z0[5, 1] = np.nan  # a row with one of the two indicators of domain 0
    z1 = z0 * 0.8 + 0.1 * rng.normal(size=(n, 4))  # the "alternative normalisation"
    z1[5, 1] = np.nan
    return method.Design(z=np.stack([z0, z1]), domain=np.array([0, 0, 1, 2]),
                         ind_weight=np.array([1.0, 1.0, 1.0, 1.0]), dom_weight=np.array([0.5, 0.3, 0.2]),
                         minimum=np.array([1, 1, 1]), ref_rows=[np.arange(n)] * 3)


def test_monte_carlo_is_seeded_and_contains_the_point_rank():
    d = _design()
    res = method.compute(d)
    targets = np.arange(60)
    groups = {"nl": np.zeros(60, dtype=int), "gemeente": np.arange(60) % 3}
    point = {name: method.ranks(res.index, g)[0] for name, g in groups.items()}
    a = method.monte_carlo(d, targets, groups, draws=200, seed=7, point_ranks=point)
    b = method.monte_carlo(d, targets, groups, draws=200, seed=7, point_ranks=point)
    for name in groups:
        assert (a.low[name] == b.low[name]).all() and (a.high[name] == b.high[name]).all()
        assert (a.low[name] <= point[name]).all() and (point[name] <= a.high[name]).all()
        assert (a.high[name] - a.low[name] > 0).any()  # the weights do move ranks


def test_monte_carlo_width_zero_when_nothing_varies():
    d = _design()
    res = method.compute(d)
    groups = {"nl": np.zeros(60, dtype=int)}
    point = method.ranks(res.index, groups["nl"])[0]
    mc = method.monte_carlo(d, np.arange(60), groups, draws=50, seed=1, weight_range=(1.0, 1.0),
                            vary_normalisation=False, leave_one_out=False)  # no point_ranks given
    assert (mc.low["nl"] == point).all() and (mc.high["nl"] == point).all()


def test_monte_carlo_reference_moments_equal_direct_mean_and_sd():
    d = _design()
    res = method.compute(d)
    for k in range(3):
        ref = res.raw[d.ref_rows[k], k]
        ref = ref[~np.isnan(ref)]
        assert res.ref_mean[k] == pytest.approx(ref.mean(), abs=1e-12)
        assert res.ref_sd[k] == pytest.approx(ref.std(ddof=1), abs=1e-12)


# ----------------------------------------------------------------------------------------
# the YAML: validated on load, Dutch errors naming file and field
# ----------------------------------------------------------------------------------------

def test_default_index_loads_and_version_is_hash_of_file():
    spec = load_index()
    from wijkmonitor.wijkindex.model import DEFAULT_FILE
    assert spec.version == hashlib.sha256(DEFAULT_FILE.read_bytes()).hexdigest()[:12]
    assert spec.components()[0] == "wijkindex"
    assert {d.id for d in spec.domeinen} >= {"wonen", "veiligheid", "gezondheid"}


@pytest.mark.parametrize("edit, field, text", [
    (("richting: hoger is slechter, gewicht: 1}", "richting: hoger is beter, gewicht: 1}"),
     "domeinen[veiligheid].indicatoren[misdrijven_per_1000].richting", "catalogus"),
    (("misdrijven_per_1000", "bestaat_niet"), "domeinen[veiligheid].indicatoren[bestaat_niet].id",
     "onbekende indicator"),
    (("minimum: 1", "minimum: 2"), "domeinen[veiligheid]", "minimum 2 is groter"),
    (("gewicht: 1\n", "gewicht: 0\n"), "domeinen[veiligheid].gewicht", "greater than 0"),
    (("normalisatie: rang-normaal", "normalisatie: min-max"), "normalisatie", ""),
    (("max_leeftijd: 0", "max_leeftijd: 0\nonbekend_veld: 1"), "onbekend_veld", ""),
])
def test_invalid_index_file_names_file_and_field(tmp_path, edit, field, text):
    body = textwrap.dedent(ONE_DOMAIN).replace(*edit)
    p = tmp_path / "fout.yaml"
    p.write_text(body, encoding="utf-8")
    with pytest.raises(WijkindexError) as exc:
        load_index(p)
    assert str(p) in str(exc.value)
    assert exc.value.field == field
    assert text in str(exc.value)


def test_yaml_syntax_error_and_non_mapping(tmp_path):
    p = tmp_path / "kapot.yaml"
    p.write_text("id: [x\n", encoding="utf-8")
    with pytest.raises(WijkindexError, match="kapot.yaml"):
        load_index(p)
    p.write_text("- 1\n- 2\n", encoding="utf-8")
    with pytest.raises(WijkindexError, match="mapping"):
        load_index(p)


def test_selection_rule_parsing_both_sides():
    assert parse_rule("bottom-decile", 5) == ("bottom-decile", 0)
    assert parse_rule("domains-below:1", 5) == ("domains-below", 1)
    assert parse_rule("domains-below:5", 5) == ("domains-below", 5)
    for bad in ("domains-below:0", "domains-below:6", "top-decile", "domains-below:x"):
        with pytest.raises(SelectionError):
            parse_rule(bad, 5)


def test_nested_ranks_equal_direct_ranks_with_ties():
    rng = np.random.default_rng(11)
    scores = rng.integers(0, 6, size=(7, 40)).astype(float)  # many ties
    parent = rng.integers(0, 3, size=40)
    sub = parent * 10 + rng.integers(0, 4, size=40)  # sub-groups within the parent groups
    sub[::9] = -1                                     # some items not ranked in the sub-grouping
    _, order = method._group_min_ranks(scores, parent, return_order=True)
    nested = method._nested_min_ranks(scores, order, sub)
    for b in range(7):
        expect, _ = method.ranks(scores[b], sub)
        assert nested[b].tolist() == expect.tolist()


def test_monte_carlo_nested_grouping_gives_the_same_intervals():
    d = _design()
    groups = {"nl": np.arange(60) % 2, "gemeente": (np.arange(60) % 2) * 10 + np.arange(60) % 5}
    a = method.monte_carlo(d, np.arange(60), groups, draws=60, seed=5)
    b = method.monte_carlo(d, np.arange(60), groups, draws=60, seed=5, nested={"gemeente": "nl"})
    assert (a.low["gemeente"] == b.low["gemeente"]).all() and (a.high["gemeente"] == b.high["gemeente"]).all()


def test_monte_carlo_identical_areas_share_their_ranks():
    d = _design()
    d.z[:, 7, :] = d.z[:, 3, :]  # area 7 has exactly the values of area 3: they tie in every draw
    groups = {"nl": np.zeros(60, dtype=int)}
    mc = method.monte_carlo(d, np.arange(60), groups, draws=100, seed=2)
    assert mc.low["nl"][7] == mc.low["nl"][3] and mc.high["nl"][7] == mc.high["nl"][3]


def test_several_indices_declared_side_by_side(tmp_path):
    from wijkmonitor.wijkindex.model import component_ids, load_indices

    (tmp_path / "default.yaml").write_text(textwrap.dedent(ONE_DOMAIN), encoding="utf-8")
    (tmp_path / "tweede.yaml").write_text(textwrap.dedent(TWO_DOMAINS).replace("id: testindex", "id: tweede"),
                                          encoding="utf-8")
    specs = load_indices(tmp_path)
    assert [s.id for s in specs] == ["testindex", "tweede"]  # default first
    assert set(component_ids(tmp_path)) == {"testindex", "testindex_veiligheid", "tweede", "tweede_wonen",
                                            "tweede_gezondheid"}
    (tmp_path / "tweede.yaml").write_text(textwrap.dedent(ONE_DOMAIN), encoding="utf-8")  # same id twice
    with pytest.raises(WijkindexError, match="al gebruikt"):
        load_indices(tmp_path)


def test_indicator_list_names_the_index_and_every_domain_of_the_default_index():
    """``wijkmonitor indicators`` (and the API list, which share :func:`wijkmonitor.api.indicators`)
    list the index ids after the catalogue: default.yaml declares five domains."""
    import json

    from typer.testing import CliRunner

    from wijkmonitor import api
    from wijkmonitor.catalogue import load_catalogue
    from wijkmonitor.cli import app

    expected = ["wijkindex", "wijkindex_inkomen_werk", "wijkindex_gezondheid", "wijkindex_veiligheid",
                "wijkindex_wonen", "wijkindex_meedoen"]
    df = api.indicators()
    assert len(df) == len(load_catalogue()) + 6
    wi = df[df["theme"] == "wijkindex"]
    assert list(wi["id"]) == expected
    assert set(wi["polarity"]) == {"hoger is slechter"} and set(wi["unit"]) == {"score 0-100"}
    assert wi.set_index("id").loc["wijkindex_wonen", "name"] == "Wijkindex: wonen"
    res = CliRunner().invoke(app, ["indicators", "--format", "json"])
    assert res.exit_code == 0
    ids = [r["id"] for r in json.loads(res.stdout)]
    assert ids[-6:] == expected and len(ids) == len(set(ids))


def test_monte_carlo_intervals_do_not_depend_on_the_chunking():
    """The draws are processed in chunks (in-place buffers, each chunk's draws reordered by
    normalisation); an interval is a percentile over all draws, so one draw per chunk, the
    default chunk and all draws at once must give the same intervals; 7 and 13 do not divide
    the 200 draws (a short last chunk)."""
    d = _design()
    res = method.compute(d)
    targets = np.arange(60)
    groups = {"nl": np.zeros(60, dtype=int), "gemeente": np.arange(60) % 3}
    point = {name: method.ranks(res.index, g)[0] for name, g in groups.items()}
    runs = [method.monte_carlo(d, targets, groups, draws=200, seed=11, point_ranks=point, chunk=c,
                               nested={"gemeente": "nl"}) for c in (1, 7, 13, 25, 200)]
    for r in runs[1:]:
        for name in groups:
            assert (r.low[name] == runs[0].low[name]).all() and (r.high[name] == runs[0].high[name]).all()


# ----------------------------------------------------------------------------------------
# reading the stored index for pages and reports (a hand-made wijkindex_values table)
# ----------------------------------------------------------------------------------------

def _stored(rows):
    import duckdb

    from wijkmonitor.wijkindex.build import VALUES_SQL

    con = duckdb.connect(":memory:")
    con.execute(VALUES_SQL)
    cols = ["component", "domain", "unit_id", "unit_kind", "programme", "period", "value", "status", "reason",
            "decile", "rank_nl", "n_nl", "rank_nl_low", "rank_nl_high", "rank_programme", "n_programme",
            "rank_programme_low", "rank_programme_high"]
    df = pd.DataFrame(rows, columns=cols).assign(index_id="wijkindex", index_version="v1")
    con.register("df", df)
    con.execute("INSERT INTO wijkindex_values BY NAME SELECT * FROM df")
    return con


def _unit_rows(unit, period, index, domains, kind="wijk", programme=None, rank=None):
    """One index row (rank 7 of 100, interval 5-9) and one row per domain."""
    spec = load_index()
    out = [("wijkindex", None, unit, kind, programme, period, index, "ok" if index is not None else
            "niet beschikbaar", None if index is not None else "geen score voor domein wonen", 1, 7, 100, 5, 9)
           + (rank or (None, None, None, None))]
    for d, v in zip(spec.domeinen, domains):
        out.append((spec.component_id(d.id), d.id, unit, kind, programme, period, v,
                    "ok" if v is not None else "niet beschikbaar", None, 2 if v is not None else None,
                    None, None, None, None, None, None, None, None))
    return out


def test_unit_profile_change_since_base_year_and_missing_domains():
    from wijkmonitor.wijkindex.select import rank_text, unit_profile

    con = _stored(_unit_rows("WK000101", 2020, 40.0, [10, 20, None, 40, 50])
                  + _unit_rows("WK000101", 2024, 46.5, [12, 18, 30, 40, 55]))
    p = unit_profile(con, "WK000101")
    assert p["year"] == 2024 and p["base_year"] == 2020  # default.yaml: basisjaar 2020
    assert p["value"] == 46.5 and p["decile"] == 1 and p["rank_nl"] == 7 and p["rank_nl_interval"] == [5, 9]
    assert p["change"] == pytest.approx(6.5)  # 46.5 - 40.0
    ch = {d["id"]: (d["change"], d["change_reason"]) for d in p["domains"]}
    assert ch["inkomen_werk"][0] == pytest.approx(2) and ch["gezondheid"][0] == pytest.approx(-2)
    assert ch["veiligheid"] == (None, "geen score in 2020")
    # the base year itself has no change; a year without an index says why
    p20 = unit_profile(con, "WK000101", 2020)
    assert p20["change"] is None and p20["change_reason"] == "2020 is het basisjaar"
    assert unit_profile(con, "WK999999") is None
    assert rank_text(12, [9, 17]) == "rang 12 (9-17)" and rank_text(3, None) == "rang 3" and rank_text(None, None) == ""


def test_programme_ranking_takes_the_year_most_areas_have_and_lists_the_others():
    from wijkmonitor.report.wijkindex import programme_ranking

    rows = (_unit_rows("a", 2022, 50.0, [1] * 5, "area", "nplv", (2, 3, 1, 3))
            + _unit_rows("b", 2022, 60.0, [1] * 5, "area", "nplv", (1, 3, 1, 2))
            + _unit_rows("c", 2022, 40.0, [1] * 5, "area", "nplv", (3, 3, 2, 3))
            + _unit_rows("a", 2024, 55.0, [1] * 5, "area", "nplv", (1, 2, 1, 2))
            + _unit_rows("b", 2024, 50.0, [1] * 5, "area", "nplv", (2, 2, 1, 2))
            + _unit_rows("c", 2024, None, [1] * 5, "area", "nplv"))
    con = _stored(rows)
    con.execute("CREATE TABLE area_index AS SELECT * FROM (VALUES ('a', 'Alfa'), ('b', 'Beta'), ('c', 'Gamma')) "
                "t(area_id, name)")
    r = programme_ranking(con, "nplv")
    # 2022: three areas with an index, 2024: two -> 2022
    assert r["year"] == 2022 and r["n_areas"] == 3 and r["missing"] == []
    assert [(a["name"], a["rank_text"]) for a in r["rows"]] == [("Beta", "rang 1 (1-2)"), ("Alfa", "rang 2 (1-3)"),
                                                                ("Gamma", "rang 3 (2-3)")]
    assert "overlappen, verschillen niet echt" in r["rule"]
    # one more area with an index in 2024: a tie of 3 and 3 -> the later year
    con.execute("UPDATE wijkindex_values SET value = 45, status = 'ok', reason = NULL, rank_programme = 3, "
                "n_programme = 3, rank_programme_low = 3, rank_programme_high = 3 "
                "WHERE unit_id = 'c' AND period = 2024 AND domain IS NULL")
    assert programme_ranking(con, "nplv")["year"] == 2024
    con.execute("UPDATE wijkindex_values SET status = 'niet beschikbaar', value = NULL, reason = 'geen score voor "
                "domein wonen' WHERE unit_id = 'a' AND period = 2024 AND domain IS NULL")
    con.execute("UPDATE wijkindex_values SET status = 'niet beschikbaar', value = NULL, reason = 'x' "
                "WHERE unit_id = 'a' AND period = 2022 AND domain IS NULL")
    r = programme_ranking(con, "nplv")  # 2022: b, c; 2024: b, c -> 2024
    assert r["year"] == 2024 and r["missing"] == [dict(name="Alfa", reason="geen score voor domein wonen")]


def test_profile_bar_chart_scales_bars_0_to_100_and_says_missing_scores():
    import re

    from wijkmonitor.web import wijkindex_profile as wp

    doms = [dict(naam="wonen", score=50.0, decile=1), dict(naam="veiligheid", score=None, decile=None),
            dict(naam="meedoen", score=100.0, decile=10)]
    svg = wp.bar_chart(doms, title="Profiel")
    plot_w = wp.WIDTH - wp.LABEL_W - wp.RIGHT  # 640 - 150 - 70 = 420
    widths = [float(w) for w in re.findall(r'<rect x="150" y="[\d.]+" width="([\d.]+)"', svg)]
    assert widths == [210.0, 420.0] and plot_w == 420
    assert 'fill="#67001f"' in svg and 'fill="#053061"' in svg  # decile 1 dark red, decile 10 dark blue
    assert 'role="img"' in svg and "veiligheid: geen score" in svg and "wonen: 50 (deciel 1)" in svg


def test_reasons_on_pages_name_indicators_not_ids():
    from wijkmonitor.catalogue import load_catalogue
    from wijkmonitor.wijkindex.select import readable

    cat = load_catalogue()
    text = "te weinig indicatoren: 0 van minimaal 2 (ontbreekt: woz_gemiddeld, koopwoningen_pct)"
    assert readable(text) == (f"te weinig indicatoren: 0 van minimaal 2 (ontbreekt: {cat['woz_gemiddeld'].name}, "
                              f"{cat['koopwoningen_pct'].name})")
    assert readable("geen score voor domein wonen") == "geen score voor domein wonen"
    assert readable(None) is None


def test_monte_carlo_gives_the_same_intervals_on_one_or_two_threads():
    # 200 draws in chunks of 25: eight chunks, four per thread; a chunk written into another
    # chunk's rows, or buffers shared between the threads, would change the intervals
    d = _design()
    res = method.compute(d)
    groups = {"nl": np.zeros(60, dtype=int), "gemeente": np.arange(60) % 3}
    point = {name: method.ranks(res.index, g)[0] for name, g in groups.items()}
    one = method.monte_carlo(d, np.arange(60), groups, draws=200, seed=11, point_ranks=point, threads=1,
                             nested={"gemeente": "nl"})
    two = method.monte_carlo(d, np.arange(60), groups, draws=200, seed=11, point_ranks=point, threads=2,
                             nested={"gemeente": "nl"})
    for name in groups:
        assert one.low[name].tolist() == two.low[name].tolist()
        assert one.high[name].tolist() == two.high[name].tolist()
    assert (one.high["nl"] - one.low["nl"] > 0).any()


# ----------------------------------------------------------------------------------------
# approximated inputs (values added up with a declared stand-in weight)
# ----------------------------------------------------------------------------------------

APPROX_BU = "benadering: gewogen met huishoudens, woningvoorraad per buurt ontbreekt"
APPROX_WK = "benadering: gewogen met huishoudens, woningvoorraad per wijk ontbreekt"


def _approx_inputs():
    """Six reference buurten (exact) and three areas of 2024: ``benaderd`` whose WOZ is an
    approximation, ``exact`` with both wonen values exact, ``half`` with only an approximated
    WOZ (below the wonen minimum of 2)."""
    rows = []
    for i in range(6):
        code = f"BU000100{i}"
        rows += [(code, "ervaren_gezondheid_pct", 2024, 70.0 + i), (code, "woz_gemiddeld", 2024, 200.0 + 10 * i),
                 (code, "koopwoningen_pct", 2024, 40.0 + i)]
    df = _inputs(rows).assign(approximation=None)
    areas = pd.DataFrame([
        ("benaderd", "woz_gemiddeld", 2024, 215.0, APPROX_BU), ("benaderd", "koopwoningen_pct", 2024, 42.0, None),
        ("benaderd", "ervaren_gezondheid_pct", 2024, 72.0, None),
        ("exact", "woz_gemiddeld", 2024, 215.0, None), ("exact", "koopwoningen_pct", 2024, 42.0, None),
        ("exact", "ervaren_gezondheid_pct", 2024, 72.0, None),
        ("half", "woz_gemiddeld", 2024, 230.0, APPROX_BU), ("half", "ervaren_gezondheid_pct", 2024, 72.0, None),
    ], columns=["unit_id", "indicator", "period", "value", "approximation"]).assign(
        unit_kind="area", programme="nplv", gemeente="GM0001", area_level="buurt")
    return pd.concat([df, areas], ignore_index=True)


def test_approximated_input_is_named_on_its_domain_and_the_index_only(tmp_path):
    spec = _spec(tmp_path, TWO_DOMAINS)
    out, _ = compute_index(spec, _approx_inputs(), draws=0)
    ap = out.set_index(["unit_id", "component"])["approximation"].astype(object)
    st = out.set_index(["unit_id", "component"])["status"].astype(object)
    want = "benadering: woz_gemiddeld gewogen met huishoudens, woningvoorraad per buurt ontbreekt"
    # the area whose WOZ is an approximation: its wonen domain and its index say so, its
    # gezondheid domain (no approximated input) does not
    assert ap[("benaderd", "testindex_wonen")] == want
    assert ap[("benaderd", "testindex")] == want
    assert pd.isna(ap[("benaderd", "testindex_gezondheid")])
    # the same values, exact: nothing
    for comp in ("testindex", "testindex_wonen", "testindex_gezondheid"):
        assert pd.isna(ap[("exact", comp)])
    # an approximated input of a domain without a score (1 of minimum 2) marks nothing
    assert st[("half", "testindex_wonen")] == "niet beschikbaar" and pd.isna(ap[("half", "testindex_wonen")])
    assert st[("half", "testindex")] == "niet beschikbaar" and pd.isna(ap[("half", "testindex")])
    assert ap[[u for u in ap.index if u[0].startswith("BU")]].isna().all()


def test_approximation_changes_no_value_rank_or_interval(tmp_path):
    spec = _spec(tmp_path, TWO_DOMAINS)
    inp = _approx_inputs()
    with_ap, ref1 = compute_index(spec, inp, draws=50)
    without, ref2 = compute_index(spec, inp.drop(columns="approximation"), draws=50)
    pd.testing.assert_frame_equal(with_ap.drop(columns="approximation"), without.drop(columns="approximation"))
    pd.testing.assert_frame_equal(ref1, ref2)
    assert without["approximation"].isna().all()
    # the approximated and the exact area have the same values, so the same scores and ranks
    a = with_ap.set_index(["unit_id", "component"])
    assert a.loc[("benaderd", "testindex"), "value"] == a.loc[("exact", "testindex"), "value"]
    assert a.loc[("benaderd", "testindex"), "rank_programme"] == a.loc[("exact", "testindex"), "rank_programme"]


def test_approximation_words_group_indicators_with_the_same_clause():
    from wijkmonitor.wijkindex.build import approximation_words

    assert approximation_words({}) is None
    assert approximation_words({"woz_gemiddeld": APPROX_BU, "koopwoningen_pct": APPROX_BU}) == (
        "benadering: woz_gemiddeld, koopwoningen_pct gewogen met huishoudens, woningvoorraad per buurt ontbreekt")
    assert approximation_words({"woz_gemiddeld": APPROX_BU, "koopwoningen_pct": APPROX_WK}) == (
        "benadering: woz_gemiddeld gewogen met huishoudens, woningvoorraad per buurt ontbreekt; "
        "koopwoningen_pct gewogen met huishoudens, woningvoorraad per wijk ontbreekt")


def _approx_store():
    """A store with two wijken of 2024 without a published WOZ: WK000101 (buurten A, B, C; C
    has no woningvoorraad, so the wijk is added up with households) and WK000102 (D, E, both
    with woningvoorraad); and two areas in ``area_values``, one added up with the stand-in
    weight, one with the own weight. (A published wijk value of the same indicator and year
    would stop every wijk from being added up: see ``_wijken_from_buurten``.)"""
    import duckdb

    con = duckdb.connect()
    con.execute("CREATE TABLE regions (code VARCHAR, year INTEGER, level VARCHAR, name VARCHAR, "
                "gemeente_code VARCHAR, wijk_code VARCHAR, population DOUBLE)")
    parts = {"BU00010001": "WK000101", "BU00010002": "WK000101", "BU00010003": "WK000101",
             "BU00010004": "WK000102", "BU00010005": "WK000102"}
    for code, wk in parts.items():
        con.execute("INSERT INTO regions VALUES (?, 2024, 'buurt', ?, 'GM0001', ?, 1000)", [code, code, wk])
    for wk in ("WK000101", "WK000102"):
        con.execute("INSERT INTO regions VALUES (?, 2024, 'wijk', ?, 'GM0001', NULL, 3000)", [wk, wk])
    con.execute("CREATE TABLE indicator_values (indicator VARCHAR, region_code VARCHAR, geo_year INTEGER, "
                "period INTEGER, value DOUBLE, numerator DOUBLE, denominator DOUBLE, status VARCHAR, "
                "estimate BOOLEAN, source_id VARCHAR)")
    woz = {"BU00010001": (200.0, 100.0), "BU00010002": (300.0, 200.0), "BU00010003": (400.0, None),
           "BU00010004": (250.0, 100.0), "BU00010005": (350.0, 100.0)}
    for code, (v, w) in woz.items():
        con.execute("INSERT INTO indicator_values VALUES ('woz_gemiddeld', ?, 2024, 2024, ?, ?, ?, 'ok', false, "
                    "'kwb')", [code, v, None if w is None else v * w, w])
    con.execute("CREATE TABLE observations (region_code VARCHAR, geo_year INTEGER, period INTEGER, "
                "variable VARCHAR, value DOUBLE, status VARCHAR, source_id VARCHAR)")
    for code in parts:
        con.execute("INSERT INTO observations VALUES (?, 2024, 2024, 'a_hh', 150, 'ok', 'kwb')", [code])
    con.execute("CREATE TABLE sources (source_id VARCHAR, table_id VARCHAR, rank INTEGER)")
    con.execute("INSERT INTO sources VALUES ('kwb', '85984NED', 1)")
    con.execute("CREATE TABLE area_index (area_id VARCHAR, programme VARCHAR, gemeente VARCHAR, level VARCHAR)")
    con.execute("INSERT INTO area_index VALUES ('benaderd', 'nplv', 'GM0001', 'wijk'), "
                "('exact', 'nplv', 'GM0001', 'wijk')")
    con.execute("CREATE TABLE area_values (unit_id VARCHAR, unit_kind VARCHAR, indicator VARCHAR, period INTEGER, "
                "value DOUBLE, status VARCHAR, method VARCHAR)")
    con.execute("INSERT INTO area_values VALUES "
                f"('benaderd', 'area', 'woz_gemiddeld', 2024, 310, 'ok', 'opgeteld; {APPROX_WK}'), "
                "('exact', 'area', 'woz_gemiddeld', 2024, 320, 'ok', 'opgeteld')")
    return con


def test_read_inputs_carries_the_approximation_of_areas_and_added_up_wijken(monkeypatch):
    from wijkmonitor import aggregate as agg
    from wijkmonitor.catalogue import load_catalogue
    from wijkmonitor.wijkindex.build import read_inputs

    cat = load_catalogue()
    # as built: wijken are added up from a view of the buurt values, for which aggregate uses
    # no stand-in weight; WK000101 (C without woningvoorraad: 2 of 3 equal buurten = 67 % <
    # 90 %) gets no value, WK000102 its own-weight value
    inp = read_inputs(_approx_store(), ["woz_gemiddeld"], cat)
    got = {u: (v, a) for u, v, a in zip(inp["unit_id"], inp["value"], inp["approximation"])}
    assert "WK000101" not in got
    # WK000102: own weight (100 each): (250 + 350) / 2 = 300, exact
    assert got["WK000102"][0] == pytest.approx(300.0) and got["WK000102"][1] is None
    # published (buurt) values are never approximations
    assert [c for c in got if c.startswith("BU")] and all(got[c][1] is None for c in got if c.startswith("BU"))
    # areas: from the provenance of area_values
    assert got["benaderd"] == (310.0, APPROX_WK) and got["exact"] == (320.0, None)

    # a wijk that aggregate does add up with the stand-in weight carries its approximation
    real = agg.aggregate
    monkeypatch.setattr(agg, "aggregate", lambda *a, **k: real(*a, **(k | dict(weight_fallback=True))))
    inp = read_inputs(_approx_store(), ["woz_gemiddeld"], cat)
    got = {u: (v, a) for u, v, a in zip(inp["unit_id"], inp["value"], inp["approximation"])}
    # every buurt weighted with households (150 each): (200 + 300 + 400) / 3 = 300
    assert got["WK000101"] == (pytest.approx(300.0), APPROX_BU)
    assert got["WK000102"][1] is None


def test_approximation_on_pages_names_the_index_indicators_and_keeps_the_wording():
    from wijkmonitor.catalogue import load_catalogue
    from wijkmonitor.wijkindex.select import readable

    cat = load_catalogue()
    assert "huishoudens" in cat and "woningvoorraad" in cat  # ids that are words of the wording too
    text = "benadering: woz_gemiddeld, koopwoningen_pct " + APPROX_BU.split(": ", 1)[1]
    assert readable(text, ["woz_gemiddeld", "koopwoningen_pct"]) == (
        f"benadering: {cat['woz_gemiddeld'].name}, {cat['koopwoningen_pct'].name} gewogen met huishoudens, "
        "woningvoorraad per buurt ontbreekt")


def test_select_json_rows_and_value_record_carry_the_approximation():
    from wijkmonitor.wijkindex.cli import records
    from wijkmonitor.wijkindex.select import profile_frame, value_record

    spec = load_index()
    con = _stored(_unit_rows("WK000101", 2024, 46.5, [12, 18, 30, 40, 55])
                  + _unit_rows("WK000102", 2024, 30.0, [12, 18, 30, 40, 55]))
    words = "benadering: woz_gemiddeld gewogen met huishoudens, woningvoorraad per buurt ontbreekt"
    con.execute("UPDATE wijkindex_values SET approximation = ? WHERE unit_id = 'WK000101' "
                "AND component IN ('wijkindex', 'wijkindex_wonen')", [words])
    con.execute("UPDATE wijkindex_values SET gemeente = 'GM0001'")
    con.execute("CREATE TABLE regions AS SELECT 'WK000101' AS code, 2024 AS year, 'Een' AS name")
    con.execute("CREATE TABLE wijkindex_meta AS SELECT 'wijkindex' AS index_id, 'Wijkindex' AS name, "
                "'default.yaml' AS file, 2020 AS base_year, 'rang-normaal' AS normalisation, 1000 AS draws")
    prof = profile_frame(con, spec, "wijk", 2024)
    rows = {r["code"]: r for r in records(prof, dict(index=spec.id, year=2024, domains=[d.id for d in spec.domeinen]))}
    assert rows["WK000101"]["approximation"] == words
    assert rows["WK000101"]["domains"]["wonen"]["approximation"] == words
    assert rows["WK000101"]["domains"]["gezondheid"]["approximation"] is None
    assert rows["WK000102"]["approximation"] is None
    assert all(d["approximation"] is None for d in rows["WK000102"]["domains"].values())
    assert value_record(con, "WK000101", "wijkindex_wonen", 2024)["approximation"] == words
    assert value_record(con, "WK000102", "wijkindex", 2024)["approximation"] is None
