"""Browser test of the section "Leeftijd meegerekend" (Chromium via Playwright, real server and
data): the area page with the section passes axe, and the section's table has its numbers."""

from __future__ import annotations

import pytest

from .test_browser import Guarded, browser  # noqa: F401  (fixture)
from .test_browser_website import _axe

pytestmark = pytest.mark.browser


@pytest.fixture()
def page(browser, server):  # noqa: F811
    g = Guarded(browser, viewport={"width": 1280, "height": 900})
    yield g.ctx.new_page()
    g.close()


def test_area_page_with_the_section_passes_axe(page, server):
    resp = page.goto(server + "/gebied/utrecht-overvecht?basisjaar=2012&laatstejaar=2016", wait_until="load")
    assert resp.status == 200
    row = page.locator("#leeftijd-ervaren_gezondheid_pct")
    assert row.locator("td").nth(2).inner_text() == "−1,0"  # crude gap change (wijkmonitor standardise)
    assert row.locator("td").nth(4).inner_text() == "−1,5"  # standardised: −1,53
    assert page.locator("#leeftijd-beperkt_gezondheid_pct td").nth(2).inner_text().startswith("niet te berekenen")
    assert _axe(page) == []


@pytest.fixture()
def phone(browser, server):  # noqa: F811
    g = Guarded(browser, viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                has_touch=True)
    yield g.ctx.new_page()
    g.close()


def test_section_stacks_on_a_phone_and_passes_axe(phone, server):
    phone.goto(server + "/gebied/WK034403", wait_until="load")
    cell = phone.locator("#cap-leeftijd ~ tbody td").first
    assert cell.evaluate("e => getComputedStyle(e).display") == "grid"
    assert cell.evaluate("e => getComputedStyle(e, '::before').content") == '"Jaren"'
    assert _axe(phone) == []
