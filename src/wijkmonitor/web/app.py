"""The wijkmonitor website: FastAPI app with server-rendered Dutch pages and a JSON API.

>>> from wijkmonitor.web.app import create_app
>>> app = create_app()            # reads WIJKMONITOR_STORE (read-only)      # doctest: +SKIP

Pages live in :mod:`.pages`, the JSON API (``/api/v1``) in :mod:`.api`. OpenAPI is at
``/api/openapi.json`` and the interactive docs at ``/api/docs`` use swagger-ui vendored from
npm (``static/vendor/swagger-ui``), never a CDN, started by ``static/api-docs.js`` (no inline
script: see the Content-Security-Policy in :mod:`.security`). Parameters are bounded where they
are declared (:mod:`wijkmonitor.bounds`); a value outside its bounds gets a Dutch 422.
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.middleware.gzip import GZipMiddleware
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from .. import bounds, store
from . import security
from .data import RequestMemo, WebStore
from .static_files import CompressedStaticFiles
from .layout import TEMPLATES  # the site's templates, shared with the beheer forms

HERE = Path(__file__).resolve().parent


#: Set by ``wijkmonitor serve``: build the in-memory value index and read the area tables in a
#: background thread when a worker starts, so that the first visitor does not wait for it
#: (seconds on the real store). Off by default, so tests and notebooks that create many apps
#: do not pay for it.
WARM_ENV = "WIJKMONITOR_WARM"


#: Threads per process for the synchronous endpoints (pages, downloads, the editable store);
#: ``WIJKMONITOR_THREADS`` overrides it. AnyIO's default is 40: under 50 connections a worker
#: then renders up to 40 uncached pages at once, which under the GIL is no faster than a few at a
#: time but holds 40 renders' memory at once (``benchmarks/bench_hardening.py``).
THREADS_ENV = "WIJKMONITOR_THREADS"
DEFAULT_THREADS = 8


def request_threads() -> int:
    """The number of request threads: ``WIJKMONITOR_THREADS`` (1-256) or :data:`DEFAULT_THREADS`."""
    raw = os.environ.get(THREADS_ENV, "").strip()
    try:
        n = int(raw) if raw else DEFAULT_THREADS
    except ValueError:
        raise SystemExit(f"{THREADS_ENV}={raw!r}: geef een geheel getal van 1 tot en met 256") from None
    if not 1 <= n <= 256:
        raise SystemExit(f"{THREADS_ENV}={raw!r}: geef een geheel getal van 1 tot en met 256")
    return n


def limit_request_threads(n: int | None = None) -> None:
    """Bound the threads of this event loop's synchronous endpoints (call inside the loop)."""
    import anyio.to_thread

    anyio.to_thread.current_default_thread_limiter().total_tokens = n or request_threads()


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI):
    limit_request_threads()
    if os.environ.get(WARM_ENV) == "1":
        threading.Thread(target=_warm, args=(app.state.ws, app), name="wijkmonitor-warm",
                         daemon=True).start()
    yield


#: ``WIJKMONITOR_PRERENDER=0`` switches off rendering the programme areas' pages at start.
PRERENDER_ENV = "WIJKMONITOR_PRERENDER"


def prerender(app: FastAPI, area_ids) -> int:
    """Render the pages ``/gebied/{id}`` (default years, no query) of ``area_ids`` through the
    app itself, so that they are in the page cache, compressed too, before the first visitor
    asks (an uncached area page takes ~0.4 s of CPU). Returns how many answered 200."""
    from starlette.testclient import TestClient

    client = TestClient(app, raise_server_exceptions=False)  # no lifespan: nothing else starts
    ok = 0
    for area_id in area_ids:
        r = client.get(f"/gebied/{area_id}", headers={"accept-encoding": "gzip"})
        ok += r.status_code == 200
    return ok


