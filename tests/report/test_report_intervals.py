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
