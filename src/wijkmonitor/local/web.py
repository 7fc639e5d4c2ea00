"""Web part of the local monitor: Dutch forms under ``/beheer/`` and a JSON API under ``/api/v1/``.

The public site includes it in :func:`wijkmonitor.web.app.create_app` with
``app.include_router(create_router(database_url=...))`` (no middleware needed, the router keeps
its own signed session cookie); ``wijkmonitor serve`` therefore serves ``/beheer``. A database
error (server down, schema not migrated) gives 503 with a Dutch message, never a half-written
change.

Every action calls the same services as the CLI (:mod:`.targets`, :mod:`.interventions`,
:mod:`.uploads`, :mod:`.audit`, :mod:`.accounts`), so validation, permission checks and the audit
log are identical; a service error becomes 403 (not allowed), 404 (not found) or 422 (rejected
input, with every row/field).

Pages (login required; ``public`` accounts may look but change nothing)
    ``/beheer/`` overview, ``/beheer/inloggen``, ``/beheer/uitloggen`` (POST),
    ``/beheer/streefwaarden`` (+ ``/nieuw``, ``/{id}/wijzigen``, ``/{id}/verwijderen``),
    ``/beheer/interventies`` (filter ``gebied``, ``actielijn``; ``formaat=csv|xlsx`` exports;
    + ``/nieuw``, ``/{id}/wijzigen``, ``/{id}/verwijderen``), ``/beheer/lokale-gegevens``
    (upload with the row-by-row rejection report), ``/beheer/auditlog`` (``formaat=json``).

JSON API
    ``GET /api/v1/targets?area=A`` (public; each target with ``progress``: status, label, rule,
    path; observed values from the built store via :func:`wijkmonitor.api.series`),
    ``GET /api/v1/targets/{id}``, ``POST /api/v1/targets``, ``PUT /api/v1/targets/{id}``,
    ``DELETE /api/v1/targets/{id}``, ``GET /api/v1/interventions?area=&actielijn=&format=``
    (public), ``GET /api/v1/interventions/{id}``, ``POST /api/v1/interventions``,
    ``PUT /api/v1/interventions/{id}`` (the fields sent), ``DELETE /api/v1/interventions/{id}``,
    ``GET /api/v1/local-values?area=&gemeente=&indicator=`` (public; uploaded values, each
    with ``origin: lokaal`` and its ``source``, never merged with CBS values),
    ``GET /api/v1/session`` (who is logged in + the CSRF token for cookie-based calls).

Authentication and CSRF
    * Browser: ``POST /beheer/inloggen`` (argon2 check by :func:`.accounts.authenticate`,
      throttled per name and client address by :mod:`.throttle`: 429 while locked) starts a
      server-side session (:mod:`.sessions`, table ``user_sessions``) and puts only its random
      token in a session cookie ``wijkmonitor_sessie`` signed with itsdangerous (key from
      ``WIJKMONITOR_SECRET_KEY``, else generated once into ``var/secret_key``, mode 0600),
      HttpOnly, SameSite=Lax. Logout, a password change, deactivation and "overal uitloggen"
      (``POST /beheer/sessies/beeindigen``, ``wijkmonitor user logout NAME``) end sessions at
      once; they also end after 30 minutes idle and 8 hours after login. ``Secure`` is set unless
      ``WIJKMONITOR_SECURE_COOKIES=0``, or the variable is unset and the request is plain http
      to a loopback host (127.0.0.1, localhost: development and tests).
    * Every POST/PUT/DELETE that relies on the cookie needs the session's synchronizer token
      (an HMAC of the session token, so it changes at login and logout):
      the hidden form field ``csrf_token`` or the header ``X-CSRF-Token`` (read it from
      ``GET /api/v1/session``). Without it: 403 and a Dutch message.
    * Input bounds (:mod:`.bounds`, :mod:`.schemas`): JSON bodies at most 256 kB and 20
      levels deep, then validated by pydantic models; ids in paths 1 .. 2^31 - 1 (else 404);
      every violation a Dutch 4xx naming the field, before anything is written.
    * Scripts use HTTP Basic on the API (``curl -u naam:wachtwoord``): no cookie, so no CSRF
      token; POST and PUT must send ``Content-Type: application/json`` (a cross-site HTML form
      cannot), DELETE cannot be sent cross-site without CORS, which this API does not allow.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import hashlib
import hmac
import json
import logging
import math
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Callable, Literal
from urllib.parse import quote, urlencode

import jinja2
from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from wijkmonitor.bounds import (GemeenteCode, IndicatorId, Limit, Offset, Text,
                                content_disposition)
from wijkmonitor.config import var_dir

from . import (accounts, audit, bounds, db, interventions, public, schemas, sessions, targets,
               throttle, uploads)
from .errors import LocalError, NotFound, PermissionDenied, ValidationFailed
from .models import INTERVENTION_STATUSES, Intervention, Target, User, utcnow
from .permissions import (ROLE_ADMIN, ROLE_EDITOR, ROLE_PROGRAMME, ROLE_PUBLIC, can_edit,
                          check_gemeente_code, require_edit)
from .resolvers import (AreaResolver, CodesProvider, IndicatorResolver, default_area_resolver,
                        default_codes_provider, default_indicator_resolver)
from .tabular import MAX_UPLOAD_BYTES, parse_number, parse_year, too_large_error

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
WEB_TEMPLATES = HERE.parent / "web" / "templates"

COOKIE = "wijkmonitor_sessie"
#: A cookie older than this is ignored (the server ends the session then anyway).
SESSION_MAX_AGE = int(sessions.ABSOLUTE_TIMEOUT.total_seconds())
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
#: An id in a path: 1 .. 2^31 - 1 (anything else is a Dutch 404, not a database error).
RowId = Annotated[int, PathParam(ge=1, le=bounds.MAX_ID)]
#: Request bodies above this are refused before they are read (the upload limit plus room for
#: the multipart envelope and the other fields).
MAX_BODY_BYTES = MAX_UPLOAD_BYTES + 256 * 1024

LOCKED_MESSAGE = ("Te veel mislukte inlogpogingen. Inloggen is tijdelijk geblokkeerd: probeer "
                  "het over {wait} seconden opnieuw.")
CSRF_MESSAGE = ("Dit formulier is niet geaccepteerd: de beveiligingscode (CSRF-token) ontbreekt of "
                "klopt niet. Dat gebeurt als het formulier verlopen is of van een andere site "
                "komt. Open de pagina opnieuw en probeer het nog eens.")
DATABASE_MESSAGE = ("De beheerdatabase is niet bereikbaar of heeft nog geen tabellen. De "
                    "beheerder zet dat recht met 'wijkmonitor db upgrade' (zie "
                    "WIJKMONITOR_DATABASE_URL). Er is niets opgeslagen.")
ROLE_LABELS = {ROLE_PUBLIC: "publiek (alleen lezen)", ROLE_EDITOR: "redacteur gemeente",
               ROLE_PROGRAMME: "programmateam", ROLE_ADMIN: "beheerder"}
PROGRAMME_LABELS = {"nplv": "NPLV-focusgebied", "aandachtswijken": "aandachtswijk",
                    "custom": "eigen gebied"}
POLARITY_CHOICES = [("catalogus", "Zoals in de indicatorcatalogus"),
                    ("higher_is_better", "Hoger is beter"),
                    ("lower_is_better", "Hoger is slechter")]
STATUS_LABELS = {"gepland": "Gepland", "lopend": "Lopend", "afgerond": "Afgerond",
                 "gestopt": "Gestopt"}
ORGANISATION_LABELS = {t: t.capitalize() for t in interventions.ORGANISATION_TYPES}
ACTION_LABELS = {"create": "aangemaakt", "update": "gewijzigd", "delete": "verwijderd",
                 "logout": "overal uitgelogd", "lock": "geblokkeerd",
                 "upload": "geüpload"}
ENTITY_LABELS = {"target": "streefwaarde", "intervention": "interventie", "user": "gebruiker",
                 "login": "inloggen",
                 "local_upload": "lokale gegevens"}


# ---------------------------------------------------------------------------------------------
# Configuration, secret key, cookies
# ---------------------------------------------------------------------------------------------

@dataclass
class WebConfig:
    """What the router talks to (defaults: the configured database, areas and catalogue)."""

    database_url: str | None = None
    area_resolver: AreaResolver = default_area_resolver
    indicator_resolver: IndicatorResolver = default_indicator_resolver
    codes_provider: CodesProvider = default_codes_provider
    #: ``target -> Series year -> value`` for progress (default: the analytical store).
    observed: Callable[[Target], Any] = field(default=public.store_observed)
    #: The clock of sessions and login throttling (aware UTC datetimes; tests inject one).
    clock: Callable[[], dt.datetime] = utcnow


def secret_key() -> str:
    """The key that signs session cookies: ``WIJKMONITOR_SECRET_KEY``, else a random key
    generated once and kept in ``var/secret_key`` (readable by the owner only)."""
    env = os.environ.get("WIJKMONITOR_SECRET_KEY", "").strip()
    if env:
        if len(env) < 32:
            raise RuntimeError("WIJKMONITOR_SECRET_KEY is te kort: gebruik minstens 32 "
                               "willekeurige tekens (bijv. python -c 'import secrets; "
                               "print(secrets.token_urlsafe(48))')")
        return env
    return _file_secret(str(var_dir()))


@functools.lru_cache(maxsize=8)
def _file_secret(var: str) -> str:
    path = Path(var) / "secret_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text(encoding="ascii").strip()
        if len(key) < 32:
            raise RuntimeError(f"{path}: sleutel te kort of leeg; verwijder het bestand of zet "
                               "WIJKMONITOR_SECRET_KEY") from None
        return key
    key = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key + "\n")
    log.info("new session key written to %s", path)
    return key


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key(), salt="wijkmonitor-beheer-sessie")


def secure_cookies(request: Request) -> bool:
    """Whether the session cookie gets the ``Secure`` flag (see the module docstring)."""
    env = os.environ.get("WIJKMONITOR_SECURE_COOKIES", "").strip().lower()
    if env in ("1", "true", "ja", "yes", "on"):
        return True
    if env in ("0", "false", "nee", "no", "off"):
        return False
    if request.url.scheme == "https":
        return True
    return (request.url.hostname or "") not in LOOPBACK


class WebSession:
    """The signed cookie's content: the random session token ``s`` (see :mod:`.sessions`), at
    most one flash message ``f`` and ``a`` (a hint that the token was issued at a login, so
    anonymous visitors cost no database lookup; it grants nothing). Who is logged in is known
    only to the database; the CSRF token is derived from the session token (so it changes at
    every login and logout)."""

    def __init__(self, data: dict | None):
        valid = isinstance(data, dict) and isinstance(data.get("s"), str) \
            and 20 <= len(data["s"]) <= 100
        self.dirty = not valid
        self.data = {k: v for k, v in data.items() if k in ("s", "f", "a")} if valid \
            else {"s": sessions.new_token()}

    @property
    def token(self) -> str:
        return self.data["s"]

    @property
    def csrf(self) -> str:
        return hmac.new(secret_key().encode(), b"csrf:" + self.token.encode(),
                        hashlib.sha256).hexdigest()

    def rotate(self, token: str | None = None) -> None:
        """A new token (login: the session's; logout: an anonymous one): no session
        fixation, and the old CSRF token stops working."""
        self.data = {"s": token, "a": 1} if token else {"s": sessions.new_token()}
        self.dirty = True

    def forget_login(self) -> None:
        """The session behind the token has ended: stop looking it up."""
        if self.data.pop("a", None) is not None:
            self.dirty = True

    def flash(self, message: str) -> None:
        self.data["f"] = message
        self.dirty = True

    def pop_flash(self) -> str | None:
        if "f" in self.data:
            self.dirty = True
            return self.data.pop("f")
        return None


def web_session(request: Request) -> WebSession:
    """The session of this request (read once from the cookie; a fresh anonymous one when
    missing, forged or older than :data:`SESSION_MAX_AGE`)."""
    sess = getattr(request.state, "wm_session", None)
    if sess is None:
        raw = request.cookies.get(COOKIE)
        data = None
        if raw and len(raw) < 4096:
            try:
                data = _serializer().loads(raw, max_age=SESSION_MAX_AGE)
            except BadSignature:  # includes SignatureExpired
                data = None
        sess = WebSession(data if isinstance(data, dict) else None)
        request.state.wm_session = sess
    return sess


def _save_session(request: Request, response: Response) -> None:
    sess = getattr(request.state, "wm_session", None)
    if sess is not None and sess.dirty:
        response.set_cookie(COOKIE, _serializer().dumps(sess.data), httponly=True,
                            samesite="lax", secure=secure_cookies(request), path="/")


@dataclass(frozen=True)
class Who:
    """The acting user, detached from any database session (satisfies the services' Actor)."""

    id: int | None
    name: str
    role: str
    gemeente: str | None

    @classmethod
    def of(cls, user: User) -> "Who":
        return cls(user.id, user.name, user.role, user.gemeente)

    @property
    def role_label(self) -> str:
        label = ROLE_LABELS.get(self.role, self.role)
        return f"{label} {self.gemeente}" if self.gemeente else label

    @property
    def may_edit(self) -> bool:
        return self.role in (ROLE_EDITOR, ROLE_PROGRAMME, ROLE_ADMIN)


# ---------------------------------------------------------------------------------------------
# Errors, route class (CSRF, session cookie, error pages)
# ---------------------------------------------------------------------------------------------

class Refused(Exception):
    """Stop the request with ``status`` and a Dutch ``message``."""

    def __init__(self, status: int, message: str, headers: dict | None = None,
                 extra: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.headers, self.extra = status, message, headers, extra


class LoginRequired(Exception):
    """An HTML page needs a logged-in user: redirect to the login form."""


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    auth = request.headers.get("authorization", "")
    if not auth[:6].lower() == "basic ":
        return None
    try:
        name, _, password = base64.b64decode(auth[6:].strip(), validate=True) \
            .decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise Refused(401, "HTTP Basic: ongeldige codering van naam en wachtwoord",
                      _challenge()) from None
    return name, password


def _challenge() -> dict:
    return {"WWW-Authenticate": 'Basic realm="wijkmonitor-beheer", charset="UTF-8"'}


async def _guard(request: Request) -> None:
    """Checks before a state-changing request reaches its handler: body size, content type,
    body parsing, and the CSRF token (unless the API call authenticates with HTTP Basic)."""
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise Refused(413, f"Het verzoek is te groot (meer dan {MAX_BODY_BYTES // 1024 // 1024} "
                           "MB); er is niets opgeslagen.")
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    api = _is_api(request)
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
                request.state.wm_json = json.loads(raw)
            except (ValueError, UnicodeDecodeError, RecursionError):
                raise Refused(400, "De inhoud is geen geldige JSON") from None
        if _basic_credentials(request) is not None:
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
    if length and length.isdigit() and int(length) > limit:
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
        return _error_response(request, 404, f"{what} {str(value)[:30]} bestaat niet "
                                             f"(een nummer van 1 tot en met {bounds.MAX_ID})")
    fields = sorted({str(e.get("loc", ("", "?"))[-1]) for e in errors})
    return _error_response(request, 422, "ongeldige waarde voor " + ", ".join(fields)
                           + ": geef een geheel getal of een tekst zoals beschreven")


def _error_response(request: Request, status: int, message: str, headers: dict | None = None,
                    extra: dict | None = None) -> Response:
    if _is_api(request):
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


class _Route(APIRoute):
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
                response = _error_response(request, exc.status, exc.message, exc.headers,
                                           exc.extra)
            except LoginRequired:
                target = request.url.path + (f"?{request.url.query}" if request.url.query
                                             else "")
                response = RedirectResponse(f"/beheer/inloggen?volgende={quote(target)}",
                                            status_code=303)
            except PermissionDenied as exc:
                response = _error_response(request, 403, str(exc))
            except NotFound as exc:
                response = _error_response(request, 404, str(exc))
            except ValidationFailed as exc:
                response = _error_response(request, 422, exc.summary,
                                           extra={"errors": [e.as_dict() for e in exc.errors],
                                                  "file": exc.file})
            except RequestValidationError as exc:
                response = _invalid_request(request, exc)
            except (sa_exc.OperationalError, sa_exc.ProgrammingError) as exc:
                log.error("editable store unavailable: %s", exc)
                response = _error_response(request, 503, DATABASE_MESSAGE)
            if not _is_api(request):
                response.headers.setdefault("Cache-Control", "no-store")
            _save_session(request, response)
            return response

        return wrapped


# ---------------------------------------------------------------------------------------------
# Templates
# ---------------------------------------------------------------------------------------------

def _nl(x: Any, decimals: int | None = None) -> str:
    """A number in Dutch notation (decimal comma); ``–`` for missing."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if isinstance(x, (int, float)):
        if decimals is not None:
            text = f"{x:,.{decimals}f}"
        elif float(x).is_integer():
            text = f"{int(x):,}"
        else:
            text = f"{x:,.6g}" if abs(x) < 1e6 else f"{x:,.2f}"
        return text.replace(",", "\u202f").replace(".", ",")
    return str(x)


def _nav() -> list:
    try:
        from wijkmonitor.web.app import NAV
        return list(NAV)
    except Exception:
        return [("/", "Start")]


def _build_templates() -> Jinja2Templates:
    loaders = [jinja2.FileSystemLoader(str(HERE / "templates"))]
    base = "beheer/_base.html"
    if (WEB_TEMPLATES / "base.html").is_file():
        loaders.append(jinja2.FileSystemLoader(str(WEB_TEMPLATES)))
        base = "base.html"
    env = jinja2.Environment(loader=jinja2.ChoiceLoader(loaders),
                             autoescape=jinja2.select_autoescape(["html", "xml"]),
                             trim_blocks=True, lstrip_blocks=True)
    env.filters["nl"] = _nl
    env.globals.update(WM_BASE=base, DASH="–", ROLE_LABELS=ROLE_LABELS,
                       ACTION_LABELS=ACTION_LABELS, ENTITY_LABELS=ENTITY_LABELS,
                       STATUS_LABELS=STATUS_LABELS)
    return Jinja2Templates(env=env)


TEMPLATES = _build_templates()
_OWN_FILTERS = frozenset(TEMPLATES.env.filters) - frozenset(jinja2.filters.FILTERS)
_OWN_GLOBALS = frozenset(TEMPLATES.env.globals) - frozenset(jinja2.defaults.DEFAULT_NAMESPACE)


def _sync_site_env() -> None:
    """Give the beheer templates the site's Jinja globals and filters (its ``base.html`` and
    macros use them), keeping the ones this module defines itself."""
    try:
        import wijkmonitor.web.pages  # noqa: F401  (completes the site's template globals)
        from wijkmonitor.web.app import TEMPLATES as site
    except Exception:  # the site is not installed: beheer/_base.html needs nothing
        log.debug("site templates unavailable", exc_info=True)
        return
    env = TEMPLATES.env
    env.globals.update({k: v for k, v in site.env.globals.items() if k not in _OWN_GLOBALS})
    env.filters.update({k: v for k, v in site.env.filters.items() if k not in _OWN_FILTERS})


def render(request: Request, template: str, *, status: int = 200, **ctx) -> HTMLResponse:
    """Render one of the beheer templates with the common context."""
    sess = web_session(request)
    ctx.setdefault("title", "Beheer")
    ctx.update(path=request.url.path, csrf_token=sess.csrf, flash=sess.pop_flash(),
               me=getattr(request.state, "wm_who", None), NAV=_nav())
    _sync_site_env()
    return TEMPLATES.TemplateResponse(request, template, ctx, status_code=status)


# ---------------------------------------------------------------------------------------------
# Forms: parsing and error mapping
# ---------------------------------------------------------------------------------------------

class FormErrors(dict):
    """field id -> Dutch message (insertion order = order in the summary); ``None`` key for
    errors about the whole form (linked to ``first`` field)."""

    def __init__(self, first: str):
        super().__init__()
        self.first = first

    def add(self, fieldname: str | None, message: str) -> None:
        key = fieldname or self.first
        self[key] = f"{self[key]} {message}" if key in self else message

    def summary(self) -> list[dict]:
        return [{"field": k, "message": v} for k, v in self.items()]


def _map_service_error(errors: FormErrors, message: str, mapping: list[tuple[str, str]]) -> None:
    for part in [p.strip() for p in message.split("; ") if p.strip()]:
        low = part.lower()
        target = next((f for key, f in mapping if low.startswith(key) or f" {key}" in low[:40]),
                      None)
        errors.add(target, part[:1].upper() + part[1:])


def _form(request: Request):
    form = getattr(request.state, "wm_form", None)
    if form is None:
        raise Refused(400, "Het formulier is leeg of heeft een onbekend formaat.")
    return form


def _text(form, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


TARGET_ERROR_FIELDS = [("streefjaar", "streefjaar"), ("streefwaarde", "streefwaarde"),
                       ("beginjaar", "beginjaar"), ("een beginwaarde", "beginwaarde"),
                       ("beginwaarde", "beginwaarde"), ("tussendoel", "tussendoelen"),
                       ("polar", "richting"), ("indicator", "indicator"), ("gebied", "gebied")]
INTERVENTION_ERROR_FIELDS = [("title", "titel"), ("titel", "titel"),
                             ("organisation_type", "organisatietype"), ("status", "status"),
                             ("start_date", "startdatum"), ("end_date", "einddatum"),
                             ("budget", "budget"), ("areas", "gebieden"),
                             ("gebied", "gebieden"), ("indicator", "indicatoren"),
                             ("evaluation_links", "evaluatielinks")]


def _bounded_number(text: str) -> float | None:
    """A number from a form field, or ``None`` when it is not one or is out of range."""
    value = parse_number(text)
    return None if value is None or bounds.number_problem(value) else value


def parse_milestones(text: str) -> dict[int, float] | int | None:
    """``"2026: 12,5; 2028: 11"`` -> ``{2026: 12.5, 2028: 11.0}``; ``None`` when malformed;
    the year (an ``int``) when a year is given twice."""
    out: dict[int, float] = {}
    for part in filter(None, (p.strip() for p in text.replace("\n", ";").split(";"))):
        year, sep, value = part.partition(":")
        y, v = parse_year(year), _bounded_number(value)
        if not sep or y is None or v is None:
            return None
        if y in out:
            return y
        out[y] = v
    return out


def parse_target_form(form, *, fixed: bool) -> tuple[dict, dict, FormErrors]:
    """Raw values, keyword arguments for :func:`.targets.set_target`, and field errors."""
    raw = {k: _text(form, k) for k in ("gebied", "indicator", "streefwaarde", "streefjaar",
                                       "beginjaar", "beginwaarde", "tussendoelen", "richting",
                                       "reden")}
    errors = FormErrors("streefwaarde" if fixed else "gebied")
    bounds.check_form(raw, bounds.TARGET_FORM, errors.add)
    if errors:
        return raw, {}, errors
    if not fixed:
        if not raw["gebied"]:
            errors.add("gebied", "Kies een gebied.")
        if not raw["indicator"]:
            errors.add("indicator", "Kies een indicator.")
    kwargs: dict[str, Any] = {"reason": raw["reden"]}
    value = _bounded_number(raw["streefwaarde"])
    if value is None:
        errors.add("streefwaarde", "Vul de streefwaarde in als getal, bijvoorbeeld 12,5."
                   if raw["streefwaarde"] else "Vul een streefwaarde in.")
    kwargs["target_value"] = value
    year = parse_year(raw["streefjaar"])
    if year is None:
        errors.add("streefjaar", "Vul het streefjaar in als jaartal tussen 1900 en 2100.")
    kwargs["target_year"] = year
    kwargs["baseline_year"] = None
    if raw["beginjaar"]:
        kwargs["baseline_year"] = parse_year(raw["beginjaar"])
        if kwargs["baseline_year"] is None:
            errors.add("beginjaar", "Vul het beginjaar in als jaartal tussen 1900 en 2100.")
    kwargs["baseline_value"] = None
    if raw["beginwaarde"]:
        kwargs["baseline_value"] = _bounded_number(raw["beginwaarde"])
        if kwargs["baseline_value"] is None:
            errors.add("beginwaarde", "Vul de beginwaarde in als getal, bijvoorbeeld 14,2.")
        elif not raw["beginjaar"]:
            errors.add("beginjaar", "Een beginwaarde hoort bij een beginjaar: vul het jaar in.")
    if raw["tussendoelen"]:
        ms = parse_milestones(raw["tussendoelen"])
        if ms is None:
            errors.add("tussendoelen", "Schrijf tussendoelen als 'jaar: waarde', gescheiden door "
                                       "een puntkomma, bijvoorbeeld 2026: 12,5; 2028: 11.")
        elif isinstance(ms, int):
            errors.add("tussendoelen", f"Het jaar {ms} staat twee keer bij de tussendoelen.")
            ms = None
        kwargs["milestones"] = ms or {}
    richting = raw["richting"] or "catalogus"
    if richting not in dict(POLARITY_CHOICES):
        errors.add("richting", "Kies een richting uit de lijst.")
    kwargs["polarity"] = None if richting == "catalogus" else richting
    raw["richting"] = richting
    return raw, kwargs, errors


def _split_list(text: str) -> list[str]:
    return [p.strip() for p in text.replace("\n", ";").replace(",", ";").split(";") if p.strip()]


def parse_intervention_form(form) -> tuple[dict, dict, FormErrors]:
    """Raw values, keyword arguments for :func:`.interventions.save_intervention`, errors."""
    keys = ("titel", "beschrijving", "actielijn", "thema", "organisatietype", "organisatie",
            "andere_gebieden", "startdatum", "einddatum", "status", "budget", "evaluatielinks")
    raw: dict[str, Any] = {k: _text(form, k) for k in keys}
    raw["gebieden"] = [v for v in form.getlist("gebieden") if isinstance(v, str) and v]
    raw["indicatoren"] = [v for v in form.getlist("indicatoren") if isinstance(v, str) and v]
    errors = FormErrors("titel")
    bounds.check_form(raw, bounds.INTERVENTION_FORM, errors.add)
    raw["gebieden"] = bounds.check_choices(raw["gebieden"], "gebieden", "Gebieden",
                                           bounds.MAX_AREA_KEY, bounds.MAX_AREAS, errors.add)
    raw["indicatoren"] = bounds.check_choices(raw["indicatoren"], "indicatoren", "Indicatoren",
                                              bounds.LENGTHS["indicator"],
                                              bounds.MAX_INDICATORS, errors.add)
    if not raw["titel"] and "titel" not in errors:
        errors.add("titel", "Vul een titel in.")
    areas = list(dict.fromkeys(raw["gebieden"] + _split_list(raw["andere_gebieden"])))
    if len(areas) > bounds.MAX_AREAS or any(len(a) > bounds.MAX_AREA_KEY for a in areas):
        errors.add("gebieden", f"Te veel of te lange gebieden: maximaal {bounds.MAX_AREAS} "
                               f"gebieden van hoogstens {bounds.MAX_AREA_KEY} tekens.")
        areas = []
    elif not areas and "gebieden" not in errors:
        errors.add("gebieden", "Kies minstens één gebied.")
    dates = {}
    for key, label in (("startdatum", "startdatum"), ("einddatum", "einddatum")):
        dates[key] = None
        if raw[key]:
            try:
                dates[key] = dt.date.fromisoformat(raw[key])
            except ValueError:
                errors.add(key, f"Vul de {label} in als datum, bijvoorbeeld 2025-03-01.")
    if dates["startdatum"] and dates["einddatum"] and dates["einddatum"] < dates["startdatum"]:
        errors.add("einddatum", "De einddatum ligt vóór de startdatum.")
    budget = None
    if raw["budget"] and "budget" not in errors:
        budget = parse_number(raw["budget"].replace("€", "").replace(" ", ""))
        if budget is None or budget < 0:
            errors.add("budget", "Vul het budget in als positief bedrag in euro's, zonder "
                                 "punten, bijvoorbeeld 250000 of 1250,50.")
            budget = None
        elif budget > bounds.MAX_BUDGET:
            errors.add("budget", f"Het budget is te groot: hoogstens "
                                 f"{bounds.dutch_int(int(bounds.MAX_BUDGET))} euro.")
            budget = None
    status = raw["status"] or "gepland"
    if status not in INTERVENTION_STATUSES:
        errors.add("status", "Kies een status uit de lijst.")
    if raw["organisatietype"] and raw["organisatietype"] not in interventions.ORGANISATION_TYPES:
        errors.add("organisatietype", "Kies een soort organisatie uit de lijst.")
    links = [u for u in (p.strip() for p in raw["evaluatielinks"].splitlines()) if u]
    bad = [u for u in links if not u.startswith(("https://", "http://"))]
    if bad:
        errors.add("evaluatielinks", f"Geen webadres (http:// of https://): "
                                     f"{', '.join(u[:80] for u in bad[:5])}.")
    long_links = [u for u in links if len(u) > bounds.LENGTHS["url"]]
    if long_links:
        errors.add("evaluatielinks", f"Een webadres is te lang: maximaal "
                                     f"{bounds.dutch_int(bounds.LENGTHS['url'])} tekens.")
    if len(links) > bounds.MAX_LINKS:
        errors.add("evaluatielinks", f"Te veel webadressen: maximaal {bounds.MAX_LINKS}.")
    raw["status"] = status
    kwargs = dict(title=raw["titel"], description=raw["beschrijving"],
                  actielijn=raw["actielijn"], theme=raw["thema"],
                  organisation_type=raw["organisatietype"], organisation=raw["organisatie"],
                  start_date=dates["startdatum"], end_date=dates["einddatum"], status=status,
                  budget_eur=None if budget is None else f"{budget:.2f}", areas=areas,
                  indicators=raw["indicatoren"], evaluation_links=links)
    return raw, kwargs, errors


def _safe_next(value: str | None) -> str:
    """Only local paths (no open redirect): ``/beheer/...`` or another site path."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value \
            and len(value) <= 2000 and value.isprintable():
        return value
    return "/beheer/"


# ---------------------------------------------------------------------------------------------
# Lookups for the forms
# ---------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def _all_areas() -> tuple:
    try:
        from wijkmonitor.areas import load_areas
        areas = load_areas()
    except Exception as exc:  # areas not available: the forms still accept CBS codes
        log.warning("areas unavailable for the forms: %s", exc)
        return ()
    out = []
    for a in areas.values():
        if getattr(a, "removed", False):
            continue
        label = f"{a.name} ({PROGRAMME_LABELS.get(a.programme, a.programme)})"
        out.append((a.id, label, a.gemeente))
    return tuple(sorted(out, key=lambda t: t[1].lower()))


def area_options(who: Who | None, editable_only: bool = True) -> list[tuple[str, str]]:
    """``(id, label)`` of the areas ``who`` may edit (or all areas)."""
    return [(i, label) for i, label, gm in _all_areas()
            if not editable_only or can_edit(who, gm)]


@functools.lru_cache(maxsize=1)
def _indicators() -> tuple:
    try:
        from wijkmonitor.catalogue import load_catalogue
        cat = load_catalogue()
    except Exception as exc:
        log.warning("catalogue unavailable for the forms: %s", exc)
        return ()
    return tuple(sorted(((i.id, i.name, i.unit or "", i.theme) for i in cat.values()),
                        key=lambda t: (t[3], t[1].lower())))


def indicator_options() -> list[tuple[str, str]]:
    return [(i, f"{name} ({unit})" if unit else name) for i, name, unit, _ in _indicators()]


def indicator_names() -> dict[str, str]:
    return {i: name for i, name, _, _ in _indicators()}


def actielijn_options() -> list[tuple[str, str]]:
    try:
        from wijkmonitor.catalogue import ACTIELIJNEN
        return [(text, text) for _, text in sorted(ACTIELIJNEN.items())]
    except Exception:
        return []


def theme_options() -> list[str]:
    return sorted({t for *_, t in _indicators() if t})


# ---------------------------------------------------------------------------------------------
# The router
# ---------------------------------------------------------------------------------------------

def create_router(database_url: str | None = None, **overrides) -> APIRouter:
    """Build the router (pages + API) for one database.

    Parameters
    ----------
    database_url : str, optional
        SQLAlchemy URL of the editable store (default ``WIJKMONITOR_DATABASE_URL``, read on
        every request).
    **overrides
        Fields of :class:`WebConfig` (``area_resolver``, ``indicator_resolver``,
        ``codes_provider``, ``observed``), for tests and embedding.
    """
    cfg = WebConfig(database_url=database_url, **overrides)
    router = APIRouter(route_class=_Route)

    # -- helpers bound to cfg ------------------------------------------------------------------

    def session() -> Session:
        return db.session_factory(cfg.database_url)()

    def tx():
        return db.session_scope(cfg.database_url)

    def current(request: Request) -> Who | None:
        """The logged-in user of the session in the cookie (looked up in ``user_sessions``
        on every request: an ended or expired session is no login)."""
        if hasattr(request.state, "wm_who"):
            return request.state.wm_who
        sess = web_session(request)
        who = None
        if sess.data.get("a"):
            with tx() as s:
                user = sessions.lookup(s, sess.token, cfg.clock())
                who = Who.of(user) if user is not None else None
            if who is None:
                sess.forget_login()
        request.state.wm_who = who
        return who

    def client_address(request: Request) -> str:
        return request.client.host if request.client else "onbekend"

    def check_login(request: Request, name: str, password: str) -> User | None:
        """The user if the name and password are right and neither the name nor the client
        address is locked; ``None`` for a wrong name or password (counted); :class:`Refused`
        (429) while locked, for existing and unknown names alike."""
        now, address = cfg.clock(), client_address(request)
        with tx() as s:
            until = throttle.locked_until(s, name, address, now)
        if until is not None:
            wait = max(1, math.ceil((until - now).total_seconds()))
            log.warning("login refused while locked: %r from %s", name[:100], address)
            raise Refused(429, LOCKED_MESSAGE.format(wait=_nl(wait)),
                          {"Retry-After": str(wait)})
        with tx() as s:
            user = accounts.authenticate(s, name, password)
            if user is not None:
                throttle.success(s, name)
                return user
        log.warning("failed login for %r from %s", name[:100], address)
        for attempt in range(2):  # two workers may insert the same counter at once
            try:
                with tx() as s:
                    throttle.failure(s, name, address, now)
                break
            except sa_exc.IntegrityError:
                if attempt:
                    raise
        return None

    def login_required(request: Request) -> Who:
        who = current(request)
        if who is None:
            raise LoginRequired()
        return who

    def api_actor(request: Request) -> Who:
        creds = _basic_credentials(request)
        if creds is not None:
            user = check_login(request, *creds)
            if user is None:
                raise Refused(401, "onjuiste gebruikersnaam of wachtwoord", _challenge())
            return Who.of(user)
        who = current(request)
        if who is None:
            raise Refused(401, "inloggen vereist: log in via /beheer/inloggen (cookie en "
                               "X-CSRF-Token) of gebruik HTTP Basic", _challenge())
        return who

    def target_json(t: Target) -> dict:
        item = t.to_dict()
        item["indicator_name"] = indicator_names().get(t.indicator_id, t.indicator_id)
        prog = targets.target_progress(t, cfg.observed(t)).as_dict()
        prog["observed_source"] = public.OBSERVED_SOURCE if prog["latest_year"] else None
        item["progress"] = prog
        return item

    svc = dict(area_resolver=cfg.area_resolver, indicator_resolver=cfg.indicator_resolver)

    # -- login / logout ------------------------------------------------------------------------

    @router.get("/beheer", include_in_schema=False)
    def beheer_redirect():
        return RedirectResponse("/beheer/", status_code=308)

    @router.get("/beheer/", response_class=HTMLResponse, include_in_schema=False)
    def start(request: Request):
        who = login_required(request)
        return _start_page(request, who)

    def _start_page(request, who, errors=None, status=200):
        return render(request, "beheer/start.html", status=status,
                      title=("Fout: " if errors else "") + "Beheer", who=who,
                      errors=errors or FormErrors("gebruikersnaam"),
                      idle_minutes=int(sessions.IDLE_TIMEOUT.total_seconds() // 60),
                      absolute_hours=int(sessions.ABSOLUTE_TIMEOUT.total_seconds() // 3600))

    @router.post("/beheer/sessies/beeindigen", include_in_schema=False)
    def end_sessions(request: Request):
        """"Overal uitloggen": every session of the user itself, or (administrators) of the
        account named in ``gebruikersnaam``."""
        who = login_required(request)
        name = _text(_form(request), "gebruikersnaam") or who.name
        try:
            with tx() as s:
                n = accounts.log_out_everywhere(s, who, name)
        except NotFound:
            errors = FormErrors("gebruikersnaam")
            errors.add("gebruikersnaam", "Deze gebruiker bestaat niet of is uitgeschakeld.")
            return _start_page(request, who, errors, status=422)
        if name == who.name:
            web_session(request).rotate()
            request.state.wm_who = None
            web_session(request).flash(f"U bent overal uitgelogd ({n} sessie(s) beëindigd).")
            return RedirectResponse("/beheer/inloggen", status_code=303)
        web_session(request).flash(f"{name} is overal uitgelogd ({n} sessie(s) beëindigd).")
        return RedirectResponse("/beheer/", status_code=303)

    @router.get("/beheer/inloggen", response_class=HTMLResponse, include_in_schema=False)
    def login_form(request: Request, volgende: str | None = None):
        current(request)
        return render(request, "beheer/inloggen.html", title="Inloggen",
                      form={"gebruikersnaam": "", "volgende": _safe_next(volgende)},
                      errors=FormErrors("gebruikersnaam"))

    @router.post("/beheer/inloggen", response_class=HTMLResponse, include_in_schema=False)
    def login(request: Request):
        form = _form(request)
        name, password = _text(form, "gebruikersnaam"), form.get("wachtwoord") or ""
        nxt = _safe_next(_text(form, "volgende"))
        errors = FormErrors("gebruikersnaam")
        if not name:
            errors.add("gebruikersnaam", "Vul uw gebruikersnaam in.")
        if not password:
            errors.add("wachtwoord", "Vul uw wachtwoord in.")
        status = 422
        if not errors:
            try:
                user = check_login(request, name, password)
            except Refused as exc:
                user, status = None, exc.status
                errors.add("gebruikersnaam", exc.message)
                request.state.wm_retry_after = exc.headers
            else:
                status = 401
                if user is not None:
                    with tx() as s:
                        token = sessions.start(s, user, cfg.clock())
                    web_session(request).rotate(token)
                    request.state.wm_who = Who.of(user)
                else:
                    errors.add("gebruikersnaam",
                               "De gebruikersnaam of het wachtwoord klopt niet.")
        if errors:
            response = render(request, "beheer/inloggen.html", status=status,
                              title="Fout: inloggen", errors=errors,
                              form={"gebruikersnaam": name.replace("\x00", "")[:100],
                                    "volgende": nxt})
            response.headers.update(getattr(request.state, "wm_retry_after", None) or {})
            return response
        web_session(request).flash(f"U bent ingelogd als {name}.")
        return RedirectResponse(nxt, status_code=303)

    @router.post("/beheer/uitloggen", include_in_schema=False)
    def logout(request: Request):
        with tx() as s:
            sessions.end(s, web_session(request).token)
        web_session(request).rotate()
        web_session(request).flash("U bent uitgelogd.")
        request.state.wm_who = None
        return RedirectResponse("/beheer/inloggen", status_code=303)

    # -- targets (streefwaarden) ---------------------------------------------------------------

    @router.get("/beheer/streefwaarden", response_class=HTMLResponse, include_in_schema=False)
    def targets_page(request: Request, gebied: str | None = None):
        who = login_required(request)
        with session() as s:
            items = targets.list_targets(s, area=gebied or None, **{"area_resolver":
                                                                   cfg.area_resolver})
            rows = [dict(target_json(t), editable=can_edit(who, t.gemeente)) for t in items]
        return render(request, "beheer/streefwaarden.html", title="Streefwaarden", rows=rows,
                      gebied=gebied or "", areas=area_options(who, editable_only=False),
                      who=who)

    def _target_form(request, who, *, target=None, raw=None, errors=None, status=200):
        fixed = target is not None
        if raw is None:
            raw = {"richting": "catalogus"}
            if target is not None:
                raw.update(
                    streefwaarde=_nl(target.target_value).replace("\u202f", ""),
                    streefjaar=str(target.target_year),
                    beginjaar="" if target.baseline_year is None else str(target.baseline_year),
                    beginwaarde="" if target.baseline_value is None
                    else _nl(target.baseline_value).replace("\u202f", ""),
                    tussendoelen="; ".join(f"{m.year}: {_nl(m.value)}"
                                           for m in target.milestones),
                    richting=target.polarity, reden=target.reason)
        title = (f"Streefwaarde wijzigen: {target.area_name}" if fixed
                 else "Nieuwe streefwaarde")
        errors = errors if errors is not None else FormErrors("gebied")
        return render(request, "beheer/streefwaarde_form.html", status=status,
                      title=("Fout: " if errors else "") + title, heading=title,
                      target=target, form=raw, errors=errors,
                      area_choices=area_options(who), indicator_choices=indicator_options(),
                      polarity_choices=POLARITY_CHOICES,
                      indicator_name=indicator_names().get(target.indicator_id,
                                                           target.indicator_id)
                      if target else None,
                      action=(f"/beheer/streefwaarden/{target.id}/wijzigen" if fixed
                              else "/beheer/streefwaarden/nieuw"))

    @router.get("/beheer/streefwaarden/nieuw", response_class=HTMLResponse,
                include_in_schema=False)
    def target_new_form(request: Request, gebied: str | None = None):
        who = login_required(request)
        if not who.may_edit:
            raise PermissionDenied(f"{who.name} ({who.role}) mag geen streefwaarden wijzigen")
        raw = {"richting": "catalogus", "gebied": gebied or ""}
        return _target_form(request, who, raw=raw)

    def _save_target(request, who, target_id: int | None):
        raw, kwargs, errors = parse_target_form(_form(request), fixed=target_id is not None)
        target = None
        if target_id is not None:
            with session() as s:
                target = targets.get_target(s, target_id)
                # Permission on the stored target first: no hint about valid input for a
                # target the user may not change.
                if not can_edit(who, target.gemeente):
                    scope = target.gemeente or "meerdere gemeenten"
                    raise PermissionDenied(f"{who.name} ({who.role_label}) mag streefwaarden "
                                           f"van {scope} niet wijzigen")
        if not errors:
            area = target.area_id if target else raw["gebied"]
            indicator = target.indicator_id if target else raw["indicator"]
            try:
                with tx() as s:
                    saved = targets.set_target(s, who, area, indicator, **kwargs, **svc)
                    label = f"{saved.area_name} – {saved.indicator_id}"
            except (ValidationFailed, NotFound) as exc:
                _map_service_error(errors, getattr(exc, "summary", str(exc)),
                                   TARGET_ERROR_FIELDS)
        if errors:
            return _target_form(request, who, target=target, raw=raw, errors=errors, status=422)
        web_session(request).flash(f"Streefwaarde opgeslagen: {label}.")
        return RedirectResponse("/beheer/streefwaarden", status_code=303)

    def _editable_target(who, target_id: int):
        """The stored target, if ``who`` may change it (else PermissionDenied)."""
        with session() as s:
            target = targets.get_target(s, target_id)
        if not can_edit(who, target.gemeente):
            raise PermissionDenied(f"{who.name} mag de streefwaarden van {target.area_name} "
                                   "niet wijzigen")
        return target

    @router.post("/beheer/streefwaarden/nieuw", include_in_schema=False)
    def target_create(request: Request):
        return _save_target(request, login_required(request), None)

    @router.get("/beheer/streefwaarden/{target_id}/wijzigen", response_class=HTMLResponse,
                include_in_schema=False)
    def target_edit_form(request: Request, target_id: RowId):
        who = login_required(request)
        target = _editable_target(who, target_id)
        return _target_form(request, who, target=target)

    @router.post("/beheer/streefwaarden/{target_id}/wijzigen", include_in_schema=False)
    def target_update(request: Request, target_id: RowId):
        return _save_target(request, login_required(request), target_id)

    @router.get("/beheer/streefwaarden/{target_id}/verwijderen", response_class=HTMLResponse,
                include_in_schema=False)
    def target_delete_form(request: Request, target_id: RowId):
        who = login_required(request)
        target = _editable_target(who, target_id)
        name = indicator_names().get(target.indicator_id, target.indicator_id)
        return render(request, "beheer/verwijderen.html", title="Streefwaarde verwijderen",
                      what=f"de streefwaarde voor {name} in {target.area_name} "
                           f"({_nl(target.target_value)} in {target.target_year})",
                      action=f"/beheer/streefwaarden/{target_id}/verwijderen",
                      back="/beheer/streefwaarden")

    @router.post("/beheer/streefwaarden/{target_id}/verwijderen", include_in_schema=False)
    def target_delete(request: Request, target_id: RowId):
        who = login_required(request)
        with tx() as s:
            targets.delete_target(s, who, target_id)
        web_session(request).flash("De streefwaarde is verwijderd.")
        return RedirectResponse("/beheer/streefwaarden", status_code=303)

    # -- interventions -------------------------------------------------------------------------

    @router.get("/beheer/interventies", include_in_schema=False)
    def interventions_page(request: Request, gebied: str | None = None,
                           actielijn: str | None = None, formaat: str | None = None):
        who = login_required(request)
        with session() as s:
            items = interventions.list_interventions(s, area=gebied or None,
                                                     actielijn=actielijn or None,
                                                     area_resolver=cfg.area_resolver)
            if formaat in ("csv", "xlsx"):
                data = interventions.export(items, formaat)
                media = ("text/csv; charset=utf-8" if formaat == "csv" else
                         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
                return Response(data, media_type=media, headers={
                    "Content-Disposition": content_disposition("interventies", formaat)})
            if formaat:
                raise Refused(400, "formaat: kies csv of xlsx")
            rows = [dict(i.to_dict(), editable=can_edit(who, i.gemeente)) for i in items]
        params = [(k, v) for k, v in (("gebied", gebied), ("actielijn", actielijn)) if v]
        exports = [(f, "/beheer/interventies?" + urlencode(params + [("formaat", f)]))
                   for f in ("csv", "xlsx")]
        lines = [(k, v) for k, v in actielijn_options()]
        return render(request, "beheer/interventies.html", title="Interventies", rows=rows,
                      gebied=gebied or "", actielijn=actielijn or "", exports=exports,
                      areas=area_options(who, editable_only=False), actielijnen=lines, who=who,
                      indicator_names=indicator_names())

    def _intervention_form(request, who, *, item=None, raw=None, errors=None, status=200):
        if raw is None:
            raw = {"status": "gepland", "gebieden": [], "indicatoren": []}
            if item is not None:
                d = item.to_dict()
                known = {i for i, _ in area_options(who)}
                raw.update(
                    titel=d["title"], beschrijving=d["description"], actielijn=d["actielijn"],
                    thema=d["theme"], organisatietype=d["organisation_type"],
                    organisatie=d["organisation"], startdatum=d["start_date"] or "",
                    einddatum=d["end_date"] or "", status=d["status"],
                    budget="" if d["budget_eur"] is None
                    else f"{d['budget_eur']:.2f}".replace(".", ","),
                    gebieden=[a["id"] for a in d["areas"] if a["id"] in known],
                    andere_gebieden="; ".join(a["id"] for a in d["areas"]
                                              if a["id"] not in known),
                    indicatoren=d["indicators"],
                    evaluatielinks="\n".join(link["url"] for link in d["evaluation_links"]))
        lines = actielijn_options()
        if raw.get("actielijn") and raw["actielijn"] not in dict(lines):
            lines.append((raw["actielijn"], raw["actielijn"]))
        themes = theme_options()
        if raw.get("thema") and raw["thema"] not in themes:
            themes.append(raw["thema"])
        title = f"Interventie wijzigen: {item.title}" if item else "Nieuwe interventie"
        errors = errors if errors is not None else FormErrors("titel")
        return render(request, "beheer/interventie_form.html", status=status,
                      title=("Fout: " if errors else "") + title, heading=title, item=item,
                      form=raw, errors=errors, area_choices=area_options(who),
                      indicator_choices=indicator_options(), actielijnen=lines,
                      themes=[(t, t) for t in themes],
                      organisation_types=list(ORGANISATION_LABELS.items()),
                      statuses=list(STATUS_LABELS.items()),
                      action=(f"/beheer/interventies/{item.id}/wijzigen" if item
                              else "/beheer/interventies/nieuw"))

    def _get_intervention(s: Session, item_id: int) -> Intervention:
        item = s.get(Intervention, item_id)
        if item is None:
            raise NotFound(f"interventie {item_id} bestaat niet")
        return item

    def _save_intervention(request, who, item_id: int | None):
        raw, kwargs, errors = parse_intervention_form(_form(request))
        item = None
        if item_id is not None:
            with session() as s:
                item = _get_intervention(s, item_id)
                if not can_edit(who, item.gemeente):
                    raise PermissionDenied(f"{who.name} mag interventie {item.title!r} niet "
                                           "wijzigen")
        if not errors:
            try:
                with tx() as s:
                    saved = interventions.save_intervention(s, who, intervention_id=item_id,
                                                            **kwargs, **svc)
                    title = saved.title
            except (ValidationFailed, NotFound) as exc:
                _map_service_error(errors, getattr(exc, "summary", str(exc)),
                                   INTERVENTION_ERROR_FIELDS)
        if errors:
            return _intervention_form(request, who, item=item, raw=raw, errors=errors,
                                      status=422)
        web_session(request).flash(f"Interventie opgeslagen: {title}.")
        return RedirectResponse("/beheer/interventies", status_code=303)

    @router.get("/beheer/interventies/nieuw", response_class=HTMLResponse,
                include_in_schema=False)
    def intervention_new_form(request: Request):
        who = login_required(request)
        if not who.may_edit:
            raise PermissionDenied(f"{who.name} ({who.role}) mag geen interventies wijzigen")
        return _intervention_form(request, who)

    @router.post("/beheer/interventies/nieuw", include_in_schema=False)
    def intervention_create(request: Request):
        return _save_intervention(request, login_required(request), None)

    @router.get("/beheer/interventies/{item_id}/wijzigen", response_class=HTMLResponse,
                include_in_schema=False)
    def intervention_edit_form(request: Request, item_id: RowId):
        who = login_required(request)
        with session() as s:
            item = _get_intervention(s, item_id)
        if not can_edit(who, item.gemeente):
            raise PermissionDenied(f"{who.name} mag interventie {item.title!r} niet wijzigen")
        return _intervention_form(request, who, item=item)

    @router.post("/beheer/interventies/{item_id}/wijzigen", include_in_schema=False)
    def intervention_update(request: Request, item_id: RowId):
        return _save_intervention(request, login_required(request), item_id)

    @router.get("/beheer/interventies/{item_id}/verwijderen", response_class=HTMLResponse,
                include_in_schema=False)
    def intervention_delete_form(request: Request, item_id: RowId):
        who = login_required(request)
        with session() as s:
            item = _get_intervention(s, item_id)
        if not can_edit(who, item.gemeente):
            raise PermissionDenied(f"{who.name} mag interventie {item.title!r} niet wijzigen")
        return render(request, "beheer/verwijderen.html", title="Interventie verwijderen",
                      what=f"de interventie ‘{item.title}’",
                      action=f"/beheer/interventies/{item_id}/verwijderen",
                      back="/beheer/interventies")

    @router.post("/beheer/interventies/{item_id}/verwijderen", include_in_schema=False)
    def intervention_delete(request: Request, item_id: RowId):
        who = login_required(request)
        with tx() as s:
            interventions.delete_intervention(s, who, item_id)
        web_session(request).flash("De interventie is verwijderd.")
        return RedirectResponse("/beheer/interventies", status_code=303)

    # -- local data upload ---------------------------------------------------------------------

    def _uploads_page(request, who, *, raw=None, errors=None, rejected=None, status=200):
        with session() as s:
            done = uploads.list_uploads(s, gemeente=who.gemeente
                                        if who.role == ROLE_EDITOR else None)
            done = [u.to_dict() for u in done[:50]]
        raw = raw or {"gemeente": who.gemeente or "", "bron": ""}
        errors = errors if errors is not None else FormErrors("bestand")
        return render(request, "beheer/lokale_gegevens.html", status=status,
                      title=("Fout: " if errors else "") + "Lokale gegevens", form=raw,
                      errors=errors, rejected=rejected, uploads=done, who=who,
                      max_mb=MAX_UPLOAD_BYTES // 1024 // 1024)

    @router.get("/beheer/lokale-gegevens", response_class=HTMLResponse, include_in_schema=False)
    def uploads_page(request: Request):
        return _uploads_page(request, login_required(request))

    @router.post("/beheer/lokale-gegevens", include_in_schema=False)
    def upload(request: Request):
        who = login_required(request)
        form = _form(request)
        raw = {"gemeente": _text(form, "gemeente").upper(), "bron": _text(form, "bron")}
        errors = FormErrors("bestand")
        bounds.check_form(raw, bounds.UPLOAD_FORM, errors.add)
        if not raw["gemeente"] and "gemeente" not in errors:
            errors.add("gemeente", "Vul de gemeentecode in (GMxxxx).")
        if not raw["bron"] and "bron" not in errors:
            errors.add("bron", "Vul de bron in: waar komen de cijfers vandaan?")
        upload_file = form.get("bestand")
        if upload_file is None or isinstance(upload_file, str) or not upload_file.filename:
            errors.add("bestand", "Kies een CSV- of XLSX-bestand.")
        else:
            problem = bounds.text_problem(Path(upload_file.filename).name,
                                          bounds.LENGTHS["filename"])
            if problem:
                errors.add("bestand", f"De bestandsnaam {problem}; geef het bestand een "
                                      "kortere naam.")
        rejected = None
        if not errors:
            data = upload_file.file.read(MAX_UPLOAD_BYTES + 1)  # never more than the limit
            name = Path(upload_file.filename).name
            try:
                if len(data) > MAX_UPLOAD_BYTES:  # permission first, as in uploads.upload
                    require_edit(who, check_gemeente_code(raw["gemeente"]), "lokale gegevens")
                    raise too_large_error(name, None, MAX_UPLOAD_BYTES)
                with tx() as s:
                    rec = uploads.upload(s, who, data, name,
                                         raw["gemeente"], source=raw["bron"],
                                         codes_provider=cfg.codes_provider,
                                         indicators=cfg.indicator_resolver)
                    n, uid = rec.n_values, rec.id
            except ValidationFailed as exc:
                if exc.errors or exc.file:
                    rejected = exc
                    errors.add("bestand", f"Het bestand is afgewezen: {exc.summary}.")
                else:
                    _map_service_error(errors, exc.summary, [("gemeente", "gemeente"),
                                                             ("bron", "bron")])
        if errors:
            return _uploads_page(request, who, raw=raw, errors=errors, rejected=rejected,
                                 status=422)
        web_session(request).flash(f"Upload {uid} opgeslagen: {n} waarden.")
        return RedirectResponse("/beheer/lokale-gegevens", status_code=303)

    # -- audit log -----------------------------------------------------------------------------

    @router.get("/beheer/auditlog", include_in_schema=False)
    def audit_page(request: Request, formaat: str | None = None, onderwerp: str | None = None,
                   limiet: int = 200):
        who = login_required(request)
        limiet = max(1, min(limiet, 5000))
        with session() as s:
            rows = [audit.entry_dict(e) for e in audit.list_entries(
                s, who, entity=onderwerp or None, limit=limiet)]
        if formaat == "json":
            return JSONResponse(rows)
        if formaat:
            raise Refused(400, "formaat: alleen json")
        for r in rows:
            r["before_json"] = json.dumps(r["before"], ensure_ascii=False, indent=1) \
                if r["before"] is not None else None
            r["after_json"] = json.dumps(r["after"], ensure_ascii=False, indent=1) \
                if r["after"] is not None else None
        return render(request, "beheer/auditlog.html", title="Auditlogboek", rows=rows,
                      onderwerp=onderwerp or "", limiet=limiet)

    # -- JSON API ------------------------------------------------------------------------------

    @router.get("/api/v1/session", tags=["beheer"],
                summary="Wie is ingelogd, en het CSRF-token voor verzoeken met de cookie")
    def api_session(request: Request):
        who = current(request)
        return {"user": None if who is None else {"name": who.name, "role": who.role,
                                                  "gemeente": who.gemeente},
                "csrf_token": web_session(request).csrf}

    @router.get("/api/v1/targets", tags=["streefwaarden"],
                summary="Streefwaarden met hun voortgang (status en regel)")
    def api_targets(area: Text = None):
        with session() as s:
            return [target_json(t) for t in targets.list_targets(
                s, area=area or None, area_resolver=cfg.area_resolver)]

    @router.get("/api/v1/targets/{target_id}", tags=["streefwaarden"],
                summary="Eén streefwaarde met voortgang")
    def api_target(target_id: RowId):
        with session() as s:
            return target_json(targets.get_target(s, target_id))

    @router.post("/api/v1/targets", tags=["streefwaarden"], status_code=201,
                 summary="Streefwaarde vastleggen (nieuw of vervangen); inloggen vereist")
    def api_target_create(request: Request):
        who = api_actor(request)
        body = schemas.parse(schemas.TargetBody, request.state.wm_json)
        kwargs = body.service_kwargs()
        if not body.area or not body.indicator:
            raise ValidationFailed("area en indicator zijn verplicht")
        with tx() as s:
            saved = targets.set_target(s, who, body.area, body.indicator, **kwargs, **svc)
            out = target_json(saved)
        return JSONResponse(out, status_code=201)

    @router.put("/api/v1/targets/{target_id}", tags=["streefwaarden"],
                summary="Streefwaarde wijzigen (alle velden); inloggen vereist")
    def api_target_update(request: Request, target_id: RowId):
        who = api_actor(request)
        body = request.state.wm_json
        with session() as s:
            stored = targets.get_target(s, target_id)
            area_id, indicator_id, gemeente = stored.area_id, stored.indicator_id, \
                stored.gemeente
        if not can_edit(who, gemeente):
            raise PermissionDenied(f"{who.name} mag streefwaarden van "
                                   f"{gemeente or 'meerdere gemeenten'} niet wijzigen")
        parsed = schemas.parse(schemas.TargetBody, body)
        kwargs = parsed.service_kwargs()
        if parsed.area not in (None, area_id) or parsed.indicator not in (None, indicator_id):
            raise ValidationFailed("gebied en indicator van een streefwaarde veranderen niet; "
                                   "leg een nieuwe streefwaarde vast (POST)")
        with tx() as s:
            saved = targets.set_target(s, who, area_id, indicator_id, **kwargs, **svc)
            return target_json(saved)

    @router.delete("/api/v1/targets/{target_id}", tags=["streefwaarden"], status_code=204,
                   summary="Streefwaarde verwijderen; inloggen vereist")
    def api_target_delete(request: Request, target_id: RowId):
        who = api_actor(request)
        with tx() as s:
            targets.delete_target(s, who, target_id)
        return Response(status_code=204)

    @router.get("/api/v1/interventions", tags=["interventies"],
                summary="Interventies, te filteren op gebied en actielijn (json, csv, xlsx)")
    def api_interventions(area: Text = None, actielijn: Text = None,
                          format: Literal["json", "csv", "xlsx"] = "json"):
        with session() as s:
            items = interventions.list_interventions(s, area=area or None,
                                                     actielijn=actielijn or None,
                                                     area_resolver=cfg.area_resolver)
            if format in ("csv", "xlsx"):
                media = ("text/csv; charset=utf-8" if format == "csv" else
                         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
                return Response(interventions.export(items, format), media_type=media,
                                headers={"Content-Disposition":
                                         content_disposition("interventies", format)})
            if format != "json":
                raise Refused(400, "format: json, csv of xlsx")
            return [i.to_dict() for i in items]

    def _intervention_kwargs(body: Any) -> dict:
        return schemas.parse(schemas.InterventionBody, body).service_kwargs()

    @router.get("/api/v1/interventions/{item_id}", tags=["interventies"],
                summary="Eén interventie")
    def api_intervention(item_id: RowId):
        with session() as s:
            return _get_intervention(s, item_id).to_dict()

    @router.post("/api/v1/interventions", tags=["interventies"], status_code=201,
                 summary="Interventie vastleggen; inloggen vereist")
    def api_intervention_create(request: Request):
        who = api_actor(request)
        kwargs = _intervention_kwargs(request.state.wm_json)
        if "areas" not in kwargs:
            raise ValidationFailed("areas: minstens één gebied nodig")
        with tx() as s:
            out = interventions.save_intervention(s, who, **kwargs, **svc).to_dict()
        return JSONResponse(out, status_code=201)

    @router.put("/api/v1/interventions/{item_id}", tags=["interventies"],
                summary="Interventie wijzigen (meegegeven velden); inloggen vereist")
    def api_intervention_update(request: Request, item_id: RowId):
        who = api_actor(request)
        with session() as s:  # permission on the stored item first, before any validation
            item = _get_intervention(s, item_id)
            if not can_edit(who, item.gemeente):
                raise PermissionDenied(f"{who.name} mag interventie {item.title!r} "
                                       f"({item.gemeente or 'meerdere gemeenten'}) niet wijzigen")
        kwargs = _intervention_kwargs(request.state.wm_json)
        with tx() as s:
            return interventions.save_intervention(s, who, intervention_id=item_id, **kwargs,
                                                   **svc).to_dict()

    @router.delete("/api/v1/interventions/{item_id}", tags=["interventies"], status_code=204,
                   summary="Interventie verwijderen; inloggen vereist")
    def api_intervention_delete(request: Request, item_id: RowId):
        who = api_actor(request)
        with tx() as s:
            interventions.delete_intervention(s, who, item_id)
        return Response(status_code=204)

    @router.get("/api/v1/local-values", tags=["lokale gegevens"],
                summary="Door gemeenten zelf aangeleverde waarden, met hun bron (los van CBS)")
    def api_local_values(area: Text = None, gemeente: GemeenteCode = None,
                         indicator: IndicatorId = None, limit: Limit = 5000,
                         offset: Offset = 0):
        """Local values are never merged with CBS values: every row has ``origin: lokaal``
        and the ``source`` declared with its upload. Paged with ``limit`` and ``offset``;
        ``X-Total-Count`` gives the number of rows without paging."""
        regions: list[str] | None = None
        if area:
            ref = cfg.area_resolver(area)
            regions = [ref.id] + [c for c in ref.codes if c != ref.id]
        with session() as s:
            frame = uploads.local_values(s, gemeente=(gemeente or "").upper() or None,
                                         indicator_id=indicator or None, regions=regions)
        return JSONResponse(public.local_value_records(frame, regions or (), limit=limit,
                                                       offset=offset),
                            headers={"X-Total-Count": str(len(frame))})

    return router


#: The router for the configured database (``WIJKMONITOR_DATABASE_URL``).
router = create_router()
