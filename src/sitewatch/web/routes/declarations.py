"""``/api/declarations``: imported declarations and the verdicts given on them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from sitewatch.auth.users import SignedIn
from sitewatch.verify.service import list_verifications, verdict_map, verification_to_dict
from sitewatch.verify.store import declaration_to_dict, get_declaration, list_declarations
from sitewatch.web.security import signed_in, workspace

router = APIRouter(prefix="/api/declarations", tags=["declarations"])


@router.get("")
def declarations(request: Request, _user: SignedIn = Depends(signed_in)) -> list[dict[str, Any]]:
    """Imported declarations by date (without their items)."""
    with workspace(request).session() as session:
        return [declaration_to_dict(d, with_items=False) for d in list_declarations(session)]


@router.get("/{declaration_id}")
def declaration(
    request: Request, declaration_id: str, _user: SignedIn = Depends(signed_in)
) -> dict[str, Any]:
    """One declaration with its items."""
    with workspace(request).session() as session:
        return declaration_to_dict(get_declaration(session, declaration_id))


@router.get("/{declaration_id}/verdicts")
def verdicts(
    request: Request, declaration_id: str, _user: SignedIn = Depends(signed_in)
) -> dict[str, Any]:
    """The stored verifications of a declaration, newest first, with their verdicts."""
    with workspace(request).session() as session:
        return {
            "declaration_id": declaration_id,
            "verifications": [
                verification_to_dict(v) for v in list_verifications(session, declaration_id)
            ],
        }


@router.get("/{declaration_id}/map")
def verdicts_map(
    request: Request, declaration_id: str, _user: SignedIn = Depends(signed_in)
) -> dict[str, Any]:
    """GeoJSON of the newest verdicts: declared items (points) and catalog sites, each with
    its verdict, for the declaration page's map."""
    with workspace(request).session() as session:
        return verdict_map(session, declaration_id)
