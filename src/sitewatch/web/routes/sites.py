"""``/api/sites``: the catalog, one site with all that is known of it, and assessments."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict

from sitewatch.auth.signing import record_assessment_as
from sitewatch.auth.users import SignedIn
from sitewatch.catalog.sites import count_sites, get_site, list_sites, to_record
from sitewatch.evidence.ledger import entry_summary, list_entries
from sitewatch.imagery.scenes import list_scenes, scene_summary
from sitewatch.limits import DEFAULT_PAGE_ROWS
from sitewatch.verify.assessments import assessment_to_dict, list_assessments
from sitewatch.web.security import csrf_checked, json_body, signed_in, workspace

router = APIRouter(prefix="/api/sites", tags=["sites"])


@router.get("")
def sites(
    request: Request,
    category: str | None = None,
    country: str | None = None,
    limit: int = DEFAULT_PAGE_ROWS,
    offset: int = 0,
    _user: SignedIn = Depends(signed_in),
) -> dict[str, Any]:
    """A page of the catalog, ordered by id, optionally of one category and/or country."""
    with workspace(request).session() as session:
        page = list_sites(session, category, country, limit=limit, offset=offset)
        return {
            "total": count_sites(session, category, country),
            "limit": limit,
            "offset": offset,
            "items": [to_record(site).as_dict() for site in page],
        }


@router.get("/{site_id}")
def site(request: Request, site_id: str, _user: SignedIn = Depends(signed_in)) -> dict[str, Any]:
    """A site: attributes, aliases, sources, uncertainty; its scenes by date, assessments
    and ledger entries (with their hashes)."""
    with workspace(request).session() as session:
        record = to_record(get_site(session, site_id))
        return {
            "site": record.as_dict(),
            "scenes": [scene_summary(scene) for scene in list_scenes(session, site_id=site_id)],
            "assessments": [assessment_to_dict(a) for a in list_assessments(session, site_id)],
            "ledger": [entry_summary(e) for e in list_entries(session, site_id=site_id)],
        }


class AssessmentIn(BaseModel):
    """An assessment as the form or a client sends it; the analyst is the signed-in user."""

    model_config = ConfigDict(extra="forbid")

    date: date
    status: str
    confidence: str
    evidence: list[str] = []
    note: str = ""


@router.post("/{site_id}/assessments", status_code=201, dependencies=[Depends(json_body)])
def assess(
    request: Request,
    site_id: str,
    assessment: AssessmentIn,
    user: SignedIn = Depends(csrf_checked),
) -> dict[str, Any]:
    """Record an assessment signed with the signed-in analyst's own key (see sitewatch.auth)."""
    with workspace(request).session() as session:
        stored = record_assessment_as(
            session,
            user,
            site_id=site_id,
            observed_on=assessment.date,
            status=assessment.status,
            confidence=assessment.confidence,
            evidence=assessment.evidence,
            note=assessment.note,
        )
        return assessment_to_dict(stored)
