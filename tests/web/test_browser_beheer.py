"""Real-browser tests of the beheer pages: Debian chromium driven by Playwright against
``wijkmonitor serve`` with its own editable store (SQLite, migrated by the server on start).

Every /beheer page (login, overview, streefwaarden with list, new and edit forms, the form with
errors, interventies, lokale gegevens with a rejected upload, auditlog) and the area page with
its streefwaarden, interventions and local values: one h1, lang="nl", and axe-core finds 0
WCAG 2.1 A/AA violations. Log-in, saving a target and a rejected upload are done in the browser
itself (keyboard for the login). No request leaves 127.0.0.1. Screenshots go to
``/tmp/wijkmonitor-screens``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--disable-background-networking", "--no-sandbox", "--disable-gpu",
        "--disable-component-update", "--disable-sync"]
SHOTS = Path("/tmp/wijkmonitor-screens")
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def beheer_server(real_store, tmp_path_factory):
    """``http://127.0.0.1:<port>``: ``wijkmonitor serve`` on the real store with an editable
    store holding an editor of Utrecht, a programme account, a target, an intervention and an
    upload; yields ``(base_url, target_id)``."""
    from wijkmonitor.local import accounts, db, interventions, targets, uploads
    from wijkmonitor.local.permissions import SystemActor

    tmp = tmp_path_factory.mktemp("beheer-server")
    url = f"sqlite:///{tmp / 'edit.sqlite'}"
    db.upgrade(url)
    with db.session_scope(url) as s:
        sysop = SystemActor()
        accounts.create_user(s, sysop, "utrecht", "gemeente-editor", PASSWORD, gemeente="GM0344")
        accounts.create_user(s, sysop, "programma", "programme", PASSWORD)
    with db.session_scope(url) as s:
        ed = accounts.get_user(s, "utrecht")
        target_id = targets.set_target(s, ed, "utrecht-overvecht", "eenzaam_pct", target_value=40,
                                       target_year=2030, baseline_year=2012,
                                       milestones={2026: 47.0}, reason="NPLV-doel").id
        interventions.save_intervention(
            s, ed, title="Buurtteam Overvecht", actielijn="Gezondheid", status="lopend",
            organisation_type="gemeente", organisation="Gemeente Utrecht",
            budget_eur="250000.00", areas=["utrecht-overvecht"], indicators=["eenzaam_pct"],
            evaluation_links=["https://example.org/evaluatie"])
        uploads.upload(s, ed, b"region;indicator;year;value\nutrecht-overvecht;eenzaam_pct;2023;51,5\n"
                              b"BU03440311;eenzaam_pct;2023;.\n", "eigen.csv", "GM0344",
                       source="Gemeente Utrecht, Volksgezondheidsmonitor 2023")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = tmp / "uvicorn.log"
    env = dict(os.environ, WIJKMONITOR_STORE=str(real_store), WIJKMONITOR_DATABASE_URL=url,
               WIJKMONITOR_SECRET_KEY="browser-test-" + "k" * 40)
    with open(log, "wb") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "wijkmonitor", "serve", "--host",
                                 "127.0.0.1", "--port", str(port), "--store", str(real_store)],
                                stdout=fh, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(base + "/beheer/inloggen", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                pytest.fail(f"server stopped: {log.read_text()}")
            time.sleep(0.2)
        else:
            pytest.fail(f"server did not start: {log.read_text()}")
        yield base, target_id
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


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
def page(browser):
    """A page whose every request must go to 127.0.0.1 (others are aborted and recorded)."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    outside: list[str] = []

    def guard(route):
        if urlparse(route.request.url).hostname != "127.0.0.1":
            outside.append(route.request.url)
            return route.abort()
        return route.continue_()

    ctx.route("**/*", guard)
    pg = ctx.new_page()
    yield pg
    ctx.close()
    assert outside == [], f"requests left 127.0.0.1: {outside}"


def check(page, name: str) -> None:
    """One h1, Dutch, screenshot, and 0 axe violations (WCAG 2.1 A/AA)."""
    from axe_playwright_python.sync_playwright import Axe

    assert page.locator("h1").count() == 1, name
    assert page.locator("html").get_attribute("lang") == "nl", name
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"beheer-{name}.png"), full_page=True)
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
    report = [(v["id"], v["impact"], [n["target"] for n in v["nodes"][:3]])
              for v in results.response["violations"]]
    assert results.violations_count == 0, (name, report)


def login_by_keyboard(page, base: str, name: str) -> None:
    page.goto(base + "/beheer/inloggen", wait_until="load")
    page.locator("#gebruikersnaam").focus()
    page.keyboard.type(name)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "wachtwoord"
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert urlparse(page.url).path == "/beheer/"
    assert f"Ingelogd als {name}" in page.locator("nav[aria-label=Beheer]").inner_text()


