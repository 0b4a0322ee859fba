"""``/api/ledger``: the evidence ledger in chain order, optionally of one site."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from sitewatch.auth.users import SignedIn
from sitewatch.evidence.ledger import entry_summary, list_entries
from sitewatch.limits import DEFAULT_PAGE_ROWS
from sitewatch.web.security import signed_in, workspace

router = APIRouter(prefix="/api/ledger", tags=["ledger"])


@router.get("")
def ledger(
    request: Request,
    site: str | None = None,
    limit: int = DEFAULT_PAGE_ROWS,
    offset: int = 0,
    _user: SignedIn = Depends(signed_in),
) -> dict[str, Any]:
    """A page of entries with their hashes (of one site, when given)."""
    with workspace(request).session() as session:
        entries = list_entries(session, site_id=site, limit=limit, offset=offset)
        return {"limit": limit, "offset": offset, "items": [entry_summary(e) for e in entries]}
