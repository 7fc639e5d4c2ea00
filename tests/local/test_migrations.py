"""Migrations run up and down on both backends, and the models match the migrations."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from wijkmonitor.local import db
from wijkmonitor.local.models import Base

TABLES = {"users", "targets", "target_milestones", "interventions", "intervention_areas",
          "intervention_indicators", "intervention_links", "local_uploads", "local_values",
          "audit_log", "user_sessions", "login_throttle", "content_revision"}


def _tables(url: str) -> set[str]:
    return set(sa.inspect(db.get_engine(url)).get_table_names()) - {"alembic_version"}


def test_up_down_up(empty_url):
    assert _tables(empty_url) == set()
    db.upgrade(empty_url)
    assert _tables(empty_url) == TABLES
    assert db.current_revision(empty_url) == db.head_revision()
    db.downgrade(empty_url, "base")
    db.get_engine(empty_url).dispose()
    assert _tables(empty_url) == set()
    assert db.current_revision(empty_url) is None
    db.upgrade(empty_url)
    assert _tables(empty_url) == TABLES


def test_models_match_migrations(db_url):
    with db.get_engine(db_url).connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_audit_trigger_created_and_removed(empty_url):
    db.upgrade(empty_url)
    engine = db.get_engine(empty_url)
    if engine.dialect.name == "postgresql":
        # pg_trigger is database-wide: restrict to this schema's audit_log
        sql = ("SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
               "WHERE NOT t.tgisinternal AND c.oid = 'audit_log'::regclass ORDER BY 1")
        expected = ["audit_log_append_only", "audit_log_no_truncate"]
    else:
        sql = ("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log' "
               "ORDER BY name")
        expected = ["audit_log_no_delete", "audit_log_no_update"]
    with engine.connect() as conn:
        assert [r[0] for r in conn.execute(sa.text(sql))] == expected
    db.downgrade(empty_url, "base")
    engine.dispose()
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            assert list(conn.execute(sa.text(sql))) == []
        else:
            assert conn.execute(sa.text("SELECT to_regclass('audit_log')")).scalar() is None


def test_default_url_is_sqlite_file(monkeypatch, tmp_path):
    monkeypatch.delenv("WIJKMONITOR_DATABASE_URL", raising=False)
    monkeypatch.setenv("WIJKMONITOR_VAR", str(tmp_path))
    url = db.resolve_url()
    assert url == f"sqlite:///{tmp_path / 'wijkmonitor-edit.sqlite'}"
    db.upgrade()
    assert (tmp_path / "wijkmonitor-edit.sqlite").is_file()
    assert _tables(url) == TABLES
    db.get_engine(url).dispose()
