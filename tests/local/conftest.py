"""Fixtures for the local-monitor tests: every database test runs on SQLite and PostgreSQL.

PostgreSQL: 127.0.0.1:5432, database ``test``, user ``postgres`` (trust auth), or
``WIJKMONITOR_TEST_PG_URL``. A fresh database is created for the test session and dropped
after it; each test gets its own schema in it. When the server is down the PostgreSQL variants
are skipped, except when ``CI`` is set: then they fail.
"""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa

from wijkmonitor.local import accounts, db
from wijkmonitor.local.permissions import SystemActor
from wm_local_fakes import fake_area_resolver

PG_URL = os.environ.get("WIJKMONITOR_TEST_PG_URL",
                        "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PASSWORD = "correct horse battery"


@pytest.fixture(scope="session")
def pg_database():
    """URL of a fresh PostgreSQL database for this test session (dropped afterwards)."""
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    name = f"wijkmonitor_local_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        message = f"PostgreSQL at {PG_URL} is not reachable: {exc.orig}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    url = sa.engine.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _fresh_url(kind: str, request, tmp_path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'edit.sqlite'}"
    base = request.getfixturevalue("pg_database")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(base, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    return f"{base}?options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request, tmp_path):
    """URL of an empty database (not migrated), on each backend."""
    url = _fresh_url(request.param, request, tmp_path)
    yield url
    db.get_engine(url).dispose()


@pytest.fixture
def db_url(empty_url):
    """URL of a migrated, empty database, on each backend."""
    db.upgrade(empty_url)
    return empty_url


@pytest.fixture
def Session(db_url):
    return db.session_factory(db_url)


@pytest.fixture
def users(Session):
    """Accounts: utrecht (editor GM0344), rotterdam (editor GM0599), programme, admin, public."""
    with Session.begin() as s:
        sysop = SystemActor()
        made = {
            "utrecht": accounts.create_user(s, sysop, "utrecht", "gemeente-editor", PASSWORD,
                                            gemeente="GM0344"),
            "rotterdam": accounts.create_user(s, sysop, "rotterdam", "gemeente-editor",
                                              PASSWORD, gemeente="GM0599"),
            "programme": accounts.create_user(s, sysop, "programma", "programme", PASSWORD),
            "admin": accounts.create_user(s, sysop, "beheer", "admin", PASSWORD),
            "public": accounts.create_user(s, sysop, "publiek", "public", PASSWORD),
        }
    return made


def count(Session, model) -> int:
    with Session() as s:
        return s.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.fixture
def rows(Session):
    """``rows(Model)``: number of rows of a table in the test database."""
    return lambda model: count(Session, model)
