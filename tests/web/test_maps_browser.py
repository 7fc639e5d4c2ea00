"""Interactive maps in a real browser (Debian chromium via Playwright, WebGL by SwiftShader).

Every page is served with the strict Content-Security-Policy the site is meant to send (no
inline script or style, our own origin only, ``worker-src blob:``), added to each response by
the test, and a CSP violation fails the test. Flows: click a region -> its page; keyboard: Tab
into the table under the map -> the region is highlighted, Enter -> its page; touch on a phone
viewport (390 x 844): a tap shows the tooltip with a link and does not navigate. axe-core finds
0 WCAG 2.1 A/AA violations with the interactive map drawn. Without JavaScript the SVG map stays.
Area pages (/gebied/...) load the interactive map on request (page-weight budget): the flows
there first press the button "Interactieve kaart tonen".

Where headless chromium has no WebGL at all, the interaction tests are skipped (saying so) and
only the fallback tests run.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
#: SwiftShader gives headless chromium a software WebGL.
ARGS = ["--disable-background-networking", "--no-sandbox", "--disable-component-update", "--disable-sync",
        "--use-angle=swiftshader", "--enable-unsafe-swiftshader"]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "worker-src blob:; child-src blob:; connect-src 'self'; font-src 'self'; object-src 'none'; "
       "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
SHOTS = Path("/tmp/wijkmonitor-screens")

AMSTERDAM_BUURT = "/indicator/eengezinswoningen_pct?niveau=buurt&gemeente=GM0363&jaar=2024"
MAP_PAGES = {
    "amsterdam-buurten": AMSTERDAM_BUURT,
    "leefbaarometer-rotterdam": "/indicator/leefbaarometer_klasse?niveau=wijk&gemeente=GM0599&jaar=2016",
    "gebied-wijk": "/gebied/WK034403",
    "gebied-focus": "/gebied/utrecht-overvecht",
}
#: JS (a function: Playwright's string predicates need eval, which the CSP forbids)
ACTIVE = "(code) => document.querySelector('[data-wm-kaart]').dataset.wmActief === code"
PHONE = dict(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True, device_scale_factor=2)

#: JS: a point on the first map where a region is drawn (page coordinates) and its code.
FIND_REGION = """(skip) => {
  const k = window.wmKaarten[0], m = k.map, c = m.getCanvas();
  const w = c.clientWidth, h = c.clientHeight, r = c.getBoundingClientRect();
  for (let y = Math.round(h * 0.35); y < h * 0.9; y += 9) {
    for (let x = Math.round(w * 0.25); x < w * 0.75; x += 9) {
      const f = m.queryRenderedFeatures([x, y], {layers: ['regio-vlak', 'regio-geen']});
      if (f.length && !skip.includes(f[0].properties.code)) {
        // the point must be inside the region with some margin (all four neighbours too)
        const same = [[6, 0], [-6, 0], [0, 6], [0, -6]].every(([dx, dy]) => {
          const g = m.queryRenderedFeatures([x + dx, y + dy], {layers: ['regio-vlak', 'regio-geen']});
          return g.length && g[0].properties.code === f[0].properties.code;
        });
        if (same) return {x: r.left + x, y: r.top + y, code: f[0].properties.code, name: f[0].properties.name};
      }
    }
  }
  return null;
}"""


@pytest.fixture(scope="module")
def playwright():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright):
    b = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
    yield b
    b.close()


class CspContext:
    """A browser context that sends every request to 127.0.0.1 only and adds the site's CSP
    header to every response; CSP violations are collected per page."""

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
        headers = dict(resp.headers)
        headers["content-security-policy"] = CSP
        return route.fulfill(response=resp, headers=headers)

    def page(self):
        return self.ctx.new_page()

    def close(self):
        # requests still in flight (e.g. the preloaded GeoJSON on a page without JavaScript)
        # must not fail the test when the context goes away
        self.ctx.unroute_all(behavior="ignoreErrors")
        self.ctx.close()
        assert self.outside == [], f"requests left 127.0.0.1: {self.outside}"


def _webgl(page) -> bool:
    return page.evaluate("(() => { const c = document.createElement('canvas'); "
                         "return !!(c.getContext('webgl2') || c.getContext('webgl')); })()")


BUTTON = "Interactieve kaart tonen"


def _open_map(page, server, path):
    page.goto(server + path, wait_until="load")
    if not _webgl(page):
        pytest.skip("headless chromium has no WebGL here (SwiftShader unavailable): "
                    "only the SVG fallback is tested")
    if urlparse(path).path.startswith("/gebied/"):
        # area pages load the interactive map on request
        page.get_by_role("button", name=BUTTON).click()
    page.wait_for_selector("[data-wm-kaart][data-wm-status=klaar]", timeout=60000)
    assert page.evaluate("window.__csp") == [], page.evaluate("window.__csp")


def _region_point(page, skip=()):
    page.locator("[data-wm-kaart]").first.scroll_into_view_if_needed()
    pt = page.evaluate(FIND_REGION, list(skip))
    assert pt, "no region drawn on the map"
    return pt


@pytest.fixture()
def desk(browser):
    c = CspContext(browser, viewport={"width": 1280, "height": 900})
    yield c.page()
    c.close()


@pytest.fixture()
def phone(browser):
    c = CspContext(browser, **PHONE)
    yield c.page()
    c.close()


@pytest.mark.parametrize("name", list(MAP_PAGES))
def test_interactive_map_draws_under_csp_and_passes_axe(desk, server, name):
    from axe_playwright_python.sync_playwright import Axe

    _open_map(desk, server, MAP_PAGES[name])
    # the interactive map replaced the SVG (which is still in the page, hidden)
    assert desk.locator(".wm-kaart .maplibregl-canvas").is_visible()
    assert not desk.locator(".wm-kaart-svg svg.wm-map").is_visible()
    assert desk.locator(".wm-kaart-svg svg.wm-map").count() == 1
    # the boundaries are stated on the map
    assert "Grenzen" in desk.locator(".wm-kaart__noot").inner_text()
    n = desk.evaluate("window.wmKaarten[0].map.querySourceFeatures('regios').length")
    assert n > 5
    SHOTS.mkdir(exist_ok=True)
    desk.screenshot(path=str(SHOTS / f"kaart-{name}.png"))
    results = Axe().run(desk, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
    report = [(v["id"], v["impact"], [x["target"] for x in v["nodes"][:3]]) for v in results.response["violations"]]
    assert results.violations_count == 0, report
    assert desk.evaluate("window.__csp") == []


def test_amsterdam_buurt_map_states_its_boundaries(desk, server):
    _open_map(desk, server, AMSTERDAM_BUURT)
    note = desk.locator(".wm-kaart__noot").inner_text()
    assert "gemeente Amsterdam" in note and "omzettabel" in note
    codes = desk.evaluate("Object.keys(window.wmKaarten[0].byCode)")
    assert len(codes) > 400 and all(re.fullmatch(r"BU0363[A-Z]{2}\d{2}", c) for c in codes)


def test_click_a_region_opens_its_page(desk, server):
    _open_map(desk, server, AMSTERDAM_BUURT)
    pt = _region_point(desk)
    desk.mouse.move(pt["x"], pt["y"])
    # hover: tooltip with the name, region highlighted
    desk.wait_for_selector(".wm-kaart__popup .wm-kaart__tip")
    assert pt["name"] in desk.locator(".wm-kaart__tip").inner_text()
    assert desk.locator("[data-wm-kaart]").get_attribute("data-wm-actief") == pt["code"]
    with desk.expect_navigation():
        desk.mouse.click(pt["x"], pt["y"])
    assert urlparse(desk.url).path == f"/gebied/{pt['code']}"
    assert desk.locator("h1").inner_text().strip() == pt["name"]


def test_zoom_buttons_and_keyboard_zoom(desk, server):
    _open_map(desk, server, AMSTERDAM_BUURT)
    z0 = desk.evaluate("window.wmKaarten[0].map.getZoom()")
    desk.get_by_role("button", name="Inzoomen").click()
    desk.wait_for_function("(z) => window.wmKaarten[0].map.getZoom() > z + 0.5", arg=z0)
    z1 = desk.evaluate("window.wmKaarten[0].map.getZoom()")
    desk.locator(".wm-kaart canvas").focus()
    desk.keyboard.press("Minus")
    desk.wait_for_function("(z) => window.wmKaarten[0].map.getZoom() < z - 0.5", arg=z1)
    c0 = desk.evaluate("window.wmKaarten[0].map.getCenter().lng")
    desk.keyboard.press("ArrowRight")
    desk.wait_for_function("(c) => window.wmKaarten[0].map.getCenter().lng > c", arg=c0)


def test_keyboard_reaches_regions_through_the_table(desk, server):
    """Tab (only the keyboard) to a row of the table under the map: its region is highlighted
    and its tooltip shown; Enter opens its page."""
    _open_map(desk, server, AMSTERDAM_BUURT)
    on_map = set(desk.evaluate("Object.keys(window.wmKaarten[0].byCode)"))
    for _ in range(600):
        desk.keyboard.press("Tab")
        href = desk.evaluate("document.activeElement.closest('#tabel-regios') ? "
                             "document.activeElement.getAttribute('href') : null")
        if href and href.removeprefix("/gebied/") in on_map:
            break
    else:
        raise AssertionError("could not reach a region of the map in the table with Tab")
    code = href.removeprefix("/gebied/")
    desk.wait_for_function(ACTIVE, arg=code)
    tip = desk.locator(".wm-kaart__tip").inner_text()
    assert desk.evaluate("document.activeElement.textContent.trim()") in tip
    state = desk.evaluate(f"window.wmKaarten[0].map.getFeatureState({{source: 'regios', id: '{code}'}})")
    assert state.get("actief") is True
    # the next row moves the highlight
    desk.keyboard.press("Tab")
    href2 = desk.evaluate("document.activeElement.getAttribute('href')")
    if href2 and href2.removeprefix("/gebied/") in on_map:
        desk.wait_for_function(ACTIVE, arg=href2.removeprefix("/gebied/"))
        assert desk.evaluate(f"window.wmKaarten[0].map.getFeatureState({{source: 'regios', id: '{code}'}})"
                             ).get("actief") is False
    desk.keyboard.press("Shift+Tab")
    with desk.expect_navigation():
        desk.keyboard.press("Enter")
    assert urlparse(desk.url).path == f"/gebied/{code}"


def test_keyboard_list_on_the_locator_map(desk, server):
    """A gebied page's map has no table of its own: the script adds a list of its regions."""
    _open_map(desk, server, "/gebied/WK034403")
    summary = desk.locator(".wm-kaart__lijst summary")
    summary.focus()
    desk.keyboard.press("Enter")
    link = desk.locator(".wm-kaart__lijst a").first
    link.focus()
    code = link.get_attribute("href").removeprefix("/gebied/")
    desk.wait_for_function(ACTIVE, arg=code)
    assert "(dit gebied)" in link.inner_text() and code == "WK034403"


