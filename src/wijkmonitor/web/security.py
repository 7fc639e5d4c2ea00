"""What every response of the site carries, and how long a reader may keep a worker busy.

Two pure ASGI middlewares, installed once by :func:`wijkmonitor.web.app.create_app`:

:class:`SecurityHeaders`
    Adds :data:`HEADERS` to every response (pages, API, static files, errors, redirects): a
    Content-Security-Policy without ``unsafe-inline`` for scripts and styles (every script and
    style sheet is a file under ``/static``; the vendored map library runs from there and
    needs ``blob:`` workers and ``data:``/``blob:`` images), ``X-Content-Type-Options:
    nosniff``, ``frame-ancestors 'none'`` and ``X-Frame-Options: DENY``, a
    ``Referrer-Policy``, and removes any ``server`` header (``wijkmonitor serve`` also starts
    uvicorn with ``server_header=False``).

:class:`RequestTimeout`
    A read (GET or HEAD outside ``/beheer/``: everything an anonymous visitor can ask) that
    has not started its answer after :data:`DEFAULT_TIMEOUT` seconds
    (``WIJKMONITOR_REQUEST_TIMEOUT``) gets ``503`` with a Dutch message and ``Retry-After``,
    instead of a hanging connection. The work itself cannot be interrupted inside a worker
    thread; it runs to its end and its answer is dropped. The bounds on every parameter
    (:mod:`wijkmonitor.bounds`) keep that work small.
"""

from __future__ import annotations

import json
import math
import os

import anyio

#: The site's Content-Security-Policy. ``worker-src``/``child-src blob:`` and ``img-src
#: data: blob:`` are what MapLibre GL JS needs when it is served from our own origin.
CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "child-src 'self' blob:",
    "frame-src 'none'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

HEADERS: dict[str, str] = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "strict-origin-when-cross-origin",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
_ENCODED = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in HEADERS.items()]
_DROP = {b"server", *(k for k, _ in _ENCODED)}


class SecurityHeaders:
    """Pure ASGI middleware: :data:`HEADERS` on every HTTP response, no ``server`` header."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.lower() not in _DROP]
                message = dict(message, headers=headers + _ENCODED)
            await send(message)

        await self.app(scope, receive, send_with_headers)


#: Seconds a read may take before it is answered with 503 (``WIJKMONITOR_REQUEST_TIMEOUT``).
DEFAULT_TIMEOUT = 20.0
TIMEOUT_ENV = "WIJKMONITOR_REQUEST_TIMEOUT"
TIMEOUT_MESSAGE = ("Dit verzoek kostte meer dan {seconds:g} seconden en is afgebroken. Vraag "
                   "minder tegelijk (minder gebieden, jaren of rijen; zie limit en offset) of "
                   "probeer het later opnieuw.")


def configured_timeout() -> float:
    """``WIJKMONITOR_REQUEST_TIMEOUT`` in seconds (default :data:`DEFAULT_TIMEOUT`; 0: none)."""
    raw = os.environ.get(TIMEOUT_ENV, "").strip()
    if not raw:
        return DEFAULT_TIMEOUT
    try:
        value = float(raw.replace(",", "."))
    except ValueError:
        raise RuntimeError(f"{TIMEOUT_ENV}={raw!r} is geen aantal seconden") from None
    return value if value > 0 else math.inf


def _bounded(scope) -> bool:
    return (scope["type"] == "http" and scope.get("method") in ("GET", "HEAD")
            and not scope.get("path", "").startswith("/beheer"))


class RequestTimeout:
    """Pure ASGI middleware: a read that has not started its answer after ``seconds`` gets
    503 with :data:`TIMEOUT_MESSAGE` (JSON under ``/api/``, an HTML page elsewhere)."""

    def __init__(self, app, seconds: float | None = None, render_page=None):
        self.app = app
        self.seconds = configured_timeout() if seconds is None else seconds
        #: ``(scope, message) -> bytes``: the HTML error page (default: a plain Dutch page)
        self.render_page = render_page

    async def __call__(self, scope, receive, send):
        if not _bounded(scope) or math.isinf(self.seconds):
            return await self.app(scope, receive, send)
        state = {"started": False, "timed_out": False, "error": None, "done": False}
        started = anyio.Event()

        async def guarded_send(message):
            if state["timed_out"]:
                return  # the visitor already has the 503: the late answer is dropped
            if message["type"] == "http.response.start":
                state["started"] = True
                started.set()
            await send(message)

        async def run():
            try:
                await self.app(scope, receive, guarded_send)
            except Exception as exc:  # re-raised below, outside the task group
                state["error"] = exc
            finally:
                state["done"] = True
                started.set()

        async with anyio.create_task_group() as tg:
            tg.start_soon(run)
            with anyio.move_on_after(self.seconds):
                await started.wait()
            if not state["started"] and not state["done"]:
                state["timed_out"] = True
                await self._answer(scope, send)
                # the handler's thread cannot be stopped; the task group waits for it and
                # its answer goes nowhere
                tg.cancel_scope.cancel()
        if state["error"] is not None and not state["timed_out"]:
            raise state["error"]

    async def _answer(self, scope, send):
        text = TIMEOUT_MESSAGE.format(seconds=self.seconds)
        if scope.get("path", "").startswith("/api/"):
            body = json.dumps({"detail": text}, ensure_ascii=False).encode("utf-8")
            ctype = b"application/json"
        else:
            body = (self.render_page(scope, text) if self.render_page else
                    ("<!DOCTYPE html><html lang=\"nl\"><title>Tijdelijk niet beschikbaar</title>"
                     f"<h1>Tijdelijk niet beschikbaar</h1><p>{text}</p></html>").encode("utf-8"))
            ctype = b"text/html; charset=utf-8"
        await send({"type": "http.response.start", "status": 503,
                    "headers": [(b"content-type", ctype), (b"content-length", str(len(body)).encode()),
                                (b"retry-after", b"30"), (b"cache-control", b"no-store")]})
        await send({"type": "http.response.body", "body": body, "more_body": False})
