"""Real-browser tests: Debian chromium driven by Playwright against ``wijkmonitor serve``.

Every page type renders, axe-core finds 0 WCAG 2.1 A/AA violations, a keyboard-only walk on
Vergelijken downloads a CSV equal to the API, and no request leaves 127.0.0.1. Screenshots
go to ``/tmp/wijkmonitor-screens``.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import httpx
import pandas as pd
import pytest

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--disable-background-networking", "--no-sandbox", "--disable-gpu",
        "--disable-component-update", "--disable-sync"]
SHOTS = Path("/tmp/wijkmonitor-screens")
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

PAGES = {
    "start": "/",
    "gebied-focus": "/gebied/utrecht-overvecht",
    "gebied-gemeente": "/gebied/GM0344",
    "gebied-wijk": "/gebied/WK034403",
    "gebied-buurt": "/gebied/BU03440343",
    "vergelijken": "/vergelijken?gebied=utrecht-overvecht&gebied=G4&jaar=2016&jaar=2020",
    "indicator": "/indicator/angst_depressie_pct",
    "indicator-buurt": "/indicator/angst_depressie_pct?niveau=buurt&gemeente=GM0344&jaar=2020",
    "indicatoren": "/indicatoren",
    "zoeken": "/zoeken?q=Overvecht",
    "over": "/over",
    "toegankelijkheid": "/toegankelijkheid",
    "bronnen": "/bronnen",
    "fout": "/gebied/XX0000",
}


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture()
def page(browser, server):
    """A page whose every request must go to 127.0.0.1 (others are aborted and recorded)."""
    ctx = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    outside: list[str] = []

    def guard(route):
        host = urlparse(route.request.url).hostname
        if host != "127.0.0.1":
            outside.append(route.request.url)
            return route.abort()
        return route.continue_()

    ctx.route("**/*", guard)
    pg = ctx.new_page()
    yield pg
    ctx.close()
    assert outside == [], f"requests left 127.0.0.1: {outside}"


@pytest.mark.parametrize("name", list(PAGES))
def test_page_renders_and_passes_axe(page, server, name):
    from axe_playwright_python.sync_playwright import Axe

    resp = page.goto(server + PAGES[name], wait_until="load")
    assert resp.status == (404 if name == "fout" else 200)
    assert page.locator("h1").count() == 1
    assert page.locator("html").get_attribute("lang") == "nl"
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
    violations = results.response["violations"]
    report = [(v["id"], v["impact"], [n["target"] for n in v["nodes"][:3]]) for v in violations]
    assert results.violations_count == 0, report


def test_api_docs_load_locally(page, server):
    page.goto(server + "/api/docs", wait_until="networkidle")
    page.get_by_text("/api/v1/values", exact=True).first.wait_for(timeout=20000)


def test_keyboard_walk_on_vergelijken_downloads_csv_equal_to_api(page, server):
    """Only the keyboard: tick two areas and two years, submit, download the CSV."""
    page.goto(server + "/vergelijken", wait_until="load")

    def tab_to(selector: str, limit: int = 400):
        target = page.locator(selector)
        for _ in range(limit):
            page.keyboard.press("Tab")
            if target.evaluate("el => el === document.activeElement"):
                return
        raise AssertionError(f"could not reach {selector} with Tab")

    for sel in ("#g-utrecht-overvecht", "#g-rotterdam-zuid", "#j-2016", "#j-2020"):
        tab_to(sel)
        page.keyboard.press("Space")
        assert page.locator(sel).is_checked()
    tab_to("button[type=submit]:has-text('Vergelijken')")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "gebied=utrecht-overvecht" in page.url and "jaar=2020" in page.url
    assert page.locator("#cap-vergelijking").is_visible()
    # focus outline is visible on a focused link (WCAG 2.4.7)
    tab_to("a[href*='formaat=csv']", limit=2000)
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    with page.expect_download() as dl:
        page.keyboard.press("Enter")
    csv = pd.read_csv(dl.value.path())
    assert set(csv["unit"]) == {"utrecht-overvecht", "rotterdam-zuid"}
    assert set(csv["period"]) == {2016, 2020}
    api = pd.DataFrame(httpx.get(server + "/api/v1/values", params=[
        ("unit", "utrecht-overvecht"), ("unit", "rotterdam-zuid"), ("period", 2016), ("period", 2020)]).json())
    merged = csv.merge(api, on=["unit", "indicator", "period"], suffixes=("", "_api"))
    ok = merged[merged["status"] == "ok"]
    assert len(ok) > 50
    assert (ok["value"] - ok["value_api"]).abs().max() < 1e-9
    assert csv.loc[csv["status"] != "ok", "value"].isna().all()


def test_readable_at_200_percent_zoom(browser, server):
    """At 640 px wide (1280 px at 200 %) the page does not scroll sideways."""
    ctx = browser.new_context(viewport={"width": 640, "height": 900})
    pg = ctx.new_page()
    try:
        for name in ("start", "gebied-focus", "vergelijken", "indicator"):
            pg.goto(server + PAGES[name], wait_until="load")
            width = pg.evaluate("document.documentElement.scrollWidth")
            assert width <= 641, (name, width)
            pg.screenshot(path=str(SHOTS / f"{name}-200pct.png"))
    finally:
        ctx.close()


