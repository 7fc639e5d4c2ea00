"""Browser tests of issue 17 items 2-7 (Chromium via Playwright, real server and data): the
autocomplete flow, axe on the new page states, no sideways overflow at 390 px on every page
type, and the compressed page-weight budget."""

from __future__ import annotations

import pytest

from .test_browser import AXE_TAGS, PAGES, Guarded, browser  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser

MORE_PAGES = {
    "zoeken-postcode": "/zoeken?q=3533+AB",
    "zoeken-deel": "/zoeken?q=overvecht+noord",
    "zoeken-geschiedenis": "/zoeken?q=Bijlmer",
    "fout-parameter": "/gebied/utrecht-overvecht?basisjaar=abc",
}


@pytest.fixture()
def page(browser, server):  # noqa: F811
    g = Guarded(browser, viewport={"width": 1280, "height": 900})
    yield g.ctx.new_page()
    g.close()


def _axe(page) -> list:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
    return [(v["id"], v["impact"], [n["target"] for n in v["nodes"][:3]])
            for v in results.response["violations"]]


@pytest.mark.parametrize("name", sorted(MORE_PAGES))
def test_new_page_states_pass_axe(page, server, name):
    resp = page.goto(server + MORE_PAGES[name], wait_until="load")
    assert resp.status == (422 if name.startswith("fout") else 200)  # a bad parameter: 422, as on the API
    assert page.locator("h1").count() == 1
    assert _axe(page) == []


def test_autocomplete_suggests_and_opens_the_page(page, server):
    page.goto(server + "/", wait_until="load")
    box = page.locator("#snelzoeken")
    box.click()
    box.press_sequentially("overv", delay=30)
    options = page.locator("datalist#wm-suggesties-0 option")
    options.first.wait_for(state="attached", timeout=5000)
    values = options.evaluate_all("os => os.map(o => o.value)")
    assert values[0].startswith("Utrecht Overvecht (NPLV-focusgebied")
    # choosing the suggestion (its exact text) and pressing Enter opens the area page
    box.fill(values[0])
    with page.expect_navigation():
        box.press("Enter")
    assert page.url.endswith("/gebied/utrecht-overvecht")
    assert _axe(page) == []


def test_search_works_without_javascript(browser, server):  # noqa: F811
    g = Guarded(browser, java_script_enabled=False, viewport={"width": 1280, "height": 900})
    p = g.ctx.new_page()
    p.goto(server + "/", wait_until="load")
    p.fill("#snelzoeken", "Den Haag")
    with p.expect_navigation():
        p.press("#snelzoeken", "Enter")
    assert "/zoeken?q=Den+Haag" in p.url
    assert p.locator("main a[href='/gebied/GM0518']").count() >= 1
    g.close()


ALL_PAGES = {**PAGES, **MORE_PAGES, "gebied-amsterdam": "/gebied/GM0363",
             "indicator-amsterdam": "/indicator/angst_depressie_pct?niveau=buurt&gemeente=GM0363&jaar=2020"}


@pytest.fixture(scope="module")
def phone(browser, server):  # noqa: F811
    g = Guarded(browser, viewport={"width": 390, "height": 844}, device_scale_factor=2,
                is_mobile=True, has_touch=True)
    yield g.ctx.new_page()
    g.close()


@pytest.mark.parametrize("name", sorted(ALL_PAGES))
def test_no_sideways_overflow_on_a_phone(phone, server, name):
    """390 px wide (an iPhone 12-15): the page never scrolls sideways; wide tables scroll inside
    their own focusable region or stack."""
    phone.goto(server + ALL_PAGES[name], wait_until="load")
    sizes = phone.evaluate("({sw: document.documentElement.scrollWidth, iw: window.innerWidth,"
                           " bw: document.body.scrollWidth})")
    if sizes["sw"] > sizes["iw"]:
        wide = phone.evaluate("""() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
            .filter(e => !e.closest('.wm-table-scroll'))
            .slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))""")
        raise AssertionError((name, sizes, wide))


def test_overview_table_stacks_on_a_phone_and_passes_axe(phone, server):
    phone.goto(server + "/gebied/utrecht-overvecht", wait_until="load")
    cell = phone.locator("#overzicht ~ .wm-table-scroll table.wm-table--stack tbody td").first
    assert cell.evaluate("e => getComputedStyle(e).display") == "grid"
    label = cell.evaluate("e => getComputedStyle(e, '::before').content")
    assert label == '"Jaar"'
    region = phone.locator("#overzicht ~ .wm-table-scroll").first
    assert region.evaluate("e => e.scrollWidth <= e.clientWidth + 1")  # no sideways scrolling needed
    assert _axe(phone) == []
