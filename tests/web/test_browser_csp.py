"""The Content-Security-Policy in a real browser (Debian chromium, Playwright): every page type
of the site, /api/docs and the beheer pages (logged in, with a target, an intervention and an
upload in the editable store) load without one CSP violation, and the pages still work
(swagger-ui renders the operations; the login form logs in).

A violation is seen in two ways: a ``securitypolicyviolation`` event (listened for by an init
script, which CSP does not govern) and a console message "Refused to ...". The listener is
shown to work on a page with an inline script and a ``style`` attribute added on the way in.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .test_browser import PAGES
from .test_browser_beheer import PASSWORD, beheer_server  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--disable-background-networking", "--no-sandbox", "--disable-gpu",
        "--disable-component-update", "--disable-sync"]
LISTEN = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e => {
  window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline'));
});
"""


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


class Watched:
    """A page that records CSP violations (events and console) and requests leaving 127.0.0.1."""

    def __init__(self, browser):
        self.ctx = browser.new_context(viewport={"width": 1280, "height": 900})
        self.ctx.add_init_script(LISTEN)
        self.page = self.ctx.new_page()
        self.console: list[str] = []
        self.page.on("console", lambda m: self.console.append(m.text))

    def visit(self, url: str) -> list[str]:
        self.page.goto(url, wait_until="networkidle")
        return self.violations()

    def violations(self) -> list[str]:
        events = self.page.evaluate("window.__csp || []")
        refused = [t for t in self.console if "Refused to" in t or "Content Security Policy" in t]
        return events + refused

    def close(self):
        self.ctx.close()


def test_the_listener_sees_violations(browser, server):
    """Control: inline code added to a real page (with the server's CSP header) is reported."""
    w = Watched(browser)

    def inject(route):
        resp = route.fetch()
        body = resp.text().replace("</main>", '<div style="color:red">x</div>'
                                   "<script>window.inlineRan = true</script></main>")
        route.fulfill(response=resp, body=body)

    w.page.route("**/over", inject)
    seen = w.visit(server + "/over")
    assert any(v.startswith("script-src") for v in seen), seen
    assert any(v.startswith("style-src") for v in seen), seen
    assert w.page.evaluate("window.inlineRan === undefined")
    w.close()


@pytest.mark.parametrize("name", list(PAGES) + ["api-docs"])
def test_no_csp_violation_on_public_pages(browser, server, name):
    url = "/api/docs" if name == "api-docs" else PAGES[name]
    w = Watched(browser)
    seen = w.visit(server + url)
    if name == "api-docs":  # swagger-ui started by /static/api-docs.js and rendered the API
        w.page.wait_for_selector(".opblock", timeout=30_000)
        assert w.page.locator(".opblock").count() >= 10
        seen = w.violations()
    assert seen == [], (url, seen)
    w.close()


def test_no_csp_violation_on_beheer_pages(browser, beheer_server):  # noqa: F811
    base, target_id = beheer_server
    w = Watched(browser)
    assert w.visit(base + "/beheer/inloggen") == []
    form = "form[action='/beheer/inloggen']"
    w.page.fill(f"{form} [name=gebruikersnaam]", "utrecht")
    w.page.fill(f"{form} [name=wachtwoord]", PASSWORD)
    w.page.click(f"{form} button[type=submit]")
    w.page.wait_for_load_state("networkidle")
    assert "/beheer/" in w.page.url and "inloggen" not in w.page.url
    for path in ("/beheer/", "/beheer/streefwaarden", "/beheer/streefwaarden/nieuw",
                 f"/beheer/streefwaarden/{target_id}/wijzigen", "/beheer/interventies",
                 "/beheer/interventies/nieuw", "/beheer/lokale-gegevens", "/beheer/auditlog",
                 "/gebied/utrecht-overvecht"):
        seen = w.visit(base + path)
        assert seen == [], (path, seen)
    w.close()
