"""A user changes its own password in /beheer/wachtwoord (ASVS 2.1.6: the current password
and the new one), on SQLite and PostgreSQL: a wrong current password, a repeat that differs,
a new password that is too short (12 characters is the minimum: 11 refused, 12 accepted) or
equal to the current one changes nothing and answers in Dutch; a wrong current password counts
as a failed login (locked after 5); the change ends every session of the account (this
browser and another), the old password stops working and the new one works; a page without
the CSRF token is refused; the audit log records the change without the password."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi.testclient import TestClient

from wijkmonitor.local.models import AuditEntry

from test_sessions import app, clock, client, logged_in, login, who  # noqa: F401  (fixtures)
from test_web_security import PASSWORD, csrf_of

NEW = "een heel nieuw wachtwoord"


def change(c: TestClient, current: str, new: str, repeat: str | None = None):
    token = csrf_of(c.get("/beheer/wachtwoord").text)
    return c.post("/beheer/wachtwoord", data={"huidig": current, "nieuw": new,
                                             "herhaling": new if repeat is None else repeat,
                                             "csrf_token": token}, follow_redirects=False)


def test_form_is_linked_and_needs_a_login(app, users):
    c = client(app)
    r = c.get("/beheer/wachtwoord", follow_redirects=False)
    assert r.status_code in (303, 401)
    c = logged_in(app, "utrecht")
    assert 'href="/beheer/wachtwoord"' in c.get("/beheer/").text
    page = c.get("/beheer/wachtwoord").text
    assert 'autocomplete="current-password"' in page and page.count('autocomplete="new-password"') == 2


def test_refusals_change_nothing(app, users):
    c = logged_in(app, "utrecht")
    cases = [
        ("fout wachtwoord!", NEW, None, 401, "Het huidige wachtwoord klopt niet."),
        (PASSWORD, NEW, NEW + "x", 422, "De herhaling is niet gelijk aan het nieuwe wachtwoord."),
        (PASSWORD, "a" * 11, None, 422, "minstens 12 tekens"),
        (PASSWORD, PASSWORD, None, 422, "gelijk aan het huidige"),
        ("", NEW, None, 422, "Vul uw huidige wachtwoord in."),
    ]
    for current, new, repeat, status, words in cases:
        r = change(c, current, new, repeat)
        assert r.status_code == status, (current, new, r.status_code)
        assert words in r.text
        assert who(c) == "utrecht"  # still logged in, password unchanged
    assert login(client(app), "utrecht", PASSWORD).status_code == 303
    assert login(client(app), "utrecht", "a" * 11).status_code == 401


def test_twelve_characters_change_it_and_end_every_session(app, users, Session):
    c = logged_in(app, "utrecht")
    other = logged_in(app, "utrecht", "198.51.100.20")
    twelve = "b" * 12
    r = change(c, PASSWORD, twelve)
    assert r.status_code == 303 and r.headers["location"] == "/beheer/inloggen"
    assert who(c) is None and who(other) is None
    assert login(client(app), "utrecht", PASSWORD).status_code == 401
    assert login(client(app), "utrecht", twelve).status_code == 303
    with Session() as s:
        entry = s.scalars(sa.select(AuditEntry).where(AuditEntry.entity == "user")
                          .order_by(AuditEntry.id.desc())).first()
    assert entry.after == {"password": "(gewijzigd)"} and twelve not in str(entry.before)


def test_wrong_current_password_is_throttled_like_a_login(app, users, clock):
    c = logged_in(app, "utrecht")
    for _ in range(5):
        assert change(c, "fout wachtwoord!", NEW).status_code == 401
    r = change(c, PASSWORD, NEW)  # the right one, but the name is locked now
    assert r.status_code == 429 and "Retry-After" in r.headers
    assert login(client(app), "utrecht", PASSWORD).status_code == 429  # the login too
    clock.advance(seconds=61)  # the lock of 60 s is over; nothing was changed
    assert login(client(app), "utrecht", PASSWORD).status_code == 303
    assert login(client(app), "utrecht", NEW).status_code == 401


def test_without_csrf_token_refused(app, users):
    c = logged_in(app, "utrecht")
    r = c.post("/beheer/wachtwoord", data={"huidig": PASSWORD, "nieuw": NEW, "herhaling": NEW},
               follow_redirects=False)
    assert r.status_code == 403
    assert login(client(app), "utrecht", PASSWORD).status_code == 303
