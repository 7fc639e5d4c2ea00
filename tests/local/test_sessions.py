"""Server-side sessions (hardening issue, item 5) and login throttling (item 6), on SQLite and
PostgreSQL, with an injected clock (no sleeping).

Before: the signed cookie held the user id and kept working for 8 hours after
``/beheer/uitloggen``; 50 wrong passwords in a row were answered at full speed and the right
one worked straight after.

Rules pinned here (numbers written out, not read from the modules): a session ends 30 minutes
after its last request and 8 hours after the login; a name is locked for 60 s after 5 failures
in a row, 120 s after the 6th; a client address after 20 failures.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
import typer
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from wijkmonitor.local import accounts, web
from wijkmonitor.local.cli import register
from wijkmonitor.local.models import AuditEntry, Intervention, LoginThrottle, UserSession
from wijkmonitor.local.permissions import SystemActor

from test_web_security import PASSWORD, csrf_of

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc)


class Clock:
    def __init__(self):
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **kw) -> None:
        self.now += dt.timedelta(**kw)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(db_url, monkeypatch, clock):
    monkeypatch.setenv("WIJKMONITOR_SECRET_KEY", "test-" + "k" * 40)
    monkeypatch.delenv("WIJKMONITOR_SECURE_COOKIES", raising=False)
    app = FastAPI()
    app.include_router(web.create_router(db_url, clock=clock))
    return app


def client(app, address: str = "192.0.2.10") -> TestClient:
    return TestClient(app, base_url="http://127.0.0.1", client=(address, 50000))


def login(c: TestClient, name: str, password: str = PASSWORD):
    token = csrf_of(c.get("/beheer/inloggen").text)
    return c.post("/beheer/inloggen", data={"gebruikersnaam": name, "wachtwoord": password,
                                            "csrf_token": token}, follow_redirects=False)


def logged_in(app, name: str, address: str = "192.0.2.10") -> TestClient:
    c = client(app, address)
    r = login(c, name)
    assert r.status_code == 303, r.text
    return c


def who(c: TestClient) -> str | None:
    user = c.get("/api/v1/session").json()["user"]
    return None if user is None else user["name"]


def copy_of(app, c: TestClient) -> TestClient:
    """Another browser with the same cookie (an attacker who copied it)."""
    other = client(app, "198.51.100.7")
    other.cookies.set(web.COOKIE, c.cookies.get(web.COOKIE))
    return other


def rows(Session, model) -> int:
    with Session() as s:
        return s.scalar(sa.select(sa.func.count()).select_from(model))


# --- sessions end at once ----------------------------------------------------------------------

def test_cookie_copied_before_logout_is_dead_after_it(app, users, Session):
    c = logged_in(app, "utrecht")
    token = c.get("/api/v1/session").json()["csrf_token"]
    stolen = copy_of(app, c)
    assert who(stolen) == "utrecht"  # the copy works while the session lives

    # the cookie holds a random token only; the table holds its SHA-256 digest, not the token
    data = web._serializer().loads(c.cookies.get(web.COOKIE))
    assert set(data) <= {"s", "f", "a"} and len(data["s"]) >= 40 and data.get("a") == 1
    with Session() as s:
        ids = [r.id for r in s.scalars(sa.select(UserSession))]
    assert len(ids) == 1 and ids[0] != data["s"] and len(ids[0]) == 64

    r = c.post("/beheer/uitloggen", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and who(c) is None
    assert rows(Session, UserSession) == 0
    assert who(stolen) is None
    assert stolen.get("/beheer/", follow_redirects=False).status_code == 303
    # with the old cookie and its CSRF token a write is refused and nothing is written
    n = rows(Session, Intervention)
    r = stolen.post("/api/v1/interventions", headers={"X-CSRF-Token": token},
                    json={"title": "Na uitloggen", "areas": ["utrecht-overvecht"]})
    assert r.status_code == 401 and rows(Session, Intervention) == n


def test_password_change_and_deactivation_end_every_session(app, users, Session):
    a, b = logged_in(app, "utrecht"), logged_in(app, "utrecht", "203.0.113.5")
    r1 = logged_in(app, "rotterdam")
    with Session.begin() as s:
        accounts.set_password(s, SystemActor(), "utrecht", "een heel nieuw wachtwoord")
    assert who(a) is None and who(b) is None
    assert who(r1) == "rotterdam"  # other accounts keep their sessions

    r2 = logged_in(app, "rotterdam", "203.0.113.5")
    with Session.begin() as s:
        accounts.deactivate(s, SystemActor(), "rotterdam")
    assert who(r1) is None and who(r2) is None
    assert rows(Session, UserSession) == 0


def test_log_out_everywhere_from_the_beheer_page_and_the_cli(app, users, Session, db_url,
                                                             monkeypatch):
    a, b = logged_in(app, "utrecht"), logged_in(app, "utrecht", "203.0.113.5")
    rdam = logged_in(app, "rotterdam")

    # an editor may not log out someone else
    token = a.get("/api/v1/session").json()["csrf_token"]
    r = a.post("/beheer/sessies/beeindigen", data={"csrf_token": token,
                                                  "gebruikersnaam": "rotterdam"})
    assert r.status_code == 403 and who(rdam) == "rotterdam"

    # the administrator logs utrecht out everywhere: both browsers at once
    admin = logged_in(app, "beheer")
    page = admin.get("/beheer/").text
    assert "Een gebruiker overal uitloggen" in page and "30 minuten" in page
    token = csrf_of(page)
    r = admin.post("/beheer/sessies/beeindigen", follow_redirects=False,
                   data={"csrf_token": token, "gebruikersnaam": "utrecht"})
    assert r.status_code == 303
    assert who(a) is None and who(b) is None
    assert who(admin) == "beheer" and who(rdam) == "rotterdam"
    with Session() as s:
        last = s.scalars(sa.select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (last.action, last.entity, last.user_name) == ("logout", "user", "beheer")
    assert last.after == {"name": "utrecht", "sessions_ended": 2}
    r = admin.post("/beheer/sessies/beeindigen", data={"csrf_token": token,
                                                      "gebruikersnaam": "niemand"})
    assert r.status_code == 422 and "bestaat niet" in r.text

    # "Overal uitloggen" for oneself: this browser and the other one
    other = logged_in(app, "rotterdam", "203.0.113.5")
    token = csrf_of(rdam.get("/beheer/").text)
    r = rdam.post("/beheer/sessies/beeindigen", data={"csrf_token": token},
                  follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/beheer/inloggen"
    assert who(rdam) is None and who(other) is None

    # the command line: wijkmonitor user logout NAME
    monkeypatch.setenv("WIJKMONITOR_DATABASE_URL", db_url)
    cli = typer.Typer()
    register(cli)
    c1, c2 = logged_in(app, "utrecht"), logged_in(app, "utrecht", "203.0.113.5")
    res = CliRunner().invoke(cli, ["user", "logout", "utrecht"])
    assert res.exit_code == 0 and "2 sessie(s) beëindigd" in res.output
    assert who(c1) is None and who(c2) is None and who(admin) == "beheer"
    res = CliRunner().invoke(cli, ["user", "logout", "niemand"])
    assert res.exit_code == 4


# --- idle and absolute timeout --------------------------------------------------------------

def test_idle_timeout_30_minutes_on_both_sides(app, users, clock, Session):
    c = logged_in(app, "utrecht")
    clock.advance(minutes=29, seconds=59)
    assert who(c) == "utrecht"            # 29:59 idle: still valid (and touched)
    clock.advance(minutes=29, seconds=59)
    assert who(c) == "utrecht"            # measured from the last request, not the login
    clock.advance(minutes=30)
    assert who(c) is None                 # 30:00 idle: ended
    assert rows(Session, UserSession) == 0  # and deleted
    clock.advance(seconds=-1)
    assert who(c) is None                 # an ended session does not come back

    d = logged_in(app, "utrecht")
    clock.advance(minutes=30)
    assert who(d) is None                 # exactly 30:00 after the login

    # abandoned sessions (never looked up again) are cleared out at the next login
    logged_in(app, "utrecht")
    clock.advance(minutes=29, seconds=59)
    logged_in(app, "rotterdam")
    assert rows(Session, UserSession) == 2   # 29:59 old: kept
    clock.advance(seconds=1)
    logged_in(app, "programma")
    assert rows(Session, UserSession) == 2   # the 30:00 old one is gone, rotterdam's stays


def test_absolute_timeout_8_hours_however_active(app, users, clock):
    c = logged_in(app, "utrecht")
    for _ in range(19):                   # a request every 25 minutes, up to 7:55
        clock.advance(minutes=25)
        assert who(c) == "utrecht"
    clock.advance(minutes=4, seconds=59)  # 7:59:59 after the login
    assert who(c) == "utrecht"
    clock.advance(seconds=1)              # 8:00:00
    assert who(c) is None
    assert logged_in(app, "utrecht") is not None  # a new login starts a new 8 hours


# --- login throttling -------------------------------------------------------------------------

def attempt(c: TestClient, name: str, password: str):
    r = login(c, name, password)
    return r.status_code, r.text


def test_account_is_locked_after_5_failures_60s_then_doubling(app, users, clock, Session):
    c = client(app)
    for _ in range(4):
        assert attempt(c, "utrecht", "fout wachtwoord!")[0] == 401
    assert login(c, "utrecht").status_code == 303      # 4 failures: the right one works
    c = client(app)

    for _ in range(5):
        assert attempt(c, "utrecht", "fout wachtwoord!")[0] == 401
    n_audit = rows(Session, AuditEntry)
    clock.advance(seconds=59)
    status, text = attempt(c, "utrecht", PASSWORD)      # right password, still locked
    assert status == 429 and "over 1 seconden opnieuw" in text
    assert who(c) is None
    clock.advance(seconds=1)                            # 60 s: the lock is over
    assert attempt(c, "utrecht", "fout wachtwoord!")[0] == 401   # 6th failure: 120 s
    clock.advance(seconds=119)
    status, text = attempt(c, "utrecht", PASSWORD)
    assert status == 429 and "over 1 seconden" in text
    # the API with HTTP Basic is locked the same way
    r = client(app).post("/api/v1/interventions", auth=("utrecht", PASSWORD),
                         json={"title": "x", "areas": ["utrecht-overvecht"]})
    assert r.status_code == 429 and r.headers["retry-after"] == "1"
    clock.advance(seconds=1)
    assert login(c, "utrecht").status_code == 303       # 120 s: the right one works again
    assert rows(Session, AuditEntry) == n_audit + 1     # the 120 s lock was logged
    with Session() as s:
        locks = list(s.scalars(sa.select(AuditEntry).where(AuditEntry.action == "lock")
                               .order_by(AuditEntry.id)))
    assert [(e.entity, e.after["account"], e.after["seconds"], e.after["failures"])
            for e in locks] == [("login", "utrecht", 60, 5), ("login", "utrecht", 120, 6)]
    assert locks[0].after["address"] == "192.0.2.10"
    # a success clears the name's counter: 4 new failures do not lock
    c2 = client(app)
    for _ in range(4):
        assert attempt(c2, "utrecht", "fout wachtwoord!")[0] == 401
    assert login(c2, "utrecht").status_code == 303


def test_unknown_and_existing_names_are_answered_alike(app, users, clock):
    """Same statuses and pages (with the name blanked) for a real and an unknown account,
    before, during and after the lock."""
    def run(name: str, n: int) -> list:
        c = client(app, {"utrecht": "192.0.2.31", "niemand": "192.0.2.32"}[name])
        out = []
        for _ in range(n):
            status, text = attempt(c, name, "fout wachtwoord!")
            text = re.sub(r'name="csrf_token" value="[^"]+"', "", text)
            out.append((status, text.replace(f'value="{name}"', 'value="NAAM"')))
        return out

    existing, unknown = run("utrecht", 6), run("niemand", 6)
    assert [s for s, _ in existing] == [401] * 5 + [429]
    assert existing == unknown
    assert "Te veel mislukte inlogpogingen" in existing[-1][1]
    clock.advance(seconds=60)
    existing, unknown = run("utrecht", 2), run("niemand", 2)
    assert [s for s, _ in existing] == [401, 429] and existing == unknown
    assert login(client(app, "192.0.2.99"), "utrecht").status_code == 429  # right one too


def test_client_address_is_locked_after_20_failures(app, users, clock, Session):
    c = client(app, "203.0.113.66")
    for i in range(19):                      # 19 names, one failure each
        assert attempt(c, f"naam{i}", "fout wachtwoord!")[0] == 401
    assert login(c, "utrecht").status_code == 303        # 19: not locked
    c = client(app, "203.0.113.66")
    assert attempt(c, "naam19", "fout wachtwoord!")[0] == 401   # the 20th
    assert attempt(c, "rotterdam", PASSWORD)[0] == 429   # every name, from this address
    assert login(client(app, "198.51.100.1"), "rotterdam").status_code == 303  # elsewhere: fine
    with Session() as s:
        keys = [r.key for r in s.scalars(sa.select(LoginThrottle))]
        last = s.scalars(sa.select(AuditEntry).where(AuditEntry.action == "lock")).all()
    assert "adres:203.0.113.66" in keys
    assert [(e.after["kind"], e.after["failures"], e.after["seconds"]) for e in last] == \
        [("adres", 20, 60)]
    clock.advance(seconds=60)
    assert attempt(client(app, "203.0.113.66"), "rotterdam", PASSWORD)[0] == 303


def test_failures_are_forgotten_after_24_hours(app, users, clock, Session):
    c = client(app)
    for _ in range(4):
        assert attempt(c, "utrecht", "fout wachtwoord!")[0] == 401
    clock.advance(hours=23, minutes=59, seconds=59)
    assert attempt(c, "utrecht", "fout wachtwoord!")[0] == 401   # the 5th within 24 h
    assert attempt(c, "utrecht", PASSWORD)[0] == 429             # locked

    c = client(app, "192.0.2.77")
    for _ in range(4):
        assert attempt(c, "rotterdam", "fout wachtwoord!")[0] == 401
    clock.advance(hours=24)
    assert attempt(c, "rotterdam", "fout wachtwoord!")[0] == 401  # counts as the 1st again
    assert login(c, "rotterdam").status_code == 303
