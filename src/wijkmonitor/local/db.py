"""Engine, sessions and schema migrations of the editable store.

The database is chosen with ``WIJKMONITOR_DATABASE_URL`` (any SQLAlchemy URL); without it an
SQLite file under ``var/`` is used (see :func:`wijkmonitor.config.database_url`). To use a
PostgreSQL server::

    export WIJKMONITOR_DATABASE_URL=postgresql+psycopg://user:password@host:5432/wijkmonitor
    wijkmonitor db upgrade

The schema is managed only by the Alembic migrations shipped in this package
(``wijkmonitor/local/migrations``); :func:`upgrade` and :func:`downgrade` run them
programmatically, no ``alembic.ini`` needed.

Transactions: services never commit. The caller owns the transaction, normally through
:func:`session_scope` (CLI) or a per-request session (web), so that a change and its audit row
are committed together or not at all.
"""

from __future__ import annotations

import contextlib
import functools
from pathlib import Path
from typing import Iterator

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from wijkmonitor.config import database_url

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def resolve_url(url: str | None = None) -> str:
    """``url`` or the configured ``WIJKMONITOR_DATABASE_URL`` (SQLite file by default)."""
    return url or database_url()


def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def get_engine(url: str | None = None) -> Engine:
    """Return a (cached) engine for ``url`` (default: the configured URL, read on every call);
    SQLite gets foreign keys switched on."""
    return _engine(resolve_url(url))


#: every engine :func:`_engine` made in this process
_ENGINES: list[Engine] = []


def dispose_engines() -> None:
    """Close the pooled connections of every engine made so far. A server calls this before
    it forks its workers: a database connection must never be shared by two processes. The
    engines stay usable and open new connections when asked."""
    for engine in _ENGINES:
        engine.dispose()


@functools.lru_cache(maxsize=32)
def _engine(url: str) -> Engine:
    connect_args = {}
    if url.startswith("postgresql") and "connect_timeout" not in url:
        connect_args["connect_timeout"] = 5  # an unreachable server fails fast, not hangs
    engine = create_engine(url, future=True, pool_pre_ping=not url.startswith("sqlite"),
                           connect_args=connect_args)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    _ENGINES.append(engine)
    return engine


def session_factory(url: str | None = None) -> sessionmaker[Session]:
    """A ``sessionmaker`` bound to the engine of ``url`` (objects stay usable after commit)."""
    return sessionmaker(bind=get_engine(url), expire_on_commit=False)


@contextlib.contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """One transaction: commit if the block succeeds, roll back on any exception."""
    session = session_factory(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(url: str | None = None) -> Config:
    """Alembic configuration pointing at the packaged migrations and ``url``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Passed as an attribute, not an ini option: URLs may contain '%' (configparser).
    cfg.attributes["url"] = resolve_url(url)
    return cfg


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Migrate the database at ``url`` up to ``revision`` (default: the newest)."""
    url = resolve_url(url)
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), revision)


def ensure_sqlite_schema(url: str | None = None) -> bool:
    """Migrate an SQLite file database to the newest revision (the embedded default needs no
    set-up). Several server workers starting at once wait for each other on a lock file.
    Server databases (PostgreSQL) are left alone: migrate them with ``wijkmonitor db
    upgrade``. Returns whether ``url`` was an SQLite file."""
    import fcntl

    url = resolve_url(url)
    if not url.startswith("sqlite:///"):
        return False
    path = url.removeprefix("sqlite:///").split("?", 1)[0]
    if path in ("", ":memory:"):
        return False
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(f"{path}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not Path(path).is_file() or current_revision(url) != head_revision():
                upgrade(url)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return True


def downgrade(url: str | None = None, revision: str = "-1") -> None:
    """Migrate the database at ``url`` down to ``revision`` (``-1``: one step; ``base``: all)."""
    command.downgrade(alembic_config(url), revision)


def current_revision(url: str | None = None) -> str | None:
    """The revision the database is at (``None`` for an empty database)."""
    with get_engine(url).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    """The newest revision shipped with this package."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
