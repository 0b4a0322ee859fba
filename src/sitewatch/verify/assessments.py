"""Analysts' assessments: a site's status on a date, by a named analyst, with evidence.

An assessment is what turns imagery into a claim someone stands behind, so it is signed:
the analyst must be registered (``sitewatch keys create --name``) and the ledger entry is
signed with their key. Evidence ids must name detection runs of the same site or scenes
that cover it, so a verdict resting on the assessment can be traced to dated imagery.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sitewatch.catalog.aoi import site_area_of_interest
from sitewatch.catalog.sites import get_site
from sitewatch.db.models import Assessment, DetectionRun, Scene, Site
from sitewatch.errors import InputError
from sitewatch.evidence import ledger
from sitewatch.evidence.keys import get_analyst
from sitewatch.text import check_text

ASSESSMENT_STATUSES = (
    "active",
    "construction",
    "maintenance",
    "dismantling",
    "dismantled",
    "inactive",
    "inconclusive",
)
CONFIDENCES = ("low", "medium", "high")
ENV_ANALYST = "SITEWATCH_ANALYST"


def add_assessment(
    session: Session,
    *,
    site_id: str,
    observed_on: date,
    status: str,
    confidence: str,
    analyst: str | None = None,
    evidence: Sequence[str] = (),
    note: str = "",
) -> Assessment:
    """Store an assessment and its signed ledger entry in the caller's transaction.

    ``analyst`` None means $SITEWATCH_ANALYST. Everything is checked before anything is
    added: the site, the status, confidence and date, the analyst, each evidence id.
    """
    site = get_site(session, site_id)
    note = check_text(note.strip(), "--note", multiline=True)
    status = _choice(status, ASSESSMENT_STATUSES, "--status")
    confidence = _choice(confidence, CONFIDENCES, "--confidence")
    if observed_on > datetime.now(UTC).date():
        raise InputError(f"{observed_on} is in the future", item="--date")
    name = (analyst or os.environ.get(ENV_ANALYST) or "").strip()
    if not name:
        raise InputError(
            f"name the analyst with --analyst or ${ENV_ANALYST} (register one with "
            "'sitewatch keys create --name NAME')",
            item="--analyst",
        )
    get_analyst(session, name)
    evidence_ids = list(dict.fromkeys(e.strip() for e in evidence if e.strip()))
    for evidence_id in evidence_ids:
        _check_evidence(session, site, evidence_id)
    created = datetime.now(UTC)
    digest = hashlib.sha256(f"{site.id}|{observed_on}|{name}|{created.isoformat()}".encode())
    assessment = Assessment(
        id=f"asmt-{observed_on:%Y%m%d}-{digest.hexdigest()[:10]}",
        site_id=site.id,
        observed_on=observed_on,
        status=status,
        confidence=confidence,
        analyst=name,
        evidence=evidence_ids,
        note=note,
        created_at=created,
    )
    session.add(assessment)
    session.flush()
    ledger.record(
        session,
        kind="assessment",
        payload=assessment_to_dict(assessment),
        site_id=site.id,
        subject_id=assessment.id,
        author=name,
    )
    return assessment


def _choice(value: str, allowed: tuple[str, ...], option: str) -> str:
    normalised = value.strip().lower()
    if normalised not in allowed:
        raise InputError(
            f"unknown value {value!r} (expected one of: {', '.join(allowed)})", item=option
        )
    return normalised


def _check_evidence(session: Session, site: Site, evidence_id: str) -> None:
    """A run of this site, or a scene whose footprint meets the site's area of interest."""
    item = f"--evidence {evidence_id}"
    run = session.get(DetectionRun, evidence_id)
    if run is not None:
        if run.site_id != site.id:
            raise InputError(f"detection run of site {run.site_id!r}, not {site.id!r}", item=item)
        return
    scene = session.get(Scene, evidence_id)
    if scene is None:
        raise InputError("neither a detection run nor a scene of this workspace", item=item)
    if site.geometry is not None and not scene.footprint.intersects(site_area_of_interest(site)):
        raise InputError(f"scene does not cover site {site.id!r}", item=item)


def list_assessments(session: Session, site_id: str | None = None) -> list[Assessment]:
    """Assessments in date order (then creation order), optionally of one site."""
    query = select(Assessment).order_by(
        Assessment.observed_on, Assessment.created_at, Assessment.id
    )
    if site_id is not None:
        get_site(session, site_id)
        query = query.where(Assessment.site_id == site_id)
    return list(session.scalars(query))


def assessment_to_dict(assessment: Assessment) -> dict[str, Any]:
    """An assessment as plain data (JSON output and the ledger payload)."""
    return {
        "id": assessment.id,
        "site_id": assessment.site_id,
        "date": assessment.observed_on.isoformat(),
        "status": assessment.status,
        "confidence": assessment.confidence,
        "analyst": assessment.analyst,
        "evidence": list(assessment.evidence),
        "note": assessment.note,
        "created_at": assessment.created_at.isoformat(),
    }
