"""``/api/outlines``: the shipped country outlines, the maps' offline base layer."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from sitewatch.auth.users import SignedIn
from sitewatch.catalog.reference import outline_collection
from sitewatch.web.security import signed_in

router = APIRouter(tags=["reference"])


@router.get("/api/outlines")
def outlines(_user: SignedIn = Depends(signed_in)) -> dict[str, Any]:
    """Natural Earth outlines of North Korea (1:10m) and its neighbours (1:50m), GeoJSON."""
    return outline_collection()
