"""``/api/scenes``: the imagery catalog, optionally of one site."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from sitewatch import limits
from sitewatch.auth.users import SignedIn
from sitewatch.imagery.scenes import list_scenes, scene_summary
from sitewatch.web.security import signed_in, workspace

router = APIRouter(prefix="/api/scenes", tags=["imagery"])


@router.get("")
def scenes(
    request: Request,
    site: str | None = None,
    limit: int = limits.DEFAULT_PAGE_ROWS,
    offset: int = 0,
    _user: SignedIn = Depends(signed_in),
) -> dict[str, Any]:
    """A page of scenes (of the site, when given), oldest first."""
    limits.ROW_LIMIT.check(limit, item="limit")
    limits.ROW_OFFSET.check(offset, item="offset")
    with workspace(request).session() as session:
        found = list_scenes(session, site_id=site)
        return {
            "total": len(found),
            "limit": limit,
            "offset": offset,
            "items": [scene_summary(scene) for scene in found[offset : offset + limit]],
        }
