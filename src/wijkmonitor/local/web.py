"""Web part of the local monitor: Dutch forms under ``/beheer/`` and a JSON API under ``/api/v1/``.

This module is the one point where the public site mounts the beheer side:
:func:`wijkmonitor.web.app.include_beheer` calls ``app.include_router(create_router(
database_url=...))`` (no middleware needed, the router keeps its own signed session cookie);
``wijkmonitor serve`` therefore serves ``/beheer``. The site imports nothing else of
:mod:`wijkmonitor.local.routes`; the beheer pages take the shared layout (``base.html``, the
navigation, the template filters) from :mod:`wijkmonitor.web.layout`, never from the site's
app or pages, so the imports run one way. The routes live in :mod:`wijkmonitor.local.routes`,
one module per concern. A database error (server down, schema not migrated) gives 503 with a
Dutch message, never a half-written change.

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

from fastapi import APIRouter

from .routes import accounts, admin, interventions, local_values, targets, uploads
from .routes.context import Beheer, WebConfig, Who  # noqa: F401  (re-exported)
from .routes.cookies import (COOKIE, SESSION_MAX_AGE, WebSession, _file_secret,  # noqa: F401
                             _serializer, secret_key, secure_cookies, web_session)
from .routes.guard import MAX_BODY_BYTES, BeheerRoute, RowId  # noqa: F401  (re-exported)

#: The route modules, in the order their routes are added: first every page, then the JSON API
#: (the order of the OpenAPI document)
PAGES = (accounts, targets, interventions, uploads, admin)
API = (accounts, targets, interventions, local_values)


def create_router(database_url: str | None = None, **overrides) -> APIRouter:
    """Build the router (pages + API) for one database.

    Parameters
    ----------
    database_url : str, optional
        SQLAlchemy URL of the editable store (default ``WIJKMONITOR_DATABASE_URL``, read on
        every request).
    **overrides
        Fields of :class:`WebConfig` (``area_resolver``, ``indicator_resolver``,
        ``codes_provider``, ``observed``, ``clock``), for tests and embedding.
    """
    ctx = Beheer(WebConfig(database_url=database_url, **overrides))
    router = APIRouter(route_class=BeheerRoute)
    for module in PAGES:
        module.pages(router, ctx)
    for module in API:
        module.api(router, ctx)
    return router


#: The router for the configured database (``WIJKMONITOR_DATABASE_URL``).
router = create_router()
