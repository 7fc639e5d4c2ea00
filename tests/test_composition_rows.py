"""The in-memory rows of the age standardisation (``composition.store_rows``, used by the
website so that an area page needs no query for it) give exactly the results of the queries."""

from __future__ import annotations

import pytest

from wijkmonitor import composition as comp

from test_composition import STANDARD_YAML, make_store  # tests/ has no __init__: pytest puts it on sys.path

ASKED = ["ervaren_gezondheid_pct", "ervaren_gezondheid_65plus_pct", "eenzaam_pct"]


@pytest.fixture
def standard(tmp_path):
    p = tmp_path / "std.yaml"
    p.write_text(STANDARD_YAML, encoding="utf-8")
    return comp.load_standard(p)


def _both(con, subject, standard, b=2012, l=2016):
    rows = comp.store_rows(con, ["ervaren_goed"], standard)
    plain = comp.standardised_gaps(con, subject, ASKED, b, l, standard=standard)
    fast = comp.standardised_gaps(con, subject, ASKED, b, l, standard=standard, rows=rows)
    return plain, fast, rows


def test_same_results_with_secret_missing_and_a_second_publication(standard):
    # two wijken, one with a secret 65+ rate in 2016 and one without 2012 weights; the store also
    # holds another model run (50150NED) of the 18+ rates, which both paths must ignore
    rates = {("WK999901", 2012): (76, 80, 60), ("WK999901", 2016): (70, 80, "."),
             ("WK999902", 2012): (66, 70, 50), ("WK999902", 2016): (68, 72, 55),
             ("GM9999", 2012): (86, 90, 70), ("GM9999", 2016): (86, 90, 70)}
    weights = {("WK999901", 2012): (400, 400, 200), ("WK999901", 2016): (250, 250, 500),
               ("WK999902", 2016): (300, 300, 100),
               ("GM9999", 2012): (4000, 4000, 2000), ("GM9999", 2016): (4000, 4000, 2000)}
    con = make_store(rates, weights, {"oud": ["WK999901", "WK999902"], "een": ["WK999902"]})
    for subject in ("oud", "een", "WK999901", "GM9999"):
        plain, fast, _ = _both(con, subject, standard)
        assert fast == plain, subject
    # and the worked case gives its hand-computed numbers through the rows as well
    con1 = make_store({k: v for k, v in rates.items() if k[0] != "WK999902"},
                      {k: v for k, v in weights.items() if k[0] != "WK999902"}, {"oud": ["WK999901"]})
    _, fast, _ = _both(con1, "oud", standard)
    s = comp.gap_summary(fast[0])
    assert s["crude_baseline"] == pytest.approx(-10) and s["crude_latest"] == pytest.approx(-16)


def test_a_code_without_rows_and_a_measure_not_held_fall_back_to_the_same_answer(standard):
    rates = {("WK999901", 2012): (76, 80, 60), ("WK999901", 2016): (70, 80, 60),
             ("GM9999", 2012): (86, 90, 70), ("GM9999", 2016): (86, 90, 70)}
    weights = {("WK999901", 2012): (400, 400, 200), ("WK999901", 2016): (250, 250, 500),
               ("GM9999", 2012): (4000, 4000, 2000), ("GM9999", 2016): (4000, 4000, 2000)}
    con = make_store(rates, weights, {"oud": ["WK999901"]})
    rows = comp.store_rows(con, ["ervaren_goed"], standard)
    assert rows.take("rates", ["WK000000"]).empty  # unknown code: no rows, no error
    got = rows.take("rates", ["GM9999", "WK999901", "GM9999"])
    assert sorted(set(got["code"])) == ["GM9999", "WK999901"] and len(got) == 12  # 2 codes x 2 years x 3 ages
    # rows that hold another measure only: the query is used, same answer
    other = comp.store_rows(con, ["eenzaam"], standard)
    assert (comp.standardised_gaps(con, "oud", ASKED, 2012, 2016, standard=standard, rows=other)
            == comp.standardised_gaps(con, "oud", ASKED, 2012, 2016, standard=standard))
