"""Issue 18.5 from the command line: ``wijkmonitor user password`` and ``user deactivate`` end
every session of the account at once (a copied cookie is dead straight after), on SQLite and
PostgreSQL. The password bound (12 characters) is checked on both sides; nothing changes when
the command is refused."""

from __future__ import annotations

import sqlalchemy as sa
import typer
from typer.testing import CliRunner

from wijkmonitor.local import accounts
from wijkmonitor.local.cli import register
from wijkmonitor.local.models import AuditEntry, User, UserSession

from test_sessions import app, clock, logged_in, who  # noqa: F401  (fixtures + helpers)


def _cli(db_url, monkeypatch):
    monkeypatch.setenv("WIJKMONITOR_DATABASE_URL", db_url)
    typer_app = typer.Typer()
    register(typer_app)
    return lambda *args, input=None: CliRunner().invoke(typer_app, list(args), input=input)


def _sessions(Session) -> int:
    with Session() as s:
        return s.scalar(sa.select(sa.func.count()).select_from(UserSession))


def test_password_command_ends_every_session_and_checks_12_characters(app, users, Session,
                                                                     db_url, monkeypatch):
    cli = _cli(db_url, monkeypatch)
    a, b = logged_in(app, "utrecht"), logged_in(app, "utrecht", "203.0.113.5")
    rdam = logged_in(app, "rotterdam")

    # 11 characters: refused (exit 2), the sessions live on and the old password still works
    res = cli("user", "password", "utrecht", "--password-stdin", input="elf tekens!\n")
    assert res.exit_code == 2 and "minstens 12 tekens" in res.output
    assert who(a) == "utrecht" and who(b) == "utrecht" and _sessions(Session) == 3
    # no password on stdin: refused, never taken from an argument
    assert cli("user", "password", "utrecht").exit_code == 2

    # 12 characters: accepted; both browsers of utrecht are logged out at once, rotterdam not
    res = cli("user", "password", "utrecht", "--password-stdin", input="twaalf teken\n")
    assert res.exit_code == 0, res.output
    assert who(a) is None and who(b) is None and who(rdam) == "rotterdam"
    assert _sessions(Session) == 1
    with Session() as s:
        assert accounts.authenticate(s, "utrecht", "twaalf teken") is not None
        last = s.scalars(sa.select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (last.action, last.entity) == ("update", "user")
    assert last.after == {"password": "(gewijzigd)"}

    # an unknown account: exit 4, nothing ended
    res = cli("user", "password", "niemand", "--password-stdin", input="twaalf teken\n")
    assert res.exit_code == 4 and who(rdam) == "rotterdam"


def test_deactivate_command_ends_every_session(app, users, Session, db_url, monkeypatch):
    cli = _cli(db_url, monkeypatch)
    a, b = logged_in(app, "rotterdam"), logged_in(app, "rotterdam", "203.0.113.5")
    other = logged_in(app, "utrecht")

    # an editor may not switch off another account: exit 3, nothing ended
    res = cli("user", "deactivate", "rotterdam", "--as", "utrecht")
    assert res.exit_code == 3 and who(a) == "rotterdam"

    res = cli("user", "deactivate", "rotterdam", "--as", "beheer")
    assert res.exit_code == 0, res.output
    assert who(a) is None and who(b) is None and who(other) == "utrecht"
    # the account is kept (audit log) but cannot log in again
    with Session() as s:
        user = s.scalars(sa.select(User).where(User.name == "rotterdam")).one()
        assert user.active is False
    from test_sessions import login
    from test_sessions import client as new_client
    assert login(new_client(app), "rotterdam").status_code != 303
    assert cli("user", "deactivate", "niemand").exit_code == 4
