"""``/api/scans`` and ``/api/candidates``: the scans, their places most probable first, what
an analyst sees of a candidate, "more like this", and the two decisions (promote, dismiss).

Decisions are signed with the signed-in analyst's own key (:mod:`sitewatch.auth.signing`)
and go to the ledger in the same transaction as the change, as from the command line.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from sitewatch import limits
from sitewatch.auth.signing import dismiss_place_as, promote_candidate_as
from sitewatch.auth.users import SignedIn
from sitewatch.catalog.sites import to_record
from sitewatch.scan.candidates import candidate_to_dict
from sitewatch.scan.like import candidates_like
from sitewatch.scan.store import list_scans, scan_to_dict
from sitewatch.scan.triage import candidate_view, place_queue
from sitewatch.web.security import json_body, needs_role, signed_in, workspace

router = APIRouter(tags=["scans"])
_DECIDE = "deciding about a candidate"
#: How many look-alikes "more like this" returns unless asked.
DEFAULT_LIKE_ROWS = 20


@router.get("/api/scans")
def scans(request: Request, _user: SignedIn = Depends(signed_in)) -> list[dict[str, Any]]:
    """Every scan, newest first, with its windows, method, status and summary."""
    with workspace(request).session() as session:
        return [scan_to_dict(scan) for scan in list_scans(session)]


@router.get("/api/scans/{scan_id}/candidates")
def candidates(
    request: Request,
    scan_id: str,
    status: str = "new",
    include_known: bool = False,
    offset: int = 0,
    limit: int = limits.DEFAULT_PAGE_ROWS,
    _user: SignedIn = Depends(signed_in),
) -> dict[str, Any]:
    """A page of the scan's places most probable first, each named by its best candidate
    (of the candidates listed: ``status`` new, promoted, dismissed or all; those near a
    known site only with ``include_known``), with the number of places."""
    with workspace(request).session() as session:
        return place_queue(
            session,
            scan_id,
            status=None if status == "all" else status,
            include_known=include_known,
            offset=offset,
            limit=limit,
        )


@router.get("/api/candidates/{candidate_id}")
def candidate(
    request: Request, candidate_id: str, _user: SignedIn = Depends(signed_in)
) -> dict[str, Any]:
    """A candidate, its nearest catalog site and distance, the scenes of both windows that
    cover it, and the bounds [W, S, E, N] to show it with its surroundings."""
    with workspace(request).session() as session:
        return candidate_view(session, candidate_id)


@router.get("/api/candidates/{candidate_id}/like")
def like(
    request: Request,
    candidate_id: str,
    limit: int = DEFAULT_LIKE_ROWS,
    _user: SignedIn = Depends(signed_in),
) -> dict[str, Any]:
    """The scan's candidates that look most like this one (their surroundings after the
    change), best first, with a similarity from 0 to 1."""
    with workspace(request).session() as session:
        found = candidates_like(session, candidate_id, limit=limit)
        return {
            "candidate_id": candidate_id,
            "items": [
                {**candidate_to_dict(other), "similarity": similarity}
                for other, similarity in found
            ],
        }


class PromoteIn(BaseModel):
    """Optional choices for the new site; the defaults name it after the candidate."""

    model_config = ConfigDict(extra="forbid")

    site_id: str | None = Field(None, max_length=100)
    name: str | None = Field(None, max_length=500)
    category: str | None = Field(None, max_length=100)


class DismissIn(BaseModel):
    """The reason, and whether the place was grouped with candidates near known sites (as
    the queue listing it was filtered)."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(..., max_length=4000)
    include_known: bool = False


@router.post("/api/candidates/{candidate_id}/promote", dependencies=[Depends(json_body)])
def promote(
    request: Request,
    candidate_id: str,
    choices: PromoteIn,
    user: SignedIn = Depends(needs_role("analyst", _DECIDE)),
) -> dict[str, Any]:
    """Make a catalog site of the candidate, recorded in the ledger under the analyst."""
    with workspace(request).session() as session:
        site = promote_candidate_as(
            session,
            user,
            candidate_id,
            site_id=choices.site_id,
            name=choices.name,
            category=choices.category,
        )
        return {
            "site": to_record(site).as_dict(),
            "candidate": candidate_view(session, candidate_id),
        }


@router.post("/api/candidates/{candidate_id}/dismiss", dependencies=[Depends(json_body)])
def dismiss(
    request: Request,
    candidate_id: str,
    decision: DismissIn,
    user: SignedIn = Depends(needs_role("analyst", _DECIDE)),
) -> dict[str, Any]:
    """Dismiss the candidate and the other new candidates of its place with the analyst's
    reason (required), each recorded in the ledger; ``dismissed`` lists them."""
    with workspace(request).session() as session:
        dismissed = dismiss_place_as(
            session, user, candidate_id, decision.reason, include_known=decision.include_known
        )
        return {
            "candidate": candidate_view(session, candidate_id),
            "dismissed": [candidate.id for candidate in dismissed],
        }
