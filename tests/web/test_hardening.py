"""Hardening of the public side (issue 18): the probe corpus of public GETs as regression tests,
declared parameter bounds on both sides of every boundary, download file names, paging, the
request timeout, dropped connections and the security headers on every page type.

Every answer to a hostile value is a 4xx with a Dutch message, never a 500. Expected numbers
(1900, 2100, 2147483647, 50000, 200 characters) are written here, not read from the code.
"""

from __future__ import annotations

import re
import socket
import struct
import time

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from wijkmonitor.bounds import content_disposition, safe_filename

from .conftest import _serve

# --- the probe corpus of the issue --------------------------------------------------------

#: (url, expected status(es), a Dutch fragment of the message). The editable store's endpoints
#: (targets, interventions, local values) answer through the beheer router, which words its
#: own Dutch message; there the fragment is the parameter's name or the largest id.
PROBES = [
    ("/api/v1/regions?limit=-1", 422, "moet minstens 1 zijn"),
    ("/api/v1/interventions/2147483648", (404, 422), "2147483647"),
    ("/api/v1/targets/2147483648", (404, 422), "2147483647"),
    ("/api/v1/local-values?gemeente=%00", 422, "gemeente"),
    ("/api/v1/local-values?indicator=%00", 422, "indicator"),
    ("/api/v1/local-values?area=%00", 422, "area"),
    ("/api/v1/local-values?limit=-1", 422, "limit"),
    ("/api/v1/targets?area=%00", 422, "area"),
    ("/api/v1/interventions?area=%00", 422, "area"),
    ("/api/v1/interventions?format=html", 422, "format"),
    ("/gebied/GM0344?formaat=csv&tabel=%E2%85%AB", 422, "kies uit"),          # tabel=Ⅻ
    ("/indicator/inwoners?formaat=csv&tabel=%E2%85%AB", 422, "kies uit"),
    ('/gebied/GM0344?formaat=csv&tabel=x%22;filename=%22evil.html', 422, "kies uit"),
    ("/gebied/GM0344?formaat=html", 422, "kies uit"),
    ("/api/v1/value/%00/inwoners/2020", 422, "stuurteken"),
    ("/api/v1/value/GM0344/inwoners/99999999999999999999", 422, "hoogstens 2100"),
    ("/api/v1/regions?year=-1", 422, "minstens 1900"),
    ("/api/v1/regions?q=%00", 422, "stuurteken"),
    ("/api/v1/gaps?baseline=abc", 422, "geen geheel getal"),
    ("/zoeken?q=%00", 422, "stuurteken"),
    ("/gebied/%00", 422, "stuurteken"),
    ("/indicator/inwoners?gemeente=%00", 422, "geen CBS-gemeentecode"),
    ("/api/v1/region-values?indicator=inwoners&period=2020&gemeente=%00", 422, "gemeentecode"),
    ("/api/v1/bestaat-niet", 404, "bestaat niet"),
    ("/wijkindex?jaar=99999999999999999999", 422, "hoogstens 2100"),
    ("/wijkindex?gemeente=%00", 422, "stuurteken"),
    ("/wijkindex?regel=%00", 422, "stuurteken"),
    ("/wijkindex?formaat=html", 422, "kies uit"),
]


def test_wijkindex_error_is_escaped(client):
    """The selection rule is echoed in the download's error: as text, never as markup."""
    r = client.get("/wijkindex", params={"regel": "<img src=x onerror=alert(1)>", "formaat": "csv"})
    assert r.status_code == 400
    assert "<img" not in r.text and "&lt;img src=x onerror=alert(1)&gt;" in r.text


@pytest.mark.parametrize("url,status,fragment", PROBES, ids=[p[0][:60] for p in PROBES])
def test_probe_corpus_gets_a_dutch_4xx(client, url, status, fragment):
    r = client.get(url)
    assert r.status_code in (status if isinstance(status, tuple) else (status,)), \
        (url, r.status_code, r.text[:300])
    text = r.json()["detail"] if url.startswith("/api/") else r.text
    assert fragment in text, (url, text[:400])
    # no English validation messages, no input echoed unshortened
    assert "Input should be" not in r.text and "Field required" not in r.text


