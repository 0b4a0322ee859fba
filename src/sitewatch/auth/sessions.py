"""Sign-in sessions: a random token in the browser's cookie, its SHA-256 in the database.

The token is 256 random bits, so it needs no signature: a guess cannot hit, and a copy of
the database does not hold the tokens themselves. Each session has its own CSRF token
(the synchronizer token every write must present). Sessions last ``SESSION_LIFETIME``
from sign-in; signing out or removing the user ends them at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from sitewatch.auth.users import SignedIn
from sitewatch.db.models import User, WebSession

SESSION_LIFETIME = timedelta(hours=12)


@dataclass(frozen=True)
class NewSession:
    """What a sign-in hands the browser: the cookie token (shown once) and who it is."""

    token: str
    user: SignedIn
    expires_at: datetime


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def open_session(session: Session, user: User) -> NewSession:
    """Start a session for ``user`` (just authenticated); expired sessions are swept."""
    now = datetime.now(UTC)
    session.execute(delete(WebSession).where(WebSession.expires_at <= now))
    token, csrf_token = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    expires_at = now + SESSION_LIFETIME
    session.add(
        WebSession(
            token_sha256=_digest(token),
            user_name=user.name,
            csrf_token=csrf_token,
            created_at=now,
            expires_at=expires_at,
        )
    )
    session.flush()
    return NewSession(token, SignedIn(user.name, user.role, csrf_token), expires_at)


def resolve_session(session: Session, token: str) -> SignedIn | None:
    """Who holds ``token``, with their current role; None if unknown or expired."""
    row = session.get(WebSession, _digest(token))
    if row is None or row.expires_at <= datetime.now(UTC):
        return None
    user = session.get(User, row.user_name)
    if user is None:
        return None
    return SignedIn(user.name, user.role, row.csrf_token)


def close_session(session: Session, token: str) -> None:
    """Sign out: the token stops working at once."""
    session.execute(delete(WebSession).where(WebSession.token_sha256 == _digest(token)))


def csrf_matches(user: SignedIn, presented: str | None) -> bool:
    """Whether the token a write presents is its session's (compared in constant time)."""
    return presented is not None and hmac.compare_digest(
        user.csrf_token.encode(), presented.encode("utf-8", "surrogatepass")
    )
