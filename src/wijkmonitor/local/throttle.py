"""Login throttling per account name and per client address (table ``login_throttle``).

Rule: after :data:`ACCOUNT_LIMIT` failed logins in a row for one account name, that name is
locked for :data:`BASE_LOCK`; every further failure after a lock doubles the lock (2, 4, 8 ...
minutes, at most :data:`MAX_LOCK`). The same holds per client address after
:data:`ADDRESS_LIMIT` failures (any names), so one address cannot try many accounts. While a
name or an address is locked every login for it is refused without looking at the password,
also the right one. A successful login clears the counter of that name (not of the address);
a counter whose last failure is older than :data:`FORGET_AFTER` starts again at zero.

Names that do not exist are counted and locked exactly like names that do, so the answers
never tell whether an account exists. The start of every lock is written to the audit log
(action ``lock``, entity ``login``). The clock is passed in (``now``) for tests.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import delete
from sqlalchemy.orm import Session

from . import audit
from .models import LoginThrottle
from .permissions import SystemActor

ACCOUNT_LIMIT = 5
ADDRESS_LIMIT = 20
BASE_LOCK = dt.timedelta(minutes=1)
MAX_LOCK = dt.timedelta(hours=1)
FORGET_AFTER = dt.timedelta(hours=24)


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.timezone.utc)


def account_key(name: str) -> str:
    return "konto:" + hashlib.sha256(str(name).encode("utf-8", "surrogatepass")).hexdigest()


def address_key(address: str | None) -> str:
    return "adres:" + str(address or "onbekend")[:64]


def _keys(name: str, address: str | None) -> list[tuple[str, int]]:
    return [(account_key(name), ACCOUNT_LIMIT), (address_key(address), ADDRESS_LIMIT)]


def lock_length(failures: int, limit: int) -> dt.timedelta | None:
    """Lock after the ``failures``-th failure in a row (``None`` below the limit)."""
    if failures < limit:
        return None
    return min(BASE_LOCK * 2 ** min(failures - limit, 20), MAX_LOCK)


def locked_until(session: Session, name: str, address: str | None,
                 now: dt.datetime) -> dt.datetime | None:
    """When the lock on ``name`` or ``address`` ends, if either is locked at ``now``."""
    ends = []
    for key, _ in _keys(name, address):
        row = session.get(LoginThrottle, key)
        until = _aware(row.locked_until) if row is not None else None
        if until is not None and until > now:
            ends.append(until)
    return max(ends) if ends else None


def failure(session: Session, name: str, address: str | None, now: dt.datetime) -> list[dict]:
    """Count one failed login; return the locks it started (also written to the audit log).
    Counters forgotten (last failure :data:`FORGET_AFTER` ago, no lock) are cleared out."""
    session.execute(delete(LoginThrottle).where(
        LoginThrottle.last_failure_at <= now - FORGET_AFTER,
        (LoginThrottle.locked_until.is_(None)) | (LoginThrottle.locked_until <= now)))
    started = []
    for key, limit in _keys(name, address):
        row = session.get(LoginThrottle, key)
        if row is None:
            row = LoginThrottle(key=key, failures=0, last_failure_at=now)
            session.add(row)
        elif now - _aware(row.last_failure_at) >= FORGET_AFTER:
            row.failures, row.locked_until = 0, None
        row.failures += 1
        row.last_failure_at = now
        length = lock_length(row.failures, limit)
        if length is not None:
            row.locked_until = now + length
            started.append({"kind": key.split(":", 1)[0], "failures": row.failures,
                            "seconds": int(length.total_seconds()),
                            "locked_until": row.locked_until.isoformat()})
    session.flush()
    for lock in started:
        detail = dict(lock, account=str(name)[:100].replace("\x00", ""),
                      address=str(address or "onbekend")[:64])
        audit.record(session, SystemActor(name="inlogbeveiliging"), "lock", "login",
                     detail["kind"], None, detail)
    return started


def success(session: Session, name: str) -> None:
    """A correct login: the name's counter starts again."""
    row = session.get(LoginThrottle, account_key(name))
    if row is not None:
        session.delete(row)
        session.flush()