def test_validation_answer_names_each_parameter(client):
    r = client.get("/api/v1/regions", params={"limit": "-1", "year": "3000"})
    assert r.status_code == 422
    body = r.json()
    assert body["detail"].startswith("Ongeldige invoer:")
    assert {e["parameter"] for e in body["errors"]} == {"limit", "year"}
    assert any("moet minstens 1 zijn" in e["bericht"] for e in body["errors"])
    assert any("mag hoogstens 2100 zijn" in e["bericht"] for e in body["errors"])


def test_a_page_gets_a_dutch_html_page_for_bad_input(client):
    r = client.get("/gebied/GM0344", params={"basisjaar": "1899"})
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/html")
    assert "Ongeldige invoer" in r.text and "moet minstens 1900 zijn" in r.text


# --- both sides of every boundary ---------------------------------------------------------

@pytest.mark.parametrize("url,ok", [
    ("/api/v1/regions?limit=1", True), ("/api/v1/regions?limit=0", False),
    ("/api/v1/regions?limit=50000", True), ("/api/v1/regions?limit=50001", False),
    ("/api/v1/regions?offset=0&limit=1", True), ("/api/v1/regions?offset=-1", False),
    ("/api/v1/regions?year=1900&limit=1", True), ("/api/v1/regions?year=1899", False),
    ("/api/v1/regions?year=2100&limit=1", True), ("/api/v1/regions?year=2101", False),
    ("/api/v1/regions?q=" + "a" * 200 + "&limit=1", True),
    ("/api/v1/regions?q=" + "a" * 201, False),
    ("/api/v1/gaps?baseline=1900&latest=2100&areas=utrecht-overvecht", True),
    ("/api/v1/gaps?baseline=1899&areas=utrecht-overvecht", False),
    ("/zoeken?q=" + "b" * 200, True), ("/zoeken?q=" + "b" * 201, False),
    ("/indicator/inwoners?gemeente=gm0344&niveau=wijk", True),
    ("/indicator/inwoners?gemeente=GM034", False),
])
def test_bounds_both_sides(client, url, ok):
    r = client.get(url)
    assert r.status_code < 500
    assert (r.status_code == 200) is ok, (url, r.status_code, r.text[:200])
    if not ok:
        assert r.status_code == 422


@pytest.mark.parametrize("item_id,in_range", [(2147483647, True), (2147483648, False),
                                              (0, False), (1, True), (10**30, False)])
def test_ids_up_to_2_31_minus_1(client, item_id, in_range):
    # in range: looked up (and not found); outside: refused before the database (404 or 422)
    for what in ("interventions", "targets"):
        r = client.get(f"/api/v1/{what}/{item_id}")
        if in_range:
            assert r.status_code == 404 and "bestaat niet" in r.json()["detail"], (what, item_id)
        else:
            assert r.status_code in (404, 422), (what, item_id, r.text)
            assert re.search(r"2147483647|minstens 1 ", r.json()["detail"]), (what, item_id, r.text)


def test_units_per_values_request_at_most_100(client):
    ok = client.get("/api/v1/values", params=[("unit", "GM0344")] * 100 + [("limit", "1")])
    assert ok.status_code == 200
    r = client.get("/api/v1/values", params=[("unit", "GM0344")] * 101)
    assert r.status_code == 422 and "te veel waarden: hoogstens 100" in r.json()["detail"]
    areas = ",".join(["utrecht-overvecht"] * 101)
    r = client.get("/api/v1/gaps", params={"areas": areas})
    assert r.status_code == 422 and "hoogstens 100" in r.json()["detail"]


# --- paging -------------------------------------------------------------------------------

