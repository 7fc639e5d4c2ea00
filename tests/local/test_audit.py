"""The audit log records every change and cannot be altered, not even with plain SQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from wijkmonitor.local import accounts, audit, interventions, targets
from wijkmonitor.local.errors import PermissionDenied
from wm_local_fakes import R
from wijkmonitor.local.models import AuditEntry



def _changes(Session):
    with Session.begin() as s:
        ed = accounts.get_user(s, "utrecht")
        t = targets.set_target(s, ed, "Overvecht", "eenzaam_pct", target_value=10,
                               target_year=2030, reason="eerste", **R)
        targets.set_target(s, ed, "Overvecht", "eenzaam_pct", target_value=9,
                           target_year=2030, reason="bijgesteld", **R)
        targets.delete_target(s, ed, t.id)
        interventions.save_intervention(s, ed, title="Buurtteam", areas=["Overvecht"], **R)


def test_every_change_has_who_when_before_after(Session, users):
    _changes(Session)
    with Session() as s:
        rows = audit.list_entries(s, accounts.get_user(s, "beheer"), entity="target")
        assert [r.action for r in rows] == ["delete", "update", "create"]
        delete, update, create = rows
        assert create.before is None and create.after["target_value"] == 10
        assert update.before["target_value"] == 10 and update.after["target_value"] == 9
        assert update.after["reason"] == "bijgesteld"
        assert delete.before["target_value"] == 9 and delete.after is None
        assert {r.user_name for r in rows} == {"utrecht"}
        assert all(r.at is not None for r in rows)
        # user creation was audited without the password hash
        user_rows = audit.list_entries(s, accounts.get_user(s, "beheer"), entity="user")
        assert len(user_rows) == 5
        assert all("password_hash" not in r.after for r in user_rows)


def test_editors_see_own_gemeente_public_sees_nothing(Session, users):
    _changes(Session)
    with Session() as s:
        own = audit.list_entries(s, accounts.get_user(s, "utrecht"))
        assert own and all("GM0344" in ((r.before or {}).get("gemeente"),
                                        (r.after or {}).get("gemeente")) for r in own)
        rdam = audit.list_entries(s, accounts.get_user(s, "rotterdam"))
        assert [(r.entity, r.after["name"]) for r in rdam] == [("user", "rotterdam")]
        with pytest.raises(PermissionDenied):
            audit.list_entries(s, accounts.get_user(s, "publiek"))


def test_audit_service_has_no_way_to_change_rows():
    public = {n for n in dir(audit) if not n.startswith("_")}
    assert not {n for n in public if any(w in n for w in ("update", "delete", "edit", "remove"))}


def test_orm_refuses_to_modify_audit_rows(Session, users):
    _changes(Session)
    with Session() as s:
        entry = s.scalars(sa.select(AuditEntry).where(AuditEntry.entity == "target")).first()
        entry.after = {"target_value": 1000}
        with pytest.raises(PermissionError, match="append-only"):
            s.flush()
        s.rollback()
        s.delete(s.scalars(sa.select(AuditEntry)).first())
        with pytest.raises(PermissionError, match="append-only"):
            s.flush()


@pytest.mark.parametrize("statement", [
    "UPDATE audit_log SET user_name = 'iemand anders'",
    "UPDATE audit_log SET after = NULL WHERE entity = 'target'",
    "DELETE FROM audit_log",
    "DELETE FROM audit_log WHERE entity = 'target'",
])
def test_database_refuses_sql_changes_to_audit_rows(Session, users, statement):
    """An editor with direct database access still cannot rewrite the log (triggers)."""
    _changes(Session)
    with Session() as s:
        before = [(r.id, r.user_name, r.after) for r in s.scalars(
            sa.select(AuditEntry).order_by(AuditEntry.id))]
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            s.execute(sa.text(statement))
        s.rollback()
    with Session() as s:
        after = [(r.id, r.user_name, r.after) for r in s.scalars(
            sa.select(AuditEntry).order_by(AuditEntry.id))]
    assert after == before and len(after) == 5 + 4


def test_postgres_refuses_truncate(Session, users, db_url):
    if not db_url.startswith("postgresql"):
        pytest.skip("TRUNCATE exists only on PostgreSQL")
    with Session() as s:
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            s.execute(sa.text("TRUNCATE audit_log"))