def _warm(ws: WebStore, app: FastAPI | None = None) -> None:
    """Read what every worker needs (the area tables, the value index, the map layers of the
    areas' pages, the buurt links of the latest division) and, given ``app``, render the pages
    of the programme areas (:func:`prerender`; unless ``WIJKMONITOR_PRERENDER=0``); then
    freeze the garbage collector's view of it: the collector would otherwise walk these
    ~300,000 long-lived objects in every full collection, a pause of ~200 ms in the middle of
    some request (measured: the area page's p99). With several workers this runs in the master
    before the fork (:mod:`wijkmonitor.web.server`), so the workers share all of it."""
    import gc
    import logging

    from . import pages

    try:
        ws.area_index()
        ws.area_values()
        ws.value_index()
        for area_id in ws.area_index()["area_id"]:
            pages._locator(ws.unit(area_id), ws)
        from .maps import warm_links
        warm_links(ws)         # buurten of 2024 linked to the 2014 polygons (~3 s CPU)
        from .. import postcodes
        from .search import index_for
        index_for(ws)          # names of every region (~1 s)
        from .effect_section import effect_data
        effect_data(ws)        # the comparison areas' values of the area pages (~1 s CPU)
        from .composition_section import rows
        rows(ws)               # rates and weights of the age standardisation (~1 s, ~40 MB)
        postcodes.index()      # PC4 -> buurt (~2 s of JSON)
        if app is not None and os.environ.get(PRERENDER_ENV, "1") != "0":
            prerender(app, list(ws.area_index()["area_id"]))  # 60 pages (~25 s CPU)
    except store.StoreMissing:
        return
    except Exception:  # a warm-up failure must not stop the worker: the request path reports it
        logging.getLogger(__name__).exception("wijkmonitor: warming the caches failed")
    gc.collect()
    gc.freeze()
    release_memory()


def release_memory() -> None:
    """Give the memory freed after a large read back to the system: Arrow's allocator keeps
    freed blocks for reuse, and glibc keeps freed heap pages until ``malloc_trim`` (about 60 MB
    of a worker after the warm-up, measured on the real store)."""
    import ctypes
    import ctypes.util

    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    libc = ctypes.util.find_library("c")
    if libc:
        try:
            ctypes.CDLL(libc).malloc_trim(0)
        except (OSError, AttributeError):  # not glibc
            pass


def create_app(store_path: Path | str | None = None, database_url: str | None = None) -> FastAPI:
    """Build the app for one store file (default: ``WIJKMONITOR_STORE``) and one editable
    store (default: ``WIJKMONITOR_DATABASE_URL``, see :func:`include_beheer`)."""
    app = FastAPI(
        title="wijkmonitor API",
        description=("Open data over leefbaarheid en veiligheid van wijken: indicatoren, gebieden, "
                     "waarden (met status en reden als een cijfer niet getoond wordt) en de afstand "
                     "tot het stedelijk gemiddelde. Bron: CBS, RIVM, Politie, BZK Leefbaarometer "
                     "(zie /api/v1/sources)."),
        version="1",
        docs_url=None, redoc_url=None, openapi_url="/api/openapi.json",
        lifespan=_lifespan,
    )
    app.state.ws = WebStore(store_path)
    # pages, JSON and CSS compressed for every client that accepts gzip (an area page ~0,7 MB
    # -> well under the 250 KB budget; tests/web/test_browser_website.py)
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=6)
    # static files compressed once per file version, not per request (static_files.py)
    app.mount("/static", CompressedStaticFiles(directory=str(HERE / "static")), name="static")

    from . import api, compare, maps, pages, signalen_page, wijkindex_page
    app.include_router(api.router)
    app.include_router(maps.router)
    app.include_router(pages.router)
    app.include_router(compare.router)
    app.include_router(wijkindex_page.router)
    app.include_router(signalen_page.router)
    include_beheer(app, database_url)

    @app.get("/api/docs", include_in_schema=False)
    def api_docs():
        return HTMLResponse(API_DOCS_HTML)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        detail = _dutch_detail(exc.status_code, exc.detail)
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": detail}, status_code=exc.status_code,
                                headers=getattr(exc, "headers", None))
        return TEMPLATES.TemplateResponse(
            request, "fout.html", {"status": exc.status_code, "detail": detail,
                                   "title": "Niet gevonden" if exc.status_code == 404 else
                                   "Deze vraag kan zo niet worden beantwoord" if exc.status_code == 400 else "Fout"},
            status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(ClientDisconnect)
    async def dropped(request: Request, exc: ClientDisconnect):
        # the visitor closed the connection before the body was in (a form or JSON half
        # sent): nothing was read, nothing is written, and nobody receives this answer
        return Response(status_code=400)

    @app.exception_handler(RequestValidationError)
    async def bad_parameter(request: Request, exc: RequestValidationError):
        # the API answers JSON (422) with a Dutch summary and one message per parameter; a page
        # (also 422) explains in plain Dutch what to change
        errors = exc.errors()
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": bounds.summary(errors), "errors": bounds.messages(errors)},
                                status_code=422)
        return TEMPLATES.TemplateResponse(
            request, "fout.html", {"status": 422, "title": "Deze pagina kan zo niet worden getoond",
                                   "detail": bounds.summary(errors),
                                   "problems": dutch_validation_errors(errors)},
            status_code=422)

    @app.exception_handler(store.StoreMissing)
    async def no_store(request: Request, exc: store.StoreMissing):
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": str(exc)}, status_code=503)
        return TEMPLATES.TemplateResponse(
            request, "fout.html", {"status": 503, "detail": str(exc), "title": "Nog geen gegevens"},
            status_code=503)

    # innermost first: the 503 of a read that takes too long also carries the headers
    app.add_middleware(security.RequestTimeout, render_page=_timeout_page)
    app.add_middleware(security.SecurityHeaders)
    app.add_middleware(RequestMemo)  # outermost: one store version per request
    return app