def test_regions_pages_are_slices_of_one_order(client):
    whole = client.get("/api/v1/regions", params={"year": 2024, "level": "gemeente", "limit": 30})
    assert whole.status_code == 200 and len(whole.json()) == 30
    total = int(whole.headers["x-total-count"])
    assert total == 342  # the 342 gemeenten of 2024 (CBS)
    page = client.get("/api/v1/regions", params={"year": 2024, "level": "gemeente", "limit": 10,
                                                 "offset": 10})
    assert page.json() == whole.json()[10:20]
    assert page.headers["x-total-count"] == "342"
    last = client.get("/api/v1/regions", params={"year": 2024, "level": "gemeente",
                                                 "limit": 10, "offset": 340})
    assert len(last.json()) == 2
    beyond = client.get("/api/v1/regions", params={"year": 2024, "level": "gemeente",
                                                   "offset": 342})
    assert beyond.status_code == 200 and beyond.json() == []


def test_values_and_region_values_are_paged(client):
    whole = client.get("/api/v1/values", params={"unit": "GM0344"}).json()
    page = client.get("/api/v1/values", params={"unit": "GM0344", "limit": 5, "offset": 3})
    assert page.json() == whole[3:8] and page.headers["x-total-count"] == str(len(whole))
    params = {"indicator": "inwoners", "period": 2024, "level": "gemeente"}
    whole = client.get("/api/v1/region-values", params=params).json()
    assert len(whole) > 300
    page = client.get("/api/v1/region-values", params=params | {"limit": 7, "offset": 300})
    assert page.json() == whole[300:307]


# --- download file names ------------------------------------------------------------------

@pytest.mark.parametrize("stem", ['x";filename="evil.html', "Ⅻ", "a\r\nSet-Cookie: x=1",
                                  "../../etc/passwd", "", "..", "x" * 500, "GM0344-reeksen"])
def test_filename_from_whitelist(stem):
    value = content_disposition(stem, "csv")
    assert "\r" not in value and "\n" not in value
    value.encode("latin-1")  # a header value
    assert value.startswith("attachment; ")
    params = re.findall(r';\s*([A-Za-z*]+)=("[^"]*"|[^;"]*)', value)
    assert [k for k, _ in params] == ["filename", "filename*"]
    name = params[0][1].strip('"')
    assert re.fullmatch(r"[A-Za-z0-9._-]{1,100}\.csv", name), name
    assert not name.startswith(".") and "/" not in name
    assert value.endswith(f"filename*=UTF-8''{name}")


def test_filename_examples():
    assert safe_filename('x";filename="evil.html', "csv") == "x-filename-evil.html.csv"
    assert safe_filename("Ⅻ", "xlsx") == "download.xlsx"
    assert safe_filename("GM0344-reeksen", "parquet") == "GM0344-reeksen.parquet"
    assert len(safe_filename("y" * 500, "csv")) == 104
    with pytest.raises(ValueError):
        safe_filename("x", "html")


@pytest.mark.parametrize("url", [
    "/?formaat=csv&tabel=outcome", "/gebied/GM0344?formaat=xlsx&tabel=reeksen",
    "/gebied/utrecht-overvecht?formaat=geojson&tabel=kaart",
    "/indicator/inwoners?formaat=parquet&tabel=gebieden", "/indicatoren?formaat=csv",
    "/zoeken?q=Utrecht&formaat=csv", "/bronnen?formaat=csv",
    "/vergelijken?gebied=GM0344&jaar=2020&formaat=csv",
    "/api/v1/sources?format=csv", "/api/v1/interventions?format=csv",
    "/api/v1/interventions?format=xlsx",
])
def test_every_download_names_its_file_with_filename_star(client, url):
    r = client.get(url)
    assert r.status_code == 200, (url, r.text[:200])
    cd = r.headers["content-disposition"]
    assert re.fullmatch(r'attachment; filename="([A-Za-z0-9._-]+)"; '
                        r"filename\*=UTF-8''([A-Za-z0-9._-]+)", cd), cd


# --- request timeout ----------------------------------------------------------------------

