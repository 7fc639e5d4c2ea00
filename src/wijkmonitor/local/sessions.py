"""Server-side login sessions, stored in the editable database (table ``user_sessions``).

The browser's signed cookie carries only a random token (256 bits); the table holds its SHA-256
digest, the user, and when the session started and was last used. A session ends

* at logout (:func:`end`), and at once for every browser of a user when the password is
  changed, the account is switched off, or an administrator chooses "overal uitloggen"
  (:func:`end_all`, called by :mod:`.accounts`, also by its ``log_out_everywhere``);
* after :data:`IDLE_TIMEOUT` without a request, and :data:`ABSOLUTE_TIMEOUT` after the login
  whatever the activity (:func:`lookup` deletes it then).

Every function takes ``now`` (an aware UTC datetime) so the clock can be injected in tests.
``last_seen_at`` is written at most once per :data:`TOUCH_INTERVAL`, so the idle timeout holds
to within that interval (a session may end up to a minute early, never late).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import delete
from sqlalchemy.orm import Session

from .models import User, UserSession

#: A session ends after this long without a request.
IDLE_TIMEOUT = dt.timedelta(minutes=30)
#: A session ends this long after the login, however active it is.
ABSOLUTE_TIMEOUT = dt.timedelta(hours=8)
#: ``last_seen_at`` is updated when it is older than this (one write per minute at most).
TOUCH_INTERVAL = dt.timedelta(minutes=1)

__all__ = ["IDLE_TIMEOUT", "ABSOLUTE_TIMEOUT", "new_token", "start", "lookup", "end",
           "end_all", "purge_expired"]


def _aware(value: dt.datetime) -> dt.datetime:
    """SQLite returns naive datetimes: they were stored as UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.timezone.utc)


def digest(token: str) -> str:
    """The stored key of a cookie token."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_token() -> str:
    """A fresh random token (also used, without a row, for anonymous visitors)."""
    return secrets.token_urlsafe(32)


def start(session: Session, user: User, now: dt.datetime) -> str:
    """Open a session for ``user`` (and clear out expired ones); return the token for the
    cookie."""
    purge_expired(session, now)
    token = new_token()
    session.add(UserSession(id=digest(token), user_id=user.id, created_at=now,
                            last_seen_at=now))
    session.flush()
    return token


def expired(row: UserSession, now: dt.datetime) -> bool:
    """Whether the idle or the absolute timeout has passed at ``now`` (a session is valid while
    less than the timeout has passed)."""
    return (now - _aware(row.last_seen_at) >= IDLE_TIMEOUT
            or now - _aware(row.created_at) >= ABSOLUTE_TIMEOUT)


def lookup(session: Session, token: str | None, now: dt.datetime) -> User | None:
    """The active user of the session ``token`` at ``now``, or ``None`` (unknown, ended,
    expired, or the account is switched off). An expired session is deleted; a valid one has
    its ``last_seen_at`` moved to ``now`` (at most once per :data:`TOUCH_INTERVAL`). The caller
    commits."""
    if not isinstance(token, str) or not token or len(token) > 100:
        return None
    row = session.get(UserSession, digest(token))
    if row is None:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active or expired(row, now):
        session.delete(row)
        session.flush()
        return None
    if now - _aware(row.last_seen_at) >= TOUCH_INTERVAL:
        row.last_seen_at = now
        session.flush()
    return user


def end(session: Session, token: str | None) -> None:
    """End one session (logout). Unknown tokens are ignored."""
    if isinstance(token, str) and token and len(token) <= 100:
        session.execute(delete(UserSession).where(UserSession.id == digest(token)))


def end_all(session: Session, user_id: int | None) -> int:
    """End every session of a user; return how many there were."""
    if user_id is None:
        return 0
    result = session.execute(delete(UserSession).where(UserSession.user_id == user_id))
    return int(result.rowcount or 0)


def purge_expired(session: Session, now: dt.datetime) -> int:
    """Delete the rows of sessions that have expired (abandoned browsers); return how many.
    Called at every login, so the table holds about the sessions in use."""
    result = session.execute(delete(UserSession).where(
        (UserSession.last_seen_at <= now - IDLE_TIMEOUT)
        | (UserSession.created_at <= now - ABSOLUTE_TIMEOUT)))
    return int(result.rowcount or 0)