#: Dutch text for Starlette's own errors (unknown path, method not allowed)
_DUTCH_STATUS = {404: "Deze pagina of dit adres bestaat niet.",
                 405: "Deze methode is hier niet toegestaan.",
                 413: "Het verzoek is te groot."}


def _dutch_detail(status: int, detail) -> str:
    try:
        english = HTTPStatus(status).phrase
    except ValueError:
        english = None
    if detail == english and status in _DUTCH_STATUS:
        return _DUTCH_STATUS[status]
    return detail


def _timeout_page(scope, text: str) -> bytes:
    request = Request(scope)
    return TEMPLATES.get_template("fout.html").render(
        request=request, status=503, detail=text, title="Tijdelijk niet beschikbaar").encode("utf-8")


#: /api/docs: swagger-ui from the vendored bundle, started by a static script (no inline code)
API_DOCS_HTML = """<!DOCTYPE html>
<html lang="nl">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>wijkmonitor API — documentatie</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/static/vendor/swagger-ui/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/static/vendor/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/static/api-docs.js"></script>
</body>
</html>
"""


#: What a bad query parameter is expected to be, per FastAPI/pydantic error type.
_EXPECTED = {"int_parsing": "een geheel getal, bijvoorbeeld 2016",
             "int_type": "een geheel getal, bijvoorbeeld 2016",
             "float_parsing": "een getal", "bool_parsing": "ja of nee (true of false)",
             "string_too_long": "een kortere tekst", "missing": "een waarde (die ontbreekt nu)",
             "greater_than_equal": "een groter getal", "less_than_equal": "een kleiner getal",
             "literal_error": "een van de toegestane waarden"}


def dutch_validation_errors(errors) -> list[str]:
    """One plain Dutch sentence per bad parameter (``?basisjaar=abc`` -> "De waarde ‘abc’ bij
    basisjaar is geen geheel getal ...")."""
    out = []
    for e in errors:
        loc = [str(x) for x in e.get("loc", ()) if x not in ("query", "path", "body")
               and not isinstance(x, int)]  # 'jaar', not 'jaar.0' for a repeated parameter
        name = ".".join(loc) or "de aanvraag"
        given = e.get("input")
        expected = _EXPECTED.get(e.get("type", ""), "een andere waarde")
        if e.get("type") == "missing":
            out.append(f"{name} ontbreekt: vul een waarde in.")
            continue
        shown = str(given)
        if len(shown) > 40:
            shown = shown[:40] + "…"
        out.append(f"De waarde ‘{shown}’ bij {name} klopt niet: verwacht is {expected}.")
    return out


def include_beheer(app: FastAPI, database_url: str | None = None) -> None:
    """Add the editable store to the site: the ``/beheer`` forms and the ``/api/v1`` endpoints
    for targets, interventions and local values (:func:`wijkmonitor.local.web.create_router`).

    The database is ``database_url`` or the configured one (:func:`wijkmonitor.config.
    database_url`); the embedded SQLite default is migrated on start, a server database is
    migrated by its administrator (``wijkmonitor db upgrade``). ``app.state.database_url`` is
    what the area pages read their streefwaarden, interventions and local values from.
    """
    import functools

    from .. import config
    from ..local import db, public
    from ..local import web as beheer

    url = database_url or config.database_url()
    db.ensure_sqlite_schema(url)
    app.state.database_url = url
    app.include_router(beheer.create_router(
        url, observed=functools.partial(public.store_observed, store_path=app.state.ws.path)))