@pytest.mark.parametrize("path", [AMSTERDAM_BUURT, "/gebied/WK034403"])
def test_tap_shows_the_tooltip_on_a_phone(phone, server, path):
    from axe_playwright_python.sync_playwright import Axe

    _open_map(phone, server, path)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 391
    pt = _region_point(phone)
    before = phone.url
    phone.touchscreen.tap(pt["x"], pt["y"])
    tip = phone.locator(".wm-kaart__popup .wm-kaart__tip")
    tip.wait_for()
    assert pt["name"] in tip.inner_text()
    link = tip.get_by_role("link", name=f"Open de pagina van {pt['name']}")
    assert link.is_visible()
    phone.wait_for_timeout(700)  # a synthetic click after the tap must not navigate
    assert phone.url == before
    assert phone.locator("[data-wm-kaart]").get_attribute("data-wm-actief") == pt["code"]
    SHOTS.mkdir(exist_ok=True)
    phone.screenshot(path=str(SHOTS / f"kaart-telefoon-{pt['code']}.png"))
    results = Axe().run(phone, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
    assert results.violations_count == 0, [v["id"] for v in results.response["violations"]]
    # the link in the tooltip opens the page
    box = link.bounding_box()
    with phone.expect_navigation():
        phone.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    assert urlparse(phone.url).path == f"/gebied/{pt['code']}"
    assert phone.evaluate("window.__csp") == []


@pytest.mark.parametrize("path", ["/gebied/WK034403", "/gebied/utrecht-overvecht"])
def test_area_page_loads_the_interactive_map_on_request(desk, server, path):
    """No MapLibre script and no GeoJSON (neither requested nor preloaded) until the visitor
    presses the button (here with the keyboard); then the map is drawn."""
    requests: list[str] = []
    desk.on("request", lambda r: requests.append(urlparse(r.url).path))
    desk.goto(server + path, wait_until="load")
    if not _webgl(desk):
        pytest.skip("headless chromium has no WebGL here (SwiftShader unavailable)")
    desk.wait_for_timeout(500)
    assert desk.locator("script[src*='maplibre-gl.js'], link[rel=preload]").count() == 0
    assert not [u for u in requests if "maplibre-gl.js" in u or u.startswith("/api/v1/kaart")], requests
    assert desk.locator(".wm-kaart-svg svg.wm-map").is_visible()
    assert desk.locator("[data-wm-status=klaar]").count() == 0
    button = desk.get_by_role("button", name=BUTTON)
    assert button.count() == 1 and button.evaluate("b => b.tagName") == "BUTTON"
    button.focus()
    desk.keyboard.press("Enter")
    desk.wait_for_selector("[data-wm-kaart][data-wm-status=klaar]", timeout=60000)
    assert [u for u in requests if u.endswith("/static/vendor/maplibre-gl/maplibre-gl.js")]
    assert [u for u in requests if u.startswith("/api/v1/kaart")]
    assert desk.locator(".wm-kaart .maplibregl-canvas").is_visible()
    assert not desk.locator(".wm-kaart-svg svg.wm-map").is_visible()
    assert button.count() == 0
    assert desk.evaluate("window.wmKaarten[0].map.querySourceFeatures('regios').length") > 5
    assert desk.evaluate("window.__csp") == []


@pytest.mark.parametrize("path", [AMSTERDAM_BUURT, "/gebied/WK034403"])
def test_without_javascript_the_svg_map_stays(browser, server, path):
    c = CspContext(browser, viewport={"width": 1280, "height": 900}, java_script_enabled=False)
    try:
        pg = c.page()
        pg.goto(server + path, wait_until="load")
        assert pg.locator(".wm-kaart-svg svg.wm-map").is_visible()
        assert pg.locator(".wm-kaart-svg svg.wm-map path").count() >= 5
        assert not pg.locator("[data-wm-kaart]").is_visible()
        assert pg.get_by_role("button", name=BUTTON).count() == 0  # nothing to press without JS
    finally:
        c.close()


def test_svg_map_is_not_painted_while_the_map_loads(browser, server):
    """With scripting on, the SVG map under a map drawn at once is not painted while MapLibre
    starts (kaart.css: painting its paths held up the WebGL start, benchmarks/README.md); once
    the interactive map is drawn the SVG is out of the layout."""
    c = CspContext(browser, viewport={"width": 1280, "height": 900})
    c.ctx.add_init_script(
        "document.addEventListener('DOMContentLoaded', () => { const s = document.querySelector("
        "'.wm-kaart-svg svg.wm-map'); window.__svgBijStart = s ? getComputedStyle(s).visibility : null; });")
    try:
        pg = c.page()
        _open_map(pg, server, AMSTERDAM_BUURT)
        assert pg.evaluate("window.__svgBijStart") == "hidden"
        assert not pg.locator(".wm-kaart-svg svg.wm-map").is_visible()
        assert pg.locator(".wm-kaart .maplibregl-canvas").is_visible()
    finally:
        c.close()


@pytest.mark.parametrize("blocked", ["**/maplibre-gl.js", "**/static/kaart.js"])
def test_svg_map_shows_when_a_map_script_does_not_load(browser, server, blocked):
    """Without MapLibre the script shows the SVG map at once (.wm-kaart-mis); without the map
    script itself, kaart.css shows it after 4 s."""
    c = CspContext(browser, viewport={"width": 1280, "height": 900})
    c.ctx.route(blocked, lambda route: route.abort())
    try:
        pg = c.page()
        pg.goto(server + AMSTERDAM_BUURT, wait_until="load")
        svg = pg.locator(".wm-kaart-svg svg.wm-map")
        if "maplibre" in blocked:
            pg.wait_for_selector("figure.wm-kaart-mis", state="attached", timeout=10000)
            assert svg.is_visible()
        else:
            svg.wait_for(state="visible", timeout=15000)
        assert not pg.locator("[data-wm-kaart]").is_visible()
        assert pg.locator("#tabel-regios tbody tr").count() == 517
    finally:
        c.close()


def test_without_webgl_the_svg_map_stays(playwright, server):
    """Chromium with WebGL switched off: the script leaves the SVG map and the table; an area
    page offers no button (the interactive map could not be drawn) and loads no MapLibre."""
    b = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                   args=["--no-sandbox", "--disable-webgl", "--disable-3d-apis"])
    try:
        c = CspContext(b, viewport={"width": 1280, "height": 900})
        pg = c.page()
        pg.goto(server + AMSTERDAM_BUURT, wait_until="load")
        assert not _webgl(pg)
        pg.wait_for_timeout(500)
        assert pg.locator(".wm-kaart-svg svg.wm-map").is_visible()
        assert not pg.locator("[data-wm-kaart]").is_visible()
        assert pg.locator("#tabel-regios tbody tr").count() == 517
        assert pg.evaluate("window.__csp") == []
        requests: list[str] = []
        pg.on("request", lambda r: requests.append(urlparse(r.url).path))
        pg.goto(server + "/gebied/WK034403", wait_until="load")
        pg.wait_for_timeout(500)
        assert pg.locator(".wm-kaart-svg svg.wm-map").is_visible()
        assert pg.get_by_role("button", name=BUTTON).count() == 0
        assert not [u for u in requests if "maplibre-gl.js" in u or u.startswith("/api/v1/kaart")], requests
        assert pg.evaluate("window.__csp") == []
        c.close()
    finally:
        b.close()