def _slow_app(seconds: float) -> FastAPI:
    from wijkmonitor.web import security

    app = FastAPI()

    @app.get("/api/v1/traag")
    def slow_api():
        time.sleep(1.5)
        return {"klaar": True}

    @app.get("/traag")
    def slow_page():
        time.sleep(1.5)
        return {"klaar": True}

    @app.get("/snel")
    def fast():
        return {"klaar": True}

    @app.post("/api/v1/traag")
    def slow_post():
        time.sleep(1.5)
        return {"klaar": True}

    @app.get("/beheer/traag")
    def slow_beheer():
        time.sleep(1.5)
        return {"klaar": True}

    @app.get("/kapot")
    def broken():
        raise RuntimeError("boom")

    app.add_middleware(security.RequestTimeout, seconds=seconds)
    app.add_middleware(security.SecurityHeaders)
    return app


def test_a_slow_read_gets_a_dutch_503_not_a_hang():
    c = TestClient(_slow_app(0.3), raise_server_exceptions=False)
    r = c.get("/api/v1/traag")
    assert r.status_code == 503 and r.headers["retry-after"] == "30"
    assert "kostte meer dan 0.3 seconden" in r.json()["detail"]
    assert r.headers["x-content-type-options"] == "nosniff"  # the 503 carries the headers too
    page = c.get("/traag")
    assert page.status_code == 503 and "Tijdelijk niet beschikbaar" in page.text
    assert c.get("/snel").json() == {"klaar": True}
    # writes and the beheer pages (logged-in editors) are not cut off
    assert c.post("/api/v1/traag").status_code == 200
    assert c.get("/beheer/traag").status_code == 200
    # an error inside the handler is still an error, not hidden by the timeout
    assert c.get("/kapot").status_code == 500


def test_a_read_within_the_time_is_answered():
    c = TestClient(_slow_app(5.0))
    assert c.get("/api/v1/traag").json() == {"klaar": True}


def test_timeout_setting(monkeypatch):
    import math

    from wijkmonitor.web import security
    monkeypatch.setenv("WIJKMONITOR_REQUEST_TIMEOUT", "2,5")
    assert security.configured_timeout() == 2.5
    monkeypatch.setenv("WIJKMONITOR_REQUEST_TIMEOUT", "0")
    assert math.isinf(security.configured_timeout())
    monkeypatch.setenv("WIJKMONITOR_REQUEST_TIMEOUT", "lang")
    with pytest.raises(RuntimeError, match="geen aantal seconden"):
        security.configured_timeout()
    monkeypatch.delenv("WIJKMONITOR_REQUEST_TIMEOUT")
    assert security.configured_timeout() == 20.0


def test_the_site_has_both_middlewares(client):
    from wijkmonitor.web import security
    kinds = [m.cls for m in client.app.user_middleware]
    assert security.RequestTimeout in kinds and security.SecurityHeaders in kinds


# --- security headers on every page type --------------------------------------------------

PAGE_TYPES = {
    "start": "/", "gebied-focus": "/gebied/utrecht-overvecht", "gebied-gemeente": "/gebied/GM0344",
    "gebied-wijk": "/gebied/WK034403", "gebied-buurt": "/gebied/BU03440343",
    "vergelijken": "/vergelijken?gebied=utrecht-overvecht&jaar=2020",
    "indicator": "/indicator/angst_depressie_pct", "indicatoren": "/indicatoren",
    "zoeken": "/zoeken?q=Overvecht", "over": "/over", "toegankelijkheid": "/toegankelijkheid",
    "bronnen": "/bronnen", "wijkindex": "/wijkindex", "api-docs": "/api/docs", "openapi": "/api/openapi.json",
    "api-value": "/api/v1/value/GM0344/inwoners/2020", "api-gaps": "/api/v1/gaps",
    "api-targets": "/api/v1/targets", "api-session": "/api/v1/session",
    "download": "/bronnen?formaat=csv", "static": "/static/site.css",
    "beheer-login": "/beheer/inloggen", "beheer-redirect": "/beheer/",
    "404-page": "/gebied/XX0000", "404-api": "/api/v1/areas/bestaat-niet",
    "422": "/api/v1/regions?limit=0", "405": "/api/v1/sources#post",
}


