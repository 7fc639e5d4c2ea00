"""The beheer session cookie: the signing key, the cookie's content and its flags.

The cookie ``wijkmonitor_sessie`` carries only a random session token (the session itself is
stored server side, :mod:`wijkmonitor.local.sessions`), at most one flash message and a login
hint; it is signed with itsdangerous. See :mod:`wijkmonitor.local.web` for the whole scheme.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import os
import secrets
from pathlib import Path

from fastapi import Request
from fastapi.responses import Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from wijkmonitor.config import var_dir

from .. import sessions

log = logging.getLogger(__name__)

COOKIE = "wijkmonitor_sessie"
#: A cookie older than this is ignored (the server ends the session then anyway).
SESSION_MAX_AGE = int(sessions.ABSOLUTE_TIMEOUT.total_seconds())
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


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


def save_session(request: Request, response: Response) -> None:
    sess = getattr(request.state, "wm_session", None)
    if sess is not None and sess.dirty:
        response.set_cookie(COOKIE, _serializer().dumps(sess.data), httponly=True,
                            samesite="lax", secure=secure_cookies(request), path="/")

