"""The report's trend charts show the 95 % interval of the area's values as a band (issue 15,
deliverable 1: uncertainty "in the report"). Synthetic numbers; positions derived by hand."""

from __future__ import annotations

import re

from wijkmonitor.catalogue import load_catalogue
from wijkmonitor.report import charts


def _chart(band):
    ind = load_catalogue()["ervaren_gezondheid_pct"]
    return charts.trend_chart(ind, {"Overvecht": [(2012, 65.8), (2016, 63.5), (2020, 69.9)],
                                    "Utrecht": [(2012, 78.3), (2020, 80.8)]}, band=band)


def test_band_is_drawn_behind_the_first_line_at_the_right_height():
    svg, alt = _chart({2012: (65.0, 66.6), 2016: (62.7, 64.3), 2020: (69.1, 70.7)})
    # ticks 60..85 on the plot from y = 98 (60) to y = 6 (85): 3.68 per unit, so
    # 66.6 -> 98 - 6.6 x 3.68 = 73.71 and 65.0 -> 79.60; x of 2012 = 34 + 6 = 40
    band = re.search(r'<path d="(M[^"]*Z)" fill="#D55E00" fill-opacity="0.15"', svg)
    assert band, svg
    assert band.group(1).startswith("M40.00 73.71L") and band.group(1).endswith("L40.00 79.60Z")
    # behind the line: the band comes before the first series' line in the SVG
    assert svg.index(band.group(0)) < svg.index('stroke="#D55E00" stroke-width="1.3"')
    assert "De band om de lijn van Overvecht is het 95%-interval: 2012 65,0 tot 66,6, " \
           "2016 62,7 tot 64,3, 2020 69,1 tot 70,7." in alt


def test_no_band_without_intervals_and_none_for_years_without_a_value():
    svg, alt = _chart(None)
    assert "fill-opacity" not in svg and "95%-interval" not in alt
    # an interval for a year the area has no value in is not drawn; one year alone is a whisker
    svg, alt = _chart({2024: (1.0, 2.0), 2016: (62.7, 64.3)})
    assert "fill-opacity" not in svg
    assert "2024" not in alt and "2016 62,7 tot 64,3" in alt
    assert 'stroke-opacity="0.6"' in svg


def test_change_interval_under_the_class():
    """The fiche's theme table shows under the class the change of the achterstand with its 95 %
    interval, in the indicator's decimals, only for a measured development."""
    from wijkmonitor.report.area import change_interval
    ind = load_catalogue()["ervaren_gezondheid_pct"]  # 1 decimal
    # the README's Overvecht case: -1.6, interval -3.0669 .. -0.1331 -> "−1,6 (−3,1 tot −0,1)"
    r = {"class": "kleiner", "change": -1.6, "change_lower": -3.0669, "change_upper": -0.1331}
    assert change_interval(r, ind) == "−1,6 (−3,1 tot −0,1)"
    assert change_interval({**r, "class": "onzeker", "change": 0.24, "change_lower": -0.86,
                            "change_upper": 1.34}, ind) == "+0,2 (−0,9 tot +1,3)"
    # no development measured, or no interval known (Leefbaarometer): nothing
    assert change_interval({**r, "class": "te weinig waarnemingen"}, ind) is None
    assert change_interval({**r, "class": "bron veranderd"}, ind) is None
    assert change_interval({**r, "change_lower": float("nan")}, ind) is None