def _headers_ok(r):
    csp = r.headers["content-security-policy"]
    directives = {d.split()[0]: d.split()[1:] for d in (x.strip() for x in csp.split(";")) if d}
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert directives["script-src"] == ["'self'"] and directives["style-src"] == ["'self'"]
    assert directives["default-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    # the vendored map library (MapLibre GL JS, from our own origin) needs blob: workers
    assert set(directives["worker-src"]) == {"'self'", "blob:"}
    assert set(directives["child-src"]) == {"'self'", "blob:"}
    assert set(directives["img-src"]) == {"'self'", "data:", "blob:"}
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "server" not in r.headers
    assert len(r.headers.get_list("content-security-policy")) == 1


@pytest.mark.parametrize("name", list(PAGE_TYPES))
def test_security_headers_on_every_page_type(client, name):
    url = PAGE_TYPES[name]
    if url.endswith("#post"):
        r = client.post(url[:-5])
        assert r.status_code == 405
    else:
        r = client.get(url, follow_redirects=False)
    assert r.status_code < 500, (url, r.status_code)
    _headers_ok(r)


def test_no_inline_script_or_style_in_any_template():
    """What the CSP would block: inline <script> code, <style> blocks, style= and on*=
    attributes in the site's and the beheer templates."""
    from pathlib import Path

    import wijkmonitor.local.web as beheer
    import wijkmonitor.web.app as site
    roots = [Path(site.__file__).parent / "templates", Path(beheer.__file__).parent / "templates"]
    files = [p for root in roots for p in root.rglob("*.html")]
    assert len(files) > 20
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), path
        assert "<style" not in text, path
        assert not re.search(r"\sstyle\s*=", text), path
        assert not re.search(r"\son[a-z]+\s*=", text), path


# --- dropped connections (real server) ----------------------------------------------------

@pytest.fixture(scope="module")
def logged_server(real_store, tmp_path_factory):
    log = tmp_path_factory.mktemp("dropped") / "uvicorn.log"
    for base in _serve(real_store, log):
        yield base, log


def _send(port: int, raw: bytes, *, reset: bool = False, read: int = 0, wait: float = 0.0):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(raw)
    if read:
        s.recv(read)
    if wait:
        time.sleep(wait)
    if reset:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def test_dropped_connections_leave_no_error(logged_server):
    import httpx

    base, log = logged_server
    port = int(base.rsplit(":", 1)[1])
    paths = ["/gebied/utrecht-overvecht?basisjaar=2013",
             "/indicator/inwoners?niveau=buurt&gemeente=GM0363&formaat=xlsx",
             "/api/v1/gaps?areas=aandachtswijken&baseline=2013",
             "/api/v1/regions?limit=50000&format=csv"]
    for path in paths:
        req = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
        _send(port, req)                       # closed before the answer
        _send(port, req, reset=True)           # reset before the answer
        _send(port, req[:len(req) // 2])       # half a request
        _send(port, req, read=10, reset=True)  # reset in the middle of the answer
    # a form and a JSON body announced but never sent in full
    _send(port, b"POST /beheer/inloggen HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                b"application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\ngebruikersnaam=a",
          wait=0.3)
    _send(port, b"POST /api/v1/targets HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                b"application/json\r\nContent-Length: 1000\r\n\r\n{\"a\":", wait=0.3)
    # the server still answers, and logged no error
    for _ in range(50):
        r = httpx.get(base + "/api/v1/regions?limit=1", timeout=30)
        if r.status_code == 200:
            break
    assert r.status_code == 200
    time.sleep(2)  # let the handlers of the dropped requests finish
    text = log.read_text(errors="replace")
    assert "Traceback" not in text and "Exception in ASGI" not in text, text[-3000:]
