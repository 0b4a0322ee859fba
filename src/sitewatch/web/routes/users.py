"""``/api/users``: admins manage who may sign in."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict

from sitewatch.auth.users import (
    SignedIn,
    add_user,
    list_users,
    remove_user,
    update_user,
    user_record,
)
from sitewatch.web.security import json_body, needs_role, reads_as, workspace

router = APIRouter(prefix="/api/users", tags=["users"])
_MANAGE = "managing users"


@router.get("")
def users(
    request: Request, _admin: SignedIn = Depends(reads_as("admin", _MANAGE))
) -> list[dict[str, Any]]:
    """Every user, their role and lockout state."""
    with workspace(request).session() as session:
        return [user_record(user) for user in list_users(session)]


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    role: str
    password: str


@router.post("", status_code=201, dependencies=[Depends(json_body)])
def add(
    request: Request, new: UserIn, admin: SignedIn = Depends(needs_role("admin", _MANAGE))
) -> dict[str, Any]:
    """Add a user (recorded in the ledger, naming the admin who did it)."""
    with workspace(request).session() as session:
        return user_record(add_user(session, new.name, new.role, new.password, by=admin.name))


class UserChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: str | None = None
    password: str | None = None
    unlock: bool = False


@router.patch("/{name}", dependencies=[Depends(json_body)])
def change(
    request: Request,
    name: str,
    wanted: UserChange,
    admin: SignedIn = Depends(needs_role("admin", _MANAGE)),
) -> dict[str, Any]:
    """Change a user's role or password, or lift a lockout (recorded in the ledger)."""
    with workspace(request).session() as session:
        changed = update_user(
            session,
            name,
            role=wanted.role,
            password=wanted.password,
            unlock=wanted.unlock,
            by=admin.name,
        )
        return user_record(changed)


@router.delete("/{name}")
def remove(
    request: Request, name: str, admin: SignedIn = Depends(needs_role("admin", _MANAGE))
) -> dict[str, Any]:
    """Remove a user and end their sessions (recorded in the ledger)."""
    with workspace(request).session() as session:
        return user_record(remove_user(session, name, by=admin.name))
