"""Browser tests of issue 17.3 (Chromium via Playwright, real server and data): choosing places
by name with autocomplete on Vergelijken and Vergelijkbare gemeenten, keyboard only, on a
desktop and a 390 px phone viewport; the forms without JavaScript; axe 0 violations and no
sideways scrolling on the new pages."""

from __future__ import annotations

import re

import httpx
import pytest

from .test_browser import AXE_TAGS, Guarded, browser  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser

VIEWPORTS = {
    "desktop": dict(viewport={"width": 1280, "height": 900}),
    "telefoon": dict(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                     has_touch=True),
}
NEW_PAGES = {
    "vergelijken-thema": "/vergelijken?gebied=utrecht-overvecht&gebied=G4&jaar=2016&jaar=2020&thema=veiligheid",
    "vergelijken-groep": "/vergelijken?vergelijkbaar=GM0344&jaar=2020&jaar=2024&indicator=roker_pct"
                         "&indicator=woz_gemiddeld",
    "vergelijkbaar-leeg": "/vergelijkbare-gemeenten",
    "vergelijkbaar-utrecht": "/vergelijkbare-gemeenten?gemeente=GM0344",
}


@pytest.fixture(scope="module")
def warm(server):
    """The server's search index built once before the timed-out waits below."""
    assert httpx.get(server + "/api/v1/suggest", params={"q": "overv"}, timeout=120).status_code == 200
    return server


@pytest.fixture(params=sorted(VIEWPORTS))
def page(request, browser, warm):  # noqa: F811
    g = Guarded(browser, **VIEWPORTS[request.param])
    yield g.ctx.new_page()
    g.close()


def _axe(page) -> list:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
    return [(v["id"], v["impact"], [n["target"] for n in v["nodes"][:3]])
            for v in results.response["violations"]]


def _tab_to(page, selector: str, limit: int = 400) -> None:
    """Press Tab until ``selector`` has the focus (keyboard only; fails after ``limit``)."""
    for _ in range(limit):
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} not reached by Tab")


def _suggestions(page, input_id: str) -> list[str]:
    listid = page.get_attribute(f"#{input_id}", "list")
    assert listid, "the field has a suggestion list (JavaScript ran)"
    options = page.locator(f"datalist#{listid} option")
    options.first.wait_for(state="attached", timeout=15000)
    return options.evaluate_all("os => os.map(o => o.value)")


def test_vergelijken_by_name_keyboard_only(page, server):
    page.goto(server + "/vergelijken", wait_until="load")
    _tab_to(page, "#codes")
    page.keyboard.type("Den Haag, overv", delay=30)
    values = _suggestions(page, "codes")
    # a suggestion replaces the part after the last comma with 'Name (id)'
    assert values[0] == "Den Haag, Utrecht Overvecht (utrecht-overvecht)"
    page.keyboard.press("Control+A")
    page.keyboard.type(values[0] + ", ")
    _tab_to(page, "#j-2020")
    page.keyboard.press("Space")
    _tab_to(page, "#thema")
    page.keyboard.type("veiligheid")       # type-ahead in the closed select
    assert page.input_value("#thema") == "veiligheid"
    _tab_to(page, "form[action^='/vergelijken'] button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "thema=veiligheid" in page.url and "jaar=2020" in page.url
    head = page.locator("#cap-vergelijking").locator("xpath=..").locator("thead a")
    assert head.evaluate_all("as => as.map(a => a.getAttribute('href'))") == ["/gebied/GM0518",
                                                                             "/gebied/utrecht-overvecht"]
    # only indicators of the theme are on the page
    ids = page.locator("[id^=tabel-]").evaluate_all("es => es.map(e => e.id.slice(6))")
    veiligheid = {i["id"] for i in httpx.get(server + "/api/v1/indicators", timeout=60).json()
                  if i["theme"] == "veiligheid"}
    assert ids and set(ids) <= veiligheid
    assert _axe(page) == []


def test_vergelijkbare_gemeenten_keyboard_only(page, server):
    page.goto(server + "/vergelijkbare-gemeenten", wait_until="load")
    _tab_to(page, "#gemeente")
    page.keyboard.type("utrech", delay=30)
    values = _suggestions(page, "gemeente")
    # the field asks for a gemeente: only gemeenten are suggested (not 'Utrecht Overvecht')
    assert values and all(re.search(r"\(GM\d{4}\)$", v) for v in values), values
    pick = next(v for v in values if v.endswith("(GM0344)"))
    assert pick == "Utrecht (GM0344)"
    page.keyboard.press("Control+A")
    page.keyboard.type(pick)
    with page.expect_navigation():
        page.keyboard.press("Enter")            # Enter in the field submits the form
    assert page.locator("h1").inner_text() == "Vergelijkbare gemeenten: Utrecht"
    names = page.locator("#cap-groep").locator("xpath=..").locator("tbody th a").all_inner_texts()
    assert names[:3] == ["Utrecht", "Groningen", "Eindhoven"] and len(names) == 11
    # on to Vergelijken with the group, by keyboard
    _tab_to(page, "a[href^='/vergelijken?vergelijkbaar=GM0344']")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("#cap-vergelijking").count() == 1
    assert _axe(page) == []


def test_forms_work_without_javascript(browser, server):  # noqa: F811
    g = Guarded(browser, java_script_enabled=False, viewport={"width": 390, "height": 844})
    p = g.ctx.new_page()
    p.goto(server + "/vergelijkbare-gemeenten", wait_until="load")
    assert p.get_attribute("#gemeente", "list") is None
    p.fill("#gemeente", "Den Haag")
    with p.expect_navigation():
        p.press("#gemeente", "Enter")
    assert p.locator("h1").inner_text() == "Vergelijkbare gemeenten: 's-Gravenhage"
    p.goto(server + "/vergelijken", wait_until="load")
    p.fill("#vergelijkbaar", "Rotterdam")
    p.check("#j-2024")
    p.select_option("#thema", "gezondheid")
    with p.expect_navigation():
        p.click("form[action^='/vergelijken'] button[type=submit]")
    assert "Vergelijkbare gemeenten van Rotterdam" in p.content()
    g.close()


@pytest.mark.parametrize("name", sorted(NEW_PAGES))
def test_new_pages_axe_and_no_sideways_scrolling(page, server, name):
    resp = page.goto(server + NEW_PAGES[name], wait_until="load")
    assert resp.status == 200 and page.locator("h1").count() == 1
    sizes = page.evaluate("({sw: document.documentElement.scrollWidth, iw: window.innerWidth})")
    assert sizes["sw"] <= sizes["iw"], sizes
    assert _axe(page) == []
