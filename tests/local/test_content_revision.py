"""The editable store's content revision (migration 0003), on SQLite and PostgreSQL: the
database raises it on every write to a table the public area page shows, by any route (the
application's functions and plain SQL), once per statement on PostgreSQL; writes to accounts
and sessions leave it alone; and :func:`wijkmonitor.local.public.content_revision` reads it,
or gives ``None`` where there is nothing to read (then the site caches nothing on it)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from wijkmonitor.local import accounts, db, interventions, public, targets, uploads
from wijkmonitor.local.permissions import SystemActor

from test_public import _fill


def _rev(url: str) -> int:
    with db.get_engine(url).connect() as conn:
        return conn.execute(sa.text("SELECT revision FROM content_revision WHERE id = 1")).scalar_one()


def test_every_write_to_public_content_raises_the_revision(db_url, Session, users):
    assert public.content_revision(db_url) == _rev(db_url) == 0
    seen = [0]

    def raised() -> bool:
        now = public.content_revision(db_url)
        grew = now > seen[-1]
        seen.append(now)
        return grew

    with Session.begin() as s:  # a target (and its milestones)
        targets.set_target(s, accounts.get_user(s, "utrecht"), "utrecht-overvecht", "eenzaam_pct",
                           target_value=40, target_year=2030, baseline_year=2012,
                           milestones={2026: 45}, reason="NPLV-doel")
    assert raised()
    with Session.begin() as s:
        interventions.save_intervention(s, accounts.get_user(s, "utrecht"), title="Buurtteam",
                                        areas=["utrecht-overvecht"], status="lopend")
    assert raised()
    with Session.begin() as s:
        uploads.upload(s, accounts.get_user(s, "utrecht"),
                       b"region;indicator;year;value\nWK034403;inwoners;2024;35000\n",
                       "u.csv", "GM0344", source="Gemeente Utrecht")
    assert raised()
    # plain SQL, past the application: the triggers are in the database
    engine = db.get_engine(db_url)
    for sql in ("UPDATE targets SET reason = 'ander doel'",
                "UPDATE target_milestones SET value = 44",
                "UPDATE intervention_links SET label = 'x'",  # no rows: the statement still counts on PostgreSQL
                "UPDATE local_values SET value = 35001",
                "DELETE FROM intervention_areas",
                "DELETE FROM interventions"):
        before = _rev(db_url)
        with engine.begin() as conn:
            conn.execute(sa.text(sql))
        after = _rev(db_url)
        if engine.dialect.name == "postgresql" or "intervention_links" not in sql:
            assert after > before, sql
    # accounts, sessions and the audit log are not public content
    before = _rev(db_url)
    with Session.begin() as s:
        accounts.create_user(s, SystemActor(), "nieuw", "public", "correct horse battery")
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE users SET name = 'nieuw2' WHERE name = 'nieuw'"))
        conn.execute(sa.text("DELETE FROM login_throttle"))
    assert _rev(db_url) == before


def test_one_bulk_statement_raises_it_once_on_postgresql(db_url, Session, users):
    _fill(Session)
    engine = db.get_engine(db_url)
    before = _rev(db_url)
    with engine.begin() as conn:
        n = conn.execute(sa.text("UPDATE local_values SET value = value + 1")).rowcount
    assert n == 3
    # PostgreSQL: one statement-level trigger; SQLite has only row triggers (one per row)
    assert _rev(db_url) - before == (1 if engine.dialect.name == "postgresql" else 3)


def test_no_revision_where_there_is_nothing_to_read(tmp_path, empty_url):
    missing = f"sqlite:///{tmp_path / 'bestaat-niet.sqlite'}"
    assert public.content_revision(missing) is None
    assert not Path(tmp_path / "bestaat-niet.sqlite").exists()
    # a schema from before migration 0003 (a server database its administrator did not upgrade)
    db.upgrade(empty_url, "0002")
    assert public.content_revision(empty_url) is None
    db.upgrade(empty_url)
    assert public.content_revision(empty_url) == 0


def test_downgrade_removes_the_triggers(empty_url):
    db.upgrade(empty_url)
    db.downgrade(empty_url, "0002")
    engine = db.get_engine(empty_url)
    engine.dispose()
    insp = sa.inspect(engine)
    assert "content_revision" not in insp.get_table_names()
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            names = [r[0] for r in conn.execute(sa.text(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%content_revision%'"))]
        else:
            names = [r[0] for r in conn.execute(sa.text(
                "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE NOT t.tgisinternal AND n.nspname = current_schema() "
                "AND t.tgname LIKE '%content_revision%'"))]
    assert names == []


def test_sqlite_revision_is_read_through_a_kept_connection_that_follows_the_file(tmp_path):
    """The SQLite fast path sees a commit of another connection at once, and a file replaced
    at the same path (another inode) is read anew, not through the old connection."""
    import os
    import shutil

    url = f"sqlite:///{tmp_path / 'edit.sqlite'}"
    db.upgrade(url)
    assert public.content_revision(url) == 0
    with db.get_engine(url).begin() as conn:
        conn.execute(sa.text("UPDATE content_revision SET revision = 7 WHERE id = 1"))
    assert public.content_revision(url) == 7
    # another database moved into place at the same path
    other = f"sqlite:///{tmp_path / 'other.sqlite'}"
    db.upgrade(other)
    with db.get_engine(other).begin() as conn:
        conn.execute(sa.text("UPDATE content_revision SET revision = 41 WHERE id = 1"))
    db.get_engine(other).dispose()
    db.get_engine(url).dispose()
    shutil.copyfile(tmp_path / "other.sqlite", tmp_path / "new.sqlite")
    os.replace(tmp_path / "new.sqlite", tmp_path / "edit.sqlite")
    assert public.content_revision(url) == 41
    # a file without the table (an older schema): None, and the next call still answers
    os.replace(tmp_path / "edit.sqlite", tmp_path / "gone.sqlite")
    import sqlite3
    sqlite3.connect(tmp_path / "edit.sqlite").close()
    assert public.content_revision(url) is None


def test_closed_readers_are_opened_again(tmp_path):
    """The server's master closes the kept SQLite readers before it forks; a later call opens
    a new one and reads the revision as before."""
    url = f"sqlite:///{tmp_path / 'edit.sqlite'}"
    db.upgrade(url)
    assert public.content_revision(url) == 0
    public.close_sqlite_readers()
    with db.get_engine(url).begin() as conn:
        conn.execute(sa.text("UPDATE content_revision SET revision = 3 WHERE id = 1"))
    assert public.content_revision(url) == 3


def test_a_server_that_does_not_answer_is_not_asked_again_at_once():
    """One query per page for a server database (no SELECT 1 before it); a server that does not
    answer gives None and is left alone for RETRY_AFTER seconds, like the area section."""
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql+psycopg://nobody@127.0.0.1:{port}/x"
    public._down_until.pop(url, None)
    assert public.content_revision(url) is None
    assert url in public._down_until  # marked down: the next pages do not wait for it
    assert public.content_revision(url) is None
    public._down_until.pop(url, None)
