"""User accounts: creation, roles and password checks (argon2id via ``argon2-cffi``).

Only administrators manage accounts (the CLI may act as the system administrator, see
:class:`~wijkmonitor.local.permissions.SystemActor`). Password hashes never appear in the
audit log or in any JSON output.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit, sessions
from .errors import NotFound, ValidationFailed
from .models import User
from .permissions import ROLE_EDITOR, ROLES, Actor, check_gemeente_code, require_admin

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1000
MAX_NAME_LENGTH = 100  # users.name is VARCHAR(100)
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """argon2id hash of ``password``."""
    return _hasher.hash(password)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            f"wachtwoord te kort: minstens {MIN_PASSWORD_LENGTH} tekens nodig")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationFailed(
            f"wachtwoord te lang: hoogstens {MAX_PASSWORD_LENGTH} tekens")


def plausible_name(name: object) -> bool:
    """Whether ``name`` could be an account name (text, 1-100 characters, no NUL): anything
    else is refused like a wrong password, without asking the database."""
    return isinstance(name, str) and 0 < len(name) <= MAX_NAME_LENGTH and "\x00" not in name


def get_user(session: Session, name: str) -> User:
    """The active user called ``name`` or :class:`NotFound`."""
    user = session.scalar(select(User).where(User.name == name)) if plausible_name(name) \
        else None
    if user is None or not user.active:
        raise NotFound(f"gebruiker {name!r} bestaat niet (of is uitgeschakeld)")
    return user


def create_user(session: Session, actor: Actor, name: str, role: str, password: str,
                gemeente: str | None = None) -> User:
    """Create an account.

    Parameters
    ----------
    role : str
        One of ``public``, ``gemeente-editor``, ``programme``, ``admin``.
    gemeente : str, optional
        ``GMxxxx``; required for ``gemeente-editor`` and refused for the other roles.
    """
    require_admin(actor, "gebruikers aanmaken")
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME_LENGTH or "\x00" in name:
        raise ValidationFailed(f"naam: 1 tot {MAX_NAME_LENGTH} tekens, zonder NUL-teken")
    if role not in ROLES:
        raise ValidationFailed(f"rol {role!r} bestaat niet; kies uit {', '.join(ROLES)}")
    if role == ROLE_EDITOR:
        gemeente = check_gemeente_code(gemeente)
    elif gemeente:
        raise ValidationFailed(f"alleen een gemeente-editor hoort bij een gemeente (rol {role})")
    else:
        gemeente = None
    _check_password(password)
    if session.scalar(select(User.id).where(User.name == name)) is not None:
        raise ValidationFailed(f"gebruiker {name!r} bestaat al")
    user = User(name=name, role=role, gemeente=gemeente, password_hash=hash_password(password),
                active=True)
    session.add(user)
    session.flush()
    audit.record(session, actor, "create", "user", user.id, None, user.to_dict())
    return user


def authenticate(session: Session, name: str, password: str) -> User | None:
    """The user if ``password`` is right, else ``None`` (re-hashes outdated hashes)."""
    if not isinstance(password, str) or len(password) > MAX_PASSWORD_LENGTH:
        return None
    user = (session.scalar(select(User).where(User.name == name))
            if plausible_name(name) else None)
    if user is None or not user.active:
        _hasher.hash(password)  # same cost whether or not the user exists
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def set_password(session: Session, actor: Actor, name: str, password: str) -> User:
    """Change a password: the user itself or an administrator. Ends every session of the
    account (:func:`.sessions.end_all`)."""
    user = get_user(session, name)
    if actor.id != user.id:
        require_admin(actor, "het wachtwoord van een ander wijzigen")
    _check_password(password)
    user.password_hash = hash_password(password)
    sessions.end_all(session, user.id)  # every browser logged in with the old password
    audit.record(session, actor, "update", "user", user.id, {"password": "(oud)"},
                 {"password": "(gewijzigd)"})
    return user


def set_role(session: Session, actor: Actor, name: str, role: str,
             gemeente: str | None = None) -> User:
    """Change the role (and gemeente) of an account; administrators only."""
    require_admin(actor, "rollen wijzigen")
    user = get_user(session, name)
    if role not in ROLES:
        raise ValidationFailed(f"rol {role!r} bestaat niet; kies uit {', '.join(ROLES)}")
    gemeente = check_gemeente_code(gemeente) if role == ROLE_EDITOR else None
    before = user.to_dict()
    user.role, user.gemeente = role, gemeente
    session.flush()
    audit.record(session, actor, "update", "user", user.id, before, user.to_dict())
    return user


def deactivate(session: Session, actor: Actor, name: str) -> User:
    """Switch an account off (kept, so the audit log keeps its meaning); its sessions end."""
    require_admin(actor, "gebruikers uitschakelen")
    user = get_user(session, name)
    before = user.to_dict()
    user.active = False
    sessions.end_all(session, user.id)
    session.flush()
    audit.record(session, actor, "update", "user", user.id, before, user.to_dict())
    return user


def log_out_everywhere(session: Session, actor: Actor, name: str) -> int:
    """End every session of the account ``name``: the user itself, or an administrator.
    Written to the audit log (action ``logout``). Returns the number of sessions ended."""
    user = get_user(session, name)
    if actor.id != user.id:
        require_admin(actor, "een ander overal uitloggen")
    n = sessions.end_all(session, user.id)
    audit.record(session, actor, "logout", "user", user.id, None,
                 {"name": user.name, "sessions_ended": n})
    return n
