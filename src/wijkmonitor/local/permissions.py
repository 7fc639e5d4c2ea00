"""Roles and the permission rules every service applies.

Roles (``users.role``):

``public``
    Reads everything that is published; changes nothing.
``gemeente-editor``
    Bound to one gemeente (``users.gemeente``, ``GMxxxx``). May create and change targets,
    interventions and local uploads only for areas that lie in that gemeente. Areas spanning
    several gemeenten (G4, NL, a province) are out of reach.
``programme``
    The national programme team: may change targets, interventions and uploads of every area.
``admin``
    Everything ``programme`` may do, plus managing user accounts.

The rules live here and in the services, not in the web forms, so the CLI, the web forms and the
API share exactly the same checks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from .errors import PermissionDenied, ValidationFailed

ROLE_PUBLIC = "public"
ROLE_EDITOR = "gemeente-editor"
ROLE_PROGRAMME = "programme"
ROLE_ADMIN = "admin"
ROLES = (ROLE_PUBLIC, ROLE_EDITOR, ROLE_PROGRAMME, ROLE_ADMIN)

GEMEENTE_RE = re.compile(r"^GM\d{4}$")


class Actor(Protocol):
    """Who performs an action: a :class:`~wijkmonitor.local.models.User` or the system."""

    id: int | None
    name: str
    role: str
    gemeente: str | None


@dataclass(frozen=True)
class SystemActor:
    """The operator at the command line acting without a user account.

    Whoever can run the CLI against the database already has full access to it, so the CLI
    may act as this administrator (it is written into the audit log as ``name``).
    """

    name: str = "systeem (opdrachtregel)"
    role: str = ROLE_ADMIN
    gemeente: str | None = None
    id: int | None = None


def check_gemeente_code(code: str | None, *, field: str = "gemeente") -> str:
    """Return the normalised ``GMxxxx`` code or raise :class:`ValidationFailed`."""
    norm = (code or "").strip().upper() if isinstance(code, str) or code is None else ""
    if len(norm) > 6:
        raise ValidationFailed(f"{field}: {str(code)[:20]!r}... is geen gemeentecode van de "
                               "vorm GMxxxx")
    if not GEMEENTE_RE.match(norm):
        raise ValidationFailed(f"{field}: {code!r} is geen gemeentecode van de vorm GMxxxx")
    return norm


def can_edit(actor: Actor | None, gemeente: str | None) -> bool:
    """May ``actor`` change things that belong to ``gemeente``?

    ``gemeente`` is ``None`` for areas that span several gemeenten; only the programme team
    and administrators may change those.
    """
    if actor is None:
        return False
    if actor.role in (ROLE_PROGRAMME, ROLE_ADMIN):
        return True
    if actor.role == ROLE_EDITOR:
        return gemeente is not None and actor.gemeente == gemeente
    return False


def require_edit(actor: Actor | None, gemeente: str | None, what: str) -> None:
    """Raise :class:`PermissionDenied` unless ``actor`` may change ``what`` of ``gemeente``."""
    if not can_edit(actor, gemeente):
        who = "anoniem" if actor is None else f"{actor.name} ({actor.role}"\
            + (f" {actor.gemeente})" if actor.gemeente else ")")
        scope = gemeente or "meerdere gemeenten"
        raise PermissionDenied(f"{who} mag {what} van {scope} niet wijzigen")


def require_admin(actor: Actor | None, what: str) -> None:
    """Raise :class:`PermissionDenied` unless ``actor`` is an administrator."""
    if actor is None or actor.role != ROLE_ADMIN:
        name = "anoniem" if actor is None else actor.name
        raise PermissionDenied(f"alleen een beheerder mag {what} ({name} is geen beheerder)")
