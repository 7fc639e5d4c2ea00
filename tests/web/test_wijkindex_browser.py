"""The Wijkindex map and the domain profile in a real browser (Debian chromium via Playwright).

The index map (/wijkindex/kaart) draws interactively under the site's CSP with the decile legend,
keeps its SVG without JavaScript, and passes axe-core (WCAG 2.1 A/AA, 0 violations) on a desktop
and a phone viewport; the profile on an area page (SVG bar chart + table) passes axe-core and
does not scroll sideways on a phone. The numbers shown are those of the JSON API.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest

from wijkmonitor.nlformat import nl_number

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--disable-background-networking", "--no-sandbox", "--disable-component-update", "--disable-sync",
        "--use-angle=swiftshader", "--enable-unsafe-swiftshader"]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "worker-src blob:; child-src blob:; connect-src 'self'; font-src 'self'; object-src 'none'; "
       "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
SHOTS = Path("/tmp/wijkmonitor-screens")
PHONE = dict(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True, device_scale_factor=2)
DESK = dict(viewport={"width": 1280, "height": 900})
MAP = "/wijkindex/kaart?niveau=buurt&jaar=2024&gemeente=GM0344"
AREA = "/gebied/WK034403"


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def warm(server):
    """Load the two pages once before the browser does: the first request reads the polygons
    and the index (the server answers 503 to a request that takes over 20 s, which a loaded test
    machine can reach); later requests are served from the caches."""
    for path in (MAP, AREA, "/api/v1/kaart/wijkindex/wijkindex?jaar=2024&niveau=buurt&gemeente=GM0344"):
        for _ in range(3):
            if _get(server + path).status_code == 200:
                break
    return server


class Ctx:
    """Requests only to 127.0.0.1, the site's CSP on every response, violations recorded."""

    def __init__(self, browser, **kw):
        self.ctx = browser.new_context(**kw)
        self.outside: list[str] = []
        self.ctx.route("**/*", self._route)
        self.ctx.add_init_script(
            "window.__csp = []; document.addEventListener('securitypolicyviolation', "
            "e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));")

    def _route(self, route):
        if urlparse(route.request.url).hostname != "127.0.0.1":
            self.outside.append(route.request.url)
            return route.abort()
        resp = route.fetch()
        return route.fulfill(response=resp, headers=dict(resp.headers) | {"content-security-policy": CSP})

    def close(self):
        self.ctx.unroute_all(behavior="ignoreErrors")
        self.ctx.close()
        assert self.outside == [], self.outside


def _get(url: str):
    """The JSON API (slow on a loaded machine: a generous timeout)."""
    return httpx.get(url, timeout=120)


def _axe(page):
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
    report = [(v["id"], v["impact"], [n["target"] for n in v["nodes"][:3]]) for v in results.response["violations"]]
    assert results.violations_count == 0, report


@pytest.mark.parametrize("device", ["desk", "phone"])
def test_index_map_draws_with_decile_legend_and_passes_axe(browser, warm, device):
    server = warm
    c = Ctx(browser, **(DESK if device == "desk" else PHONE))
    try:
        page = c.ctx.new_page()
        page.goto(server + MAP, wait_until="load")
        gj = _get(server + "/api/v1/kaart/wijkindex/wijkindex?jaar=2024&niveau=buurt&gemeente=GM0344").json()
        legend = page.locator("ul.wm-legend--map li")
        assert legend.count() == len(gj["wijkmonitor"]["legend"]) >= 10
        first = gj["wijkmonitor"]["legend"][0]
        assert legend.first.inner_text().strip() == f"1 (meeste achterstand) ({first['count']})"
        webgl = page.evaluate("(() => { const c = document.createElement('canvas'); "
                              "return !!(c.getContext('webgl2') || c.getContext('webgl')); })()")
        if webgl:
            page.wait_for_selector("[data-wm-kaart][data-wm-status=klaar]", timeout=60000)
            n = page.evaluate("window.wmKaarten[0].map.querySourceFeatures('regios').length")
            assert n > 5
        else:  # no WebGL here: the SVG map is what the reader gets
            assert page.locator(".wm-kaart-svg svg.wm-map").is_visible()
        if device == "phone":
            assert page.evaluate("document.documentElement.scrollWidth") <= 391
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / f"wijkindex-kaart-{device}.png"))
        _axe(page)
        assert page.evaluate("window.__csp") == []
    finally:
        c.close()


def test_index_map_without_javascript_keeps_the_svg(browser, warm):
    server = warm
    c = Ctx(browser, java_script_enabled=False, **DESK)
    try:
        page = c.ctx.new_page()
        page.goto(server + MAP, wait_until="load")
        svg = page.locator(".wm-kaart-svg svg.wm-map")
        assert svg.is_visible() and svg.locator("path").count() > 50
    finally:
        c.close()


@pytest.mark.parametrize("device", ["desk", "phone"])
def test_domain_profile_on_an_area_page(browser, warm, device):
    server = warm
    c = Ctx(browser, **(DESK if device == "desk" else PHONE))
    try:
        page = c.ctx.new_page()
        page.goto(server + AREA, wait_until="load")
        sec = page.locator("section:has(#wijkindex)")
        chart = sec.locator("svg.wm-wijkindex-profiel")
        assert chart.is_visible() and chart.get_attribute("role") == "img"
        assert chart.locator("rect").count() == 5
        table = sec.locator("table:has(#cap-wijkindex-profiel)")
        assert table.locator("tbody tr").count() == 5
        text = sec.inner_text()
        for dom in ("inkomen_werk", "gezondheid", "veiligheid", "wonen", "meedoen"):
            v = _get(f"{server}/api/v1/value/WK034403/wijkindex_{dom}/2024").json()
            assert nl_number(v["value"], 1) in table.inner_text(), dom
        idx = _get(f"{server}/api/v1/value/WK034403/wijkindex/2024").json()
        lo, hi = idx["rank_nl_interval"]
        assert f"rang {idx['rank_nl']} ({lo}-{hi})" in text and nl_number(idx["value"], 1) in text
        if device == "phone":
            assert page.evaluate("document.documentElement.scrollWidth") <= 391
        sec.scroll_into_view_if_needed()
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / f"wijkindex-profiel-{device}.png"))
        _axe(page)
    finally:
        c.close()
