"""Real-browser tests: Debian chromium driven by Playwright against ``wijkmonitor serve``.

Every page type renders real data (checked against the JSON API), axe-core finds 0 WCAG 2.1
A/AA violations, a keyboard-only walk on Vergelijken downloads a CSV equal to the API, no
request leaves 127.0.0.1, nothing scrolls sideways at 200 % zoom, and a gemeente's house style
is applied. Screenshots go to ``/tmp/wijkmonitor-screens``.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pandas as pd
import pytest

from wijkmonitor.web.format import nl_value

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
    "wijkindex": "/wijkindex?niveau=buurt&jaar=2024&gemeente=GM0344",
    "signalen": "/signalen?niveau=wijk&gemeente=GM0344",
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


class Guarded:
    """A browser context whose every request must go to 127.0.0.1 (others are aborted and
    recorded; :meth:`close` fails the test if there were any)."""

    def __init__(self, browser, **kw):
        self.ctx = browser.new_context(**kw)
        self.outside: list[str] = []
        self.local = 0
        self.ctx.route("**/*", self._guard)

    def _guard(self, route):
        if urlparse(route.request.url).hostname != "127.0.0.1":
            self.outside.append(route.request.url)
            return route.abort()
        self.local += 1
        return route.continue_()

    def close(self):
        self.ctx.close()
        assert self.outside == [], f"requests left 127.0.0.1: {self.outside}"
        assert self.local > 0


@pytest.fixture()
def page(browser, server):
    g = Guarded(browser, accept_downloads=True, viewport={"width": 1280, "height": 900})
    yield g.ctx.new_page()
    g.close()


def _api(server, path, **params):
    r = httpx.get(server + path, params=params, timeout=60)
    r.raise_for_status()
    return r.json()


def _first_ok_value(server, unit: str, indicator: str) -> dict:
    rows = [r for r in _api(server, "/api/v1/values", unit=unit, indicator=indicator) if r["status"] == "ok"]
    assert rows, (unit, indicator)
    return rows[-1]


def check_real_data(page, server, name: str) -> None:
    """What each page type must show of the real data, compared with the API."""
    text = page.inner_text("main")
    if name == "start":
        rows = _api(server, "/api/v1/outcome", programme="nplv", baseline=2012, latest=2024)
        for r in rows:
            assert r["name"] in text, r["name"]
        assert page.locator("#cap-outcome").is_visible()
    elif name.startswith("gebied-"):
        unit = PAGES[name].rsplit("/", 1)[1]
        v = _first_ok_value(server, unit, "ervaren_gezondheid_pct")
        cell = nl_value(v["value"], 1, "%")
        table = page.locator(f"#ind-ervaren_gezondheid_pct tr:has(th:text-is('{v['period']}'))").first
        assert cell in table.inner_text(), (name, v)
        assert page.locator("#cap-overzicht").is_visible()
        assert page.locator("nav[aria-label='Kruimelpad'] a").count() >= 1
    elif name == "vergelijken":
        csv_rows = _api(server, "/api/v1/values", unit=["utrecht-overvecht", "G4"], period=[2016, 2020])
        ok = [r for r in csv_rows if r["status"] == "ok" and r["indicator"] == "eenzaam_pct"]
        assert len(ok) == 4
        for r in ok:
            assert nl_value(r["value"], 1, "%") in text
    elif name.startswith("indicator-") or name == "indicator":
        level = "buurt" if name == "indicator-buurt" else "gemeente"
        params = dict(indicator="angst_depressie_pct", period=2020, level=level)
        if level == "buurt":
            params["gemeente"] = "GM0344"
        rows = _api(server, "/api/v1/region-values", **params)
        assert page.locator("table:has(#cap-regios) tbody tr").count() == len(rows)
        assert page.locator("svg.wm-map path").count() > 50
        assert page.locator("#legenda").is_visible()
    elif name == "indicatoren":
        inds = _api(server, "/api/v1/indicators")
        assert page.locator("main a[href^='/indicator/']").count() == len(inds) > 40
    elif name == "zoeken":
        assert "WK034403" in text and "Poldergebied Overvecht" in text and "NPLV-focusgebied" in text
        assert page.locator("table tbody tr").count() >= 3
    elif name == "bronnen":
        assert page.locator("table:has(#cap-bronnen) tbody tr").count() == len(_api(server, "/api/v1/sources"))
        assert "Bron: CBS" in text
    elif name == "over":
        assert re.search(r"Gegevens bijgewerkt: \d{1,2} [a-z]+ \d{4}", text)
    elif name == "toegankelijkheid":
        assert "WCAG 2.1" in text
    elif name == "wijkindex":
        n = page.locator("table:has(#cap-selectie) tbody tr").count()
        v = _api(server, f"/api/v1/value/{page.locator('table:has(#cap-selectie) tbody tr th a').first.get_attribute('href').rsplit('/', 1)[1]}/wijkindex/2024")
        assert n > 0 and v["decile"] == 1 and "90%-interval" in text
    elif name == "signalen":
        # the statement that it is no verdict, the test figures, and Utrecht's wijken with links
        assert "geen oordeel" in text and "AUC" in text
        assert page.locator('a[href="/gebied/WK034403"]').count() == 1
    elif name == "fout":
        assert "XX0000" in text


@pytest.mark.parametrize("name", list(PAGES))
def test_page_renders_and_passes_axe(page, server, name):
    from axe_playwright_python.sync_playwright import Axe

    resp = page.goto(server + PAGES[name], wait_until="load")
    assert resp.status == (404 if name == "fout" else 200)
    assert page.locator("h1").count() == 1
    assert page.locator("html").get_attribute("lang") == "nl"
    check_real_data(page, server, name)
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
    violations = results.response["violations"]
    report = [(v["id"], v["impact"], [n["target"] for n in v["nodes"][:3]]) for v in violations]
    assert results.violations_count == 0, report


def test_every_page_type_is_reachable_from_the_start_page(page, server):
    """Follow links (as a user would) from the start page to one page of every type."""
    page.goto(server + "/", wait_until="load")
    hrefs = set(page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))"))
    # one hop more from the first gebied and indicator pages reached
    found = {h for h in hrefs if h.startswith("/")}
    for first in ("/gebied/utrecht-overvecht", "/indicatoren"):
        assert first in found, first
        page.goto(server + first, wait_until="load")
        found |= set(page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))"))
    wanted = {"gemeente": r"^/gebied/GM\d{4}$", "wijk": r"^/gebied/WK\d{6}$", "buurt": r"^/gebied/BU\d{8}$",
              "gebied": r"^/gebied/[a-z-]+$", "indicator": r"^/indicator/\w+$", "vergelijken": r"^/vergelijken",
              "zoeken": r"^/zoeken", "bronnen": r"^/bronnen$", "over": r"^/over$",
              "toegankelijkheid": r"^/toegankelijkheid$", "api": r"^/api/docs$"}
    for kind, rx in wanted.items():
        assert any(re.match(rx, h or "") for h in found), kind


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
    tab_to("a[href$='formaat=csv']", limit=2000)  # the Dutch CSV (csv-en is the other link)
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    with page.expect_download() as dl:
        page.keyboard.press("Enter")
    # the default CSV is the Dutch one (';', decimal comma, BOM, Dutch headers)
    csv = pd.read_csv(dl.value.path(), sep=";", decimal=",", encoding="utf-8-sig").rename(columns={
        "gebied": "unit", "jaar": "period", "waarde": "value"})
    assert set(csv["unit"]) == {"utrecht-overvecht", "rotterdam-zuid"}
    assert set(csv["period"]) == {2016, 2020}
    api = pd.DataFrame(httpx.get(server + "/api/v1/values", params=[
        ("unit", "utrecht-overvecht"), ("unit", "rotterdam-zuid"), ("period", 2016), ("period", 2020)]).json())
    merged = csv.merge(api, on=["unit", "indicator", "period"], how="left", suffixes=("", "_api"))
    ok = merged[merged["status"] == "ok"]
    assert len(ok) > 50
    assert (ok["value"] - ok["value_api"]).abs().max() < 1e-9
    assert (ok["status_api"] == "ok").all()
    assert csv.loc[csv["status"] != "ok", "value"].isna().all()
    # the page shows the same numbers (Dutch notation) as the file
    shown = page.inner_text("table:has(#cap-vergelijking)")
    for r in ok[ok["indicator"] == "eenzaam_pct"].itertuples():
        assert nl_value(r.value, 1, "%") in shown


@pytest.mark.parametrize("name", [n for n in PAGES if n != "fout"])
def test_readable_at_200_percent_zoom(browser, server, name):
    """At 200 % zoom of a 1280 px window (640 CSS px) the page does not scroll sideways; wide
    data tables scroll inside their own labelled region instead."""
    g = Guarded(browser, viewport={"width": 640, "height": 900})
    pg = g.ctx.new_page()
    try:
        pg.goto(server + PAGES[name], wait_until="load")
        width = pg.evaluate("document.documentElement.scrollWidth")
        assert width <= 641, (name, width)
        # the h1 and the main navigation are fully visible
        assert pg.evaluate("document.querySelector('h1').getBoundingClientRect().right") <= 640
        assert pg.evaluate("Math.max(...[...document.querySelectorAll('.wm-nav a')]"
                           ".map(a => a.getBoundingClientRect().right))") <= 640
        SHOTS.mkdir(exist_ok=True)
        pg.screenshot(path=str(SHOTS / f"{name}-200pct.png"))
    finally:
        g.close()


def test_house_style_of_a_gemeente_is_applied(browser, themed_server):
    """``WIJKMONITOR_THEME_CSS`` changes the look (header colour) in a real browser, and the
    themed page still passes axe."""
    from axe_playwright_python.sync_playwright import Axe

    g = Guarded(browser, viewport={"width": 1280, "height": 900})
    pg = g.ctx.new_page()
    try:
        pg.goto(themed_server + "/", wait_until="load")
        bg = pg.evaluate("getComputedStyle(document.querySelector('.wm-header')).backgroundColor")
        assert bg == "rgb(138, 0, 33)", bg
        assert "gemeente-theme" in pg.evaluate("document.body.className")
        results = Axe().run(pg, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
        assert results.violations_count == 0, [v["id"] for v in results.response["violations"]]
    finally:
        g.close()
