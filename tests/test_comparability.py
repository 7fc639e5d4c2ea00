"""Issue 17.6: publication series, breaks, the crossing rule and round chart ticks, on small
hand-made cases (both sides of each boundary)."""

from __future__ import annotations

import itertools

import pytest

from wijkmonitor import comparability
from wijkmonitor.nlformat import nl_number
from wijkmonitor.web.svg import nice_ticks, trend_chart

R, G = "rivm-50090ned", "gezondheidsmonitor-50150ned"


def test_declared_series():
    d = comparability.load()
    assert d.family("50090NED").id == R and d.family("50150NED").id == G
    # the yearly KWB tables are one series; an unknown table is a series of its own
    assert d.family("85984NED", "Kerncijfers wijken en buurten 2024").id == "kwb"
    assert d.family("84583NED", "Kerncijfers wijken en buurten 2019 (gemeenten)").id == "kwb"
    assert d.family("PDOK x", "CBS wijk- en buurtkaart 2012, gemeenten").id == "kwb"
    assert d.family("99999NED", "iets anders").id == "99999NED"


def test_breaks_and_crossing():
    d = comparability.load()
    years = {2012: R, 2016: R, 2020: R, 2022: G, 2024: G}
    (b,) = d.breaks("ervaren_gezondheid_pct", years)
    assert (b.before, b.after, b.series_before, b.series_after) == (2020, 2022, R, G)
    assert comparability.crossing([b], 2012, 2024) == b
    assert comparability.crossing([b], 2020, 2022) == b          # exactly across
    assert comparability.crossing([b], 2012, 2020) is None        # ends before the change
    assert comparability.crossing([b], 2022, 2024) is None        # starts after it
    assert comparability.crossing([b], None, 2024) is None
    assert d.breaks("ervaren_gezondheid_pct", {2012: R, 2016: R, 2020: R}) == []
    assert d.breaks("x", {2012: R, 2016: None, 2020: R}) == []    # an unknown year is skipped


def test_declared_comparable_pair_is_not_a_break(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text(f"""series:
  - {{id: {R}, name: a, table: "^50090NED$"}}
  - {{id: {G}, name: b, table: "^50150NED$"}}
comparable:
  - {{indicator: ervaren_gezondheid_pct, series: [{R}, {G}], reason: same model}}
""", encoding="utf-8")
    d = comparability.load(p)
    assert d.breaks("ervaren_gezondheid_pct", {2020: R, 2022: G}) == []
    assert len(d.breaks("eenzaam_pct", {2020: R, 2022: G})) == 1   # declared for one indicator only


def test_bad_declaration_names_the_entry(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("series:\n  - {id: a, name: x}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"series\[0\]"):
        comparability.load(p)
    p.write_text("series: []\ncomparable:\n  - {indicator: x, series: [a]}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"comparable\[0\]"):
        comparability.load(p)


@pytest.mark.parametrize("lo,hi,dec", list(itertools.product(
    [0.0, 0.3, 13.1, 34.2, 62.1, 99.5, 250.0, 1234.5, -3.0], [0.05, 0.7, 1.0, 3.0, 12.0, 40.0, 900.0], [0, 1, 2])))
def test_tick_labels_are_distinct_round_and_cover_the_data(lo, hi, dec):
    vmin, vmax = lo, lo + hi
    ticks = nice_ticks(vmin, vmax, dec)
    labels = [nl_number(t, dec) for t in ticks]
    assert len(labels) == len(set(labels)), labels          # never 35 / 34 / 34
    assert 2 <= len(ticks) <= 5
    assert ticks[0] <= vmin + 1e-9 and ticks[-1] >= vmax - 1e-9
    steps = {round(b - a, 9) for a, b in zip(ticks, ticks[1:])}
    assert len(steps) == 1


def test_a_small_wobble_does_not_fill_the_axis():
    # 34,2 -> 34,9: the axis spans at least 10 % of the value, not 0,7 point
    ticks = nice_ticks(34.2, 34.9, 0)
    assert ticks[-1] - ticks[0] >= 3.49
    # a wide range is not padded
    assert nice_ticks(62.1, 74.1, 1) == [60.0, 65.0, 70.0, 75.0]


def test_chart_marks_a_break():
    s = [("Rotterdam", {2016: 68.4, 2020: 74.1, 2022: 62.1})]
    svg = trend_chart(s, title="t", unit="%", decimals=1, chart_id="c", breaks=[(2020, 2022)])
    assert 'stroke-dasharray="4 3"' in svg and ">bron</text>" in svg
    assert "Tussen 2020 en 2022 verandert de bron" in svg
    plain = trend_chart(s, title="t", unit="%", decimals=1, chart_id="c")
    assert ">bron</text>" not in plain
