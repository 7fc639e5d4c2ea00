"""The audit log: who changed what, when, with the state before and after.

:func:`record` is called by every service in the same session (so in the same transaction) as
the change itself. There is deliberately no function to update or delete audit rows; the
database refuses it too (triggers created by the migration), and the ORM refuses to flush a
modified audit row.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import PermissionDenied
from .models import AuditEntry
from .permissions import ROLE_ADMIN, ROLE_EDITOR, ROLE_PROGRAMME, Actor

#: ``logout``: an account's sessions were ended ("overal uitloggen"); ``lock``: too many
#: failed logins locked an account name or a client address for a while.
ACTIONS = ("create", "update", "delete", "upload", "logout", "lock")


def record(session: Session, actor: Actor, action: str, entity: str, entity_id: Any,
           before: dict | None, after: dict | None) -> AuditEntry:
    """Add one audit row to ``session`` (committed with the change it describes)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    entry = AuditEntry(user_id=actor.id, user_name=actor.name, action=action, entity=entity,
                       entity_id=None if entity_id is None else str(entity_id),
                       before=before, after=after)
    session.add(entry)
    return entry


def list_entries(session: Session, actor: Actor | None, *, entity: str | None = None,
                 limit: int | None = None) -> list[AuditEntry]:
    """Audit rows, newest first.

    The programme team and administrators read the whole log; a gemeente editor reads the rows
    about its own gemeente (those whose before or after state names that gemeente); the public
    reads nothing.
    """
    if actor is None or actor.role not in (ROLE_ADMIN, ROLE_PROGRAMME, ROLE_EDITOR):
        raise PermissionDenied("het auditlogboek is alleen voor redacteuren en beheerders")
    query = select(AuditEntry).order_by(AuditEntry.id.desc())
    if entity:
        query = query.where(AuditEntry.entity == entity)
    rows = list(session.scalars(query))
    if actor.role == ROLE_EDITOR:
        rows = [r for r in rows if actor.gemeente in (_gemeente(r.before), _gemeente(r.after))]
    return rows[:limit] if limit else rows


def _gemeente(state: dict | None) -> str | None:
    return state.get("gemeente") if isinstance(state, dict) else None


def entry_dict(entry: AuditEntry) -> dict:
    """JSON view of one audit row."""
    return entry.to_dict()