def test_login_pages_pass_axe(page, beheer_server):
    base, _ = beheer_server
    r = page.goto(base + "/beheer/inloggen", wait_until="load")
    assert r.status == 200
    check(page, "inloggen")
    # a wrong password: the error summary, linked to the field
    page.fill("#gebruikersnaam", "utrecht")
    page.fill("#wachtwoord", "dit is niet het wachtwoord")
    with page.expect_navigation():
        page.click("button[type=submit]:has-text('Inloggen')")
    summary = page.locator("#foutoverzicht")
    assert "klopt niet" in summary.inner_text()
    assert summary.locator("a[href='#gebruikersnaam']").count() == 1
    assert page.locator("#gebruikersnaam").get_attribute("aria-invalid") == "true"
    check(page, "inloggen-fout")


def test_editor_pages_pass_axe(page, beheer_server):
    base, target_id = beheer_server
    login_by_keyboard(page, base, "utrecht")
    check(page, "overzicht")
    for name, path in [
        ("streefwaarden", "/beheer/streefwaarden"),
        ("streefwaarde-nieuw", "/beheer/streefwaarden/nieuw"),
        ("streefwaarde-wijzigen", f"/beheer/streefwaarden/{target_id}/wijzigen"),
        ("streefwaarde-verwijderen", f"/beheer/streefwaarden/{target_id}/verwijderen"),
        ("interventies", "/beheer/interventies"),
        ("interventie-nieuw", "/beheer/interventies/nieuw"),
        ("lokale-gegevens", "/beheer/lokale-gegevens"),
        ("auditlog", "/beheer/auditlog"),
        ("wachtwoord", "/beheer/wachtwoord"),
        ("niet-gevonden", "/beheer/streefwaarden/999999/wijzigen"),
    ]:
        r = page.goto(base + path, wait_until="load")
        assert r.status == (404 if name == "niet-gevonden" else 200), (name, r.status)
        check(page, name)
    # the list shows the target with its progress
    page.goto(base + "/beheer/streefwaarden", wait_until="load")
    assert "Utrecht Overvecht" in page.locator("main").inner_text()


def test_target_form_with_errors_then_saved_in_the_browser(page, beheer_server):
    base, _ = beheer_server
    login_by_keyboard(page, base, "utrecht")
    page.goto(base + "/beheer/streefwaarden/nieuw", wait_until="load")
    page.select_option("#gebied", "utrecht-overvecht")
    page.select_option("#indicator", "ervaren_gezondheid_pct")
    page.fill("#streefwaarde", "veel")
    page.fill("#streefjaar", "20x0")
    with page.expect_navigation():
        page.click("button[type=submit]:has-text('Opslaan')")
    summary = page.locator("#foutoverzicht")
    assert summary.is_visible()
    text = summary.inner_text()
    assert "streefwaarde in als getal" in text and "streefjaar" in text
    assert page.locator("#streefwaarde").get_attribute("aria-invalid") == "true"
    check(page, "streefwaarde-fouten")
    page.fill("#streefwaarde", "75")
    page.fill("#streefjaar", "2030")
    page.fill("#beginjaar", "2012")
    with page.expect_navigation():
        page.click("button[type=submit]:has-text('Opslaan')")
    assert urlparse(page.url).path == "/beheer/streefwaarden"
    assert "Streefwaarde opgeslagen" in page.locator("[role=status]").inner_text()
    check(page, "streefwaarde-opgeslagen")


def test_rejected_upload_in_the_browser(page, beheer_server, tmp_path):
    base, _ = beheer_server
    login_by_keyboard(page, base, "utrecht")
    page.goto(base + "/beheer/lokale-gegevens", wait_until="load")
    bad = tmp_path / "fout.csv"
    bad.write_text("region;indicator;year;value\nWK034403;inwoners;2024;veel\n"
                   "WK059910;inwoners;2024;5\n", encoding="utf-8")
    page.fill("#bron", "Gemeente Utrecht, test")
    page.set_input_files("#bestand", str(bad))
    with page.expect_navigation():
        page.click("button[type=submit]:has-text('Uploaden')")
    table = page.locator("#afgewezen-caption").locator("xpath=..")
    rows = table.locator("tbody tr").all_inner_texts()
    assert [r.split("\t")[:3] for r in rows] == [
        ["2", "value", "geen getal"], ["3", "region", "code hoort niet bij gemeente GM0344"]]
    assert page.locator("#foutoverzicht a[href='#bestand']").count() == 1
    check(page, "upload-afgewezen")


def test_programme_auditlog_and_area_page_pass_axe(page, beheer_server):
    base, _ = beheer_server
    login_by_keyboard(page, base, "programma")
    page.goto(base + "/beheer/auditlog", wait_until="load")
    assert page.locator("main table tbody tr").count() >= 4
    check(page, "auditlog-programma")
    # the public area page with its streefwaarden, interventions and local values
    r = page.goto(base + "/gebied/utrecht-overvecht", wait_until="load")
    assert r.status == 200
    section = page.locator("#lokaal")
    assert section.locator("#cap-streefwaarden").is_visible()
    assert "Buurtteam Overvecht" in section.inner_text()
    assert "Gemeente Utrecht, Volksgezondheidsmonitor 2023" in section.inner_text()
    SHOTS.mkdir(exist_ok=True)
    section.screenshot(path=str(SHOTS / "beheer-gebied-lokaal-sectie.png"))
    check(page, "gebied-lokaal")
