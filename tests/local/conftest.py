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
from wijkmonitor.local.errors import NotFound
from wijkmonitor.local.permissions import SystemActor
from wijkmonitor.local.resolvers import AreaRef, default_area_resolver

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


#: Named test areas; CBS codes fall through to the default (code-based) resolver.
FAKE_AREAS = {
    "overvecht": AreaRef("utrecht-overvecht", "Overvecht", "GM0344", ("WK034403",)),
    "rotterdam-zuid": AreaRef("rotterdam-zuid", "Rotterdam-Zuid", "GM0599",
                              ("WK059910", "WK059915")),
    "g4": AreaRef("G4", "G4", None, ("GM0344", "GM0599", "GM0363", "GM0518")),
}


def fake_area_resolver(key: str) -> AreaRef:
    k = key.strip().lower()
    if k in FAKE_AREAS:
        return FAKE_AREAS[k]
    for ref in FAKE_AREAS.values():
        if ref.id == key.strip():
            return ref
    if not key.strip()[:2].upper() in ("GM", "WK", "BU"):
        raise NotFound(f"gebied {key!r} is onbekend")
    return default_area_resolver(key)


def count(Session, model) -> int:
    with Session() as s:
        return s.scalar(sa.select(sa.func.count()).select_from(model))
