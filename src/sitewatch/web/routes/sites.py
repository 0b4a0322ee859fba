"""``/api/sites``: the catalog, one site with all that is known of it, assessments, its
activity timeline and its evidence package."""

from __future__ import annotations

import shutil
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict
from starlette.background import BackgroundTask

from sitewatch.auth.signing import export_package_as, record_assessment_as
from sitewatch.auth.users import SignedIn
from sitewatch.catalog.sites import count_sites, get_site, list_sites, to_record
from sitewatch.evidence.ledger import entry_summary, list_entries
from sitewatch.imagery.scenes import list_scenes, scene_summary
from sitewatch.limits import DEFAULT_PAGE_ROWS
from sitewatch.timeline.service import site_timeline
from sitewatch.verify.assessments import assessment_to_dict, list_assessments
from sitewatch.verify.service import site_verdicts
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
    """A site: attributes, aliases, sources, uncertainty; its scenes by date, assessments,
    the verdicts about it (newest verification of each declaration) and ledger entries
    (with their hashes)."""
    with workspace(request).session() as session:
        record = to_record(get_site(session, site_id))
        return {
            "site": record.as_dict(),
            "scenes": [scene_summary(scene) for scene in list_scenes(session, site_id=site_id)],
            "assessments": [assessment_to_dict(a) for a in list_assessments(session, site_id)],
            "verdicts": site_verdicts(session, site_id),
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


@router.get("/{site_id}/timeline")
def timeline(
    request: Request, site_id: str, _user: SignedIn = Depends(signed_in)
) -> dict[str, Any]:
    """Activity per date over every scene of the site (as ``sitewatch timeline`` computes
    it, with its lineage); nothing is written."""
    return site_timeline(workspace(request), site_id).as_dict()


@router.get("/{site_id}/evidence-package")
def evidence_package(
    request: Request, site_id: str, user: SignedIn = Depends(signed_in)
) -> FileResponse:
    """The site's evidence package (as ``sitewatch ledger export`` writes it), its manifest
    signed by the signed-in analyst: analysts and admins with a key on the server only,
    since the exporter vouches for the package. Written to a temporary folder outside the
    workspace, streamed, then deleted."""
    folder = Path(tempfile.mkdtemp(prefix="sitewatch-package-"))
    try:
        summary = export_package_as(
            workspace(request), user, site_id, folder / f"{site_id}-evidence.zip"
        )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(
        summary.path,
        media_type="application/zip",
        filename=summary.path.name,
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )
