"""The route class of the beheer router: the checks before a state-changing request reaches
its handler (body size, content type, JSON bounds, CSRF token) and the mapping of refusals and
service errors to Dutch 4xx/503 answers (a page for the forms, JSON for the API)."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
from typing import Annotated
from urllib.parse import quote

from fastapi import Path as PathParam
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import bounds
from ..errors import NotFound, PermissionDenied, ValidationFailed
from ..tabular import MAX_UPLOAD_BYTES
from .cookies import CSRF_FIELD, CSRF_HEADER, save_session, web_session
from .rendering import render

log = logging.getLogger(__name__)

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
#: An id in a path: 1 .. 2^31 - 1 (anything else is a Dutch 404, not a database error).
RowId = Annotated[int, PathParam(ge=1, le=bounds.MAX_ID)]
#: Request bodies above this are refused before they are read (the upload limit plus room for
#: the multipart envelope and the other fields).
MAX_BODY_BYTES = MAX_UPLOAD_BYTES + 256 * 1024

CSRF_MESSAGE = ("Dit formulier is niet geaccepteerd: de beveiligingscode (CSRF-token) ontbreekt of "
                "klopt niet. Dat gebeurt als het formulier verlopen is of van een andere site "
                "komt. Open de pagina opnieuw en probeer het nog eens.")
DATABASE_MESSAGE = ("De beheerdatabase is niet bereikbaar of heeft nog geen tabellen. De "
                    "beheerder zet dat recht met 'wijkmonitor db upgrade' (zie "
                    "WIJKMONITOR_DATABASE_URL). Er is niets opgeslagen.")


class _DuplicateKey(Exception):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key[:60]


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    """A JSON object as a dict, refusing a key that occurs twice (``{"2026": 1, "2026": 2}``
    would otherwise keep the last value without a word)."""
    out: dict = {}
    for k, v in pairs:
        if k in out:
            raise _DuplicateKey(k)
        out[k] = v
    return out


class Refused(Exception):
    """Stop the request with ``status`` and a Dutch ``message``."""

    def __init__(self, status: int, message: str, headers: dict | None = None,
                 extra: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.headers, self.extra = status, message, headers, extra


class LoginRequired(Exception):
    """An HTML page needs a logged-in user: redirect to the login form."""


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def basic_credentials(request: Request) -> tuple[str, str] | None:
    auth = request.headers.get("authorization", "")
    if not auth[:6].lower() == "basic ":
        return None
    try:
        name, _, password = base64.b64decode(auth[6:].strip(), validate=True) \
            .decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise Refused(401, "HTTP Basic: ongeldige codering van naam en wachtwoord",
                      challenge()) from None
    return name, password


def challenge() -> dict:
    return {"WWW-Authenticate": 'Basic realm="wijkmonitor-beheer", charset="UTF-8"'}


async def _guard(request: Request) -> None:
    """Checks before a state-changing request reaches its handler: body size, content type,
    body parsing, and the CSRF token (unless the API call authenticates with HTTP Basic)."""
    length = request.headers.get("content-length")
    if length and length.isascii() and length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise Refused(413, f"Het verzoek is te groot (meer dan {MAX_BODY_BYTES // 1024 // 1024} "
                           "MB); er is niets opgeslagen.")
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    api = is_api(request)
    if api:
        if request.method in ("POST", "PUT", "PATCH"):
            if ctype != "application/json":
                raise Refused(415, "Stuur JSON met Content-Type: application/json")
            raw = await _read_limited(request, bounds.MAX_JSON_BYTES)
            if raw is None:
                raise Refused(413, f"De JSON-inhoud is te groot: maximaal "
                                   f"{bounds.MAX_JSON_BYTES // 1024} kB; er is niets "
                                   "opgeslagen.")
            if bounds.json_depth_exceeds(raw):
                raise Refused(400, f"De JSON-inhoud is te diep genest: maximaal "
                                   f"{bounds.MAX_JSON_DEPTH} niveaus; er is niets opgeslagen.")
            try:
                request.state.wm_json = json.loads(raw, object_pairs_hook=_unique_keys)
            except _DuplicateKey as e:
                raise Refused(400, f"De JSON-inhoud noemt het veld '{e.key}' twee keer; er is "
                                   "niets opgeslagen.") from None
            except (ValueError, UnicodeDecodeError, RecursionError):
                raise Refused(400, "De inhoud is geen geldige JSON") from None
        if basic_credentials(request) is not None:
            return  # no ambient cookie: no CSRF token needed
        token = request.headers.get(CSRF_HEADER)
    else:
        if ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            try:
                request.state.wm_form = await request.form(max_files=2, max_fields=200)
            except StarletteHTTPException:  # too many fields or files, a broken multipart
                raise Refused(400, "Het formulier is niet te lezen: te veel velden of "
                                   "bestanden, of een beschadigde upload. Er is niets "
                                   "opgeslagen.") from None
        else:
            request.state.wm_form = None
        form = request.state.wm_form
        token = form.get(CSRF_FIELD) if form is not None else None
        token = token or request.headers.get(CSRF_HEADER)
    sess = web_session(request)
    if not isinstance(token, str) or not hmac.compare_digest(token.encode(),
                                                             sess.csrf.encode()):
        raise Refused(403, CSRF_MESSAGE)


async def _read_limited(request: Request, limit: int) -> bytes | None:
    """The body, or ``None`` as soon as it grows past ``limit`` bytes (also when chunked)."""
    length = request.headers.get("content-length")
    if length and length.isascii() and length.isdigit() and int(length) > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    body = b"".join(chunks)
    request._body = body  # later readers get the same bytes (the stream is consumed)
    return body


def _invalid_request(request: Request, exc: RequestValidationError) -> Response:
    """FastAPI's parameter errors in Dutch: an id out of range in the path is a 404 (no row
    can have it); other parameters a 422 naming the parameter."""
    errors = exc.errors()
    path_errors = [e for e in errors if e.get("loc", ("",))[0] == "path"]
    if path_errors:
        name = path_errors[0]["loc"][-1]
        what = {"target_id": "streefwaarde", "item_id": "interventie"}.get(name, "rij")
        value = request.path_params.get(name, "")
        return error_response(request, 404, f"{what} {str(value)[:30]} bestaat niet "
                                             f"(een nummer van 1 tot en met {bounds.MAX_ID})")
    fields = sorted({str(e.get("loc", ("", "?"))[-1]) for e in errors})
    return error_response(request, 422, "ongeldige waarde voor " + ", ".join(fields)
                           + ": geef een geheel getal of een tekst zoals beschreven")


def error_response(request: Request, status: int, message: str, headers: dict | None = None,
                    extra: dict | None = None) -> Response:
    if is_api(request):
        body = {"detail": message}
        body.update(extra or {})
        return JSONResponse(body, status_code=status, headers=headers)
    titles = {400: "Ongeldig verzoek", 401: "Inloggen vereist", 403: "Geen toegang",
              404: "Niet gevonden", 413: "Bestand te groot", 415: "Ongeldig verzoek",
              422: "Niet opgeslagen", 429: "Te veel pogingen",
              503: "Tijdelijk niet beschikbaar"}
    response = render(request, "beheer/fout.html", status=status,
                      title=titles.get(status, "Fout"), message=message, status_code=status)
    if headers:
        response.headers.update(headers)
    return response


class BeheerRoute(APIRoute):
    """Route class of this router: CSRF guard, service errors as 403/404/422, and the session
    cookie written on the way out."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def wrapped(request: Request) -> Response:
            try:
                if request.method not in SAFE_METHODS:
                    await _guard(request)
                response = await handler(request)
            except Refused as exc:
                response = error_response(request, exc.status, exc.message, exc.headers,
                                           exc.extra)
            except LoginRequired:
                target = request.url.path + (f"?{request.url.query}" if request.url.query
                                             else "")
                response = RedirectResponse(f"/beheer/inloggen?volgende={quote(target)}",
                                            status_code=303)
            except PermissionDenied as exc:
                response = error_response(request, 403, str(exc))
            except NotFound as exc:
                response = error_response(request, 404, str(exc))
            except ValidationFailed as exc:
                response = error_response(request, 422, exc.summary,
                                           extra={"errors": [e.as_dict() for e in exc.errors],
                                                  "file": exc.file})
            except RequestValidationError as exc:
                response = _invalid_request(request, exc)
            except (sa_exc.OperationalError, sa_exc.ProgrammingError) as exc:
                log.error("editable store unavailable: %s", exc)
                response = error_response(request, 503, DATABASE_MESSAGE)
            if not is_api(request):
                response.headers.setdefault("Cache-Control", "no-store")
            save_session(request, response)
            return response

        return wrapped

