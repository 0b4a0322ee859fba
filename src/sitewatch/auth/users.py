"""Web users: add, list, change, remove (each recorded in the ledger), roles, signing in.

Signing in is bounded: after ``MAX_FAILED_LOGINS`` wrong passwords in a row an account is
locked for ``LOCKOUT``, during which even the right password is refused; the count starts
again when the lock ends or after a successful sign-in. Name and password errors read the
same, and an unknown name costs one hash like a known one, so answers do not reveal which
names exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sitewatch.auth.passwords import (
    check_password,
    hash_password,
    needs_rehash,
    password_matches,
)
from sitewatch.db.models import User, WebSession
from sitewatch.errors import AccessDenied, ConflictError, InputError, LoginRefused, NotFoundError
from sitewatch.evidence import ledger
from sitewatch.evidence.keys import WORKSPACE_SIGNER, check_name
from sitewatch.workspace import Workspace

#: Ranked: each role may do what the roles before it may.
ROLES = ("viewer", "analyst", "admin")
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)


@dataclass(frozen=True)
class SignedIn:
    """Who a request is from: what a route is handed once the session checks out."""

    name: str
    role: str
    csrf_token: str


def check_role(role: str) -> str:
    """``role`` normalised, or InputError naming the choices."""
    normalised = role.strip().lower()
    if normalised not in ROLES:
        raise InputError(f"unknown role {role!r} (use {', '.join(ROLES)})", item="--role")
    return normalised


def has_role(user: SignedIn, needed: str) -> bool:
    """Whether ``user``'s role ranks at least ``needed`` (a page shows a form only then)."""
    return ROLES.index(user.role) >= ROLES.index(needed)


def require_role(user: SignedIn, needed: str, action: str) -> None:
    """AccessDenied unless ``user``'s role ranks at least ``needed``."""
    if not has_role(user, needed):
        raise AccessDenied(f"{action} needs the role {needed}; {user.name!r} is a {user.role}")


def add_user(
    session: Session, name: str, role: str, password: str, *, by: str | None = None
) -> User:
    """Add a web user (recorded in the ledger, without the hash); a taken name is a conflict.

    Names follow the analysts' rule (:func:`check_name`), so an analyst's web account and
    signing key can share one name; the workspace's own signer is not a person.
    """
    check_name(name)
    if name == WORKSPACE_SIGNER:
        raise InputError(
            f"{WORKSPACE_SIGNER!r} is the workspace's own signer, not a person", item="name"
        )
    role = check_role(role)
    check_password(password)
    if session.get(User, name) is not None:
        raise ConflictError(f"user {name!r} already exists")
    user = User(name=name, role=role, password_hash=hash_password(password), failed_logins=0)
    session.add(user)
    try:
        session.flush()
    except IntegrityError:
        raise ConflictError(f"user {name!r} was added by someone else meanwhile") from None
    ledger.record(
        session, kind="user.add", payload={"name": name, "role": role, "by": by}, subject_id=name
    )
    return user


def get_user(session: Session, name: str) -> User:
    """The user ``name``, or NotFoundError."""
    user = session.get(User, name)
    if user is None:
        raise NotFoundError(f"no user named {name!r}: see 'sitewatch users list'")
    return user


def list_users(session: Session) -> list[User]:
    """Every web user, by name."""
    return list(session.scalars(select(User).order_by(User.name)))


def remove_user(session: Session, name: str, *, by: str | None = None) -> User:
    """Remove a user and their sessions (recorded in the ledger); their key, if any, stays."""
    user = get_user(session, name)
    session.delete(user)
    session.flush()
    ledger.record(
        session,
        kind="user.remove",
        payload={"name": name, "role": user.role, "by": by},
        subject_id=name,
    )
    return user


def update_user(
    session: Session,
    name: str,
    *,
    role: str | None = None,
    password: str | None = None,
    unlock: bool = False,
    by: str | None = None,
) -> User:
    """Change a user's role and/or password, or lift a lockout (one ledger entry, without
    the hash). A new password ends the user's sessions, as a reset after a leak must;
    a new role applies to open sessions at their next request."""
    user = get_user(session, name)
    if role is None and password is None and not unlock:
        raise InputError("nothing to change: give a role, a password or unlock", item="name")
    changes: dict[str, Any] = {}
    if role is not None:
        user.role = changes["role"] = check_role(role)
    if password is not None:
        check_password(password)
        user.password_hash = hash_password(password)
        session.execute(delete(WebSession).where(WebSession.user_name == name))
        changes["password"] = "changed"
    if unlock or password is not None:
        user.failed_logins = 0
        user.locked_until = None
        changes["unlocked"] = True
    session.flush()
    ledger.record(
        session, kind="user.change", payload={"name": name, **changes, "by": by}, subject_id=name
    )
    return user


def user_record(user: User) -> dict[str, Any]:
    """A user as plain data (never the hash)."""
    return {
        "name": user.name,
        "role": user.role,
        "created_at": user.created_at.isoformat(),
        "failed_logins": user.failed_logins,
        "locked_until": user.locked_until.isoformat() if user.locked_until else None,
    }


def authenticate(workspace: Workspace, name: str, password: str) -> User:
    """The user, if ``password`` is theirs and the account is not locked; else LoginRefused.

    Opens its own transaction, committed whatever the outcome: a failure must be counted
    even though the caller is refused.
    """
    now = datetime.now(UTC)
    with workspace.session() as session:
        user = session.get(User, name)
        locked = user is not None and user.locked_until is not None and user.locked_until > now
        matches = password_matches(None if user is None else user.password_hash, password)
        if user is not None and not locked:
            _count_attempt(session, user, password if matches else None, now=now)
    if locked:
        raise LoginRefused(
            f"account {name!r} is locked after {MAX_FAILED_LOGINS} wrong passwords; "
            "try again later or ask an admin"
        )
    if user is None or not matches:
        raise LoginRefused("wrong name or password")
    return user


def _count_attempt(
    session: Session, user: User, right_password: str | None, *, now: datetime
) -> None:
    """Reset the count on success (rehashing a hash made with weaker parameters than
    today's); count a failure atomically (two guesses at once both count) and lock the
    account at the limit."""
    if right_password is not None:
        user.failed_logins = 0
        user.locked_until = None
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(right_password)
        return
    session.execute(
        update(User)
        .where(User.name == user.name)
        .values(failed_logins=User.failed_logins + 1, locked_until=None)
    )
    session.refresh(user)
    if user.failed_logins >= MAX_FAILED_LOGINS:
        user.failed_logins = 0
        user.locked_until = now + LOCKOUT
