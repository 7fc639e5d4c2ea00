"""The wijkmonitor website: FastAPI app with server-rendered Dutch pages and a JSON API.

>>> from wijkmonitor.web.app import create_app
>>> app = create_app()            # reads WIJKMONITOR_STORE (read-only)      # doctest: +SKIP

Pages live in :mod:`.pages`, the JSON API (``/api/v1``) in :mod:`.api`. OpenAPI is at
``/api/openapi.json`` and the interactive docs at ``/api/docs`` use swagger-ui vendored from
npm (``static/vendor/swagger-ui``), never a CDN.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import store
from . import format as fmt
from .data import WebStore

HERE = Path(__file__).resolve().parent
TEMPLATES = Jinja2Templates(directory=str(HERE / "templates"))
TEMPLATES.env.filters.update(
    nl=lambda x, decimals=1, unit=None: fmt.nl_value(x, decimals, unit),
    nlnum=lambda x, decimals=1: fmt.nl_number(x, decimals),
    nlgap=lambda x, decimals=1, unit=None: fmt.nl_gap(x, decimals, unit),
)
TEMPLATES.env.globals.update(is_number=fmt.is_number, DASH=fmt.DASH)

NAV = [("/", "Start"), ("/indicatoren", "Indicatoren"), ("/vergelijken", "Vergelijken"),
       ("/zoeken", "Zoeken"), ("/bronnen", "Bronnen"), ("/over", "Over")]
TEMPLATES.env.globals["NAV"] = NAV


def create_app(store_path: Path | str | None = None) -> FastAPI:
    """Build the app for one store file (default: ``WIJKMONITOR_STORE``)."""
    app = FastAPI(
        title="wijkmonitor API",
        description=("Open data over leefbaarheid en veiligheid van wijken: indicatoren, gebieden, "
                     "waarden (met status en reden als een cijfer niet getoond wordt) en de afstand "
                     "tot het stedelijk gemiddelde. Bron: CBS, RIVM, Politie, BZK Leefbaarometer "
                     "(zie /api/v1/sources)."),
        version="1",
        docs_url=None, redoc_url=None, openapi_url="/api/openapi.json",
    )
    app.state.ws = WebStore(store_path)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    from . import api, pages
    app.include_router(api.router)
    app.include_router(pages.router)

    @app.get("/api/docs", include_in_schema=False)
    def api_docs():
        return get_swagger_ui_html(
            openapi_url="/api/openapi.json", title="wijkmonitor API — documentatie",
            swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        return TEMPLATES.TemplateResponse(
            request, "fout.html", {"status": exc.status_code, "detail": exc.detail,
                                   "title": "Niet gevonden" if exc.status_code == 404 else "Fout"},
            status_code=exc.status_code)

    @app.exception_handler(store.StoreMissing)
    async def no_store(request: Request, exc: store.StoreMissing):
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": str(exc)}, status_code=503)
        return TEMPLATES.TemplateResponse(
            request, "fout.html", {"status": 503, "detail": str(exc), "title": "Nog geen gegevens"},
            status_code=503)

    return app
