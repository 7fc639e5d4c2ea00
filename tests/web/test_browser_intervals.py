"""The indicator page's ranking table with the 95 % interval next to each value (issue 15) at
390 px (an iPhone 12-15): the value cell keeps value and interval on one line, the table fits
the screen without scrolling sideways, and the page passes axe."""

from __future__ import annotations

import pytest

from .test_browser import Guarded, browser  # noqa: F401  (fixture)
from .test_browser_website import _axe

pytestmark = pytest.mark.browser

URL = "/indicator/ervaren_gezondheid_pct?niveau=wijk&gemeente=GM0344&jaar=2020"


def test_ranking_table_with_intervals_on_a_phone(browser, server):  # noqa: F811
    g = Guarded(browser, viewport={"width": 390, "height": 844}, device_scale_factor=2,
                is_mobile=True, has_touch=True)
    p = g.ctx.new_page()
    p.goto(server + URL, wait_until="load")
    cell = p.locator("#tabel-regios tbody tr", has=p.locator("a[href='/gebied/WK034409']")).locator("td").last
    assert cell.inner_text().replace("\u00a0", " ").startswith("82,8")
    iv = cell.locator(".wm-interval")
    assert iv.inner_text() == "(82,2–83,4)"
    # the interval does not break inside (one line of its own height at most)
    box = iv.bounding_box()
    line = float(iv.evaluate("e => parseFloat(getComputedStyle(e).lineHeight) || e.getBoundingClientRect().height"))
    assert box["height"] <= line * 1.5
    region = p.locator("#tabel-regios")
    assert region.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), region.evaluate(
        "e => [e.scrollWidth, e.clientWidth]")
    assert p.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert _axe(p) == []
    g.close()
