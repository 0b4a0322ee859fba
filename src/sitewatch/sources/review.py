"""Claims in the workspace: list (by site), show, and an analyst's signed review.

A review never edits the extracted claim: it records, signed in the ledger as
``claim.review``, whether the analyst confirms it, corrects it (speaker, stance, sites)
or rejects it (not a claim). The latest review is what holds (``effective`` values).
"""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sitewatch.catalog.sites import get_site
from sitewatch.db.models import Claim, ClaimReview
from sitewatch.errors import InputError, NotFoundError
from sitewatch.evidence import ledger
from sitewatch.evidence.keys import get_analyst
from sitewatch.sources.claims import STANCES
from sitewatch.sources.payload import claim_fields
from sitewatch.text import check_text
from sitewatch.verify.assessments import ENV_ANALYST

VERDICTS = ("confirmed", "corrected", "rejected")


def list_claims(session: Session, site_id: str | None = None) -> list[Claim]:
    """Claims by source date and position; with ``site_id``, those about that site
    (as extracted or as corrected by the latest review)."""
    if site_id is not None:
        get_site(session, site_id)
    claims = list(session.scalars(select(Claim).order_by(Claim.claimed_on, Claim.id)))
    if site_id is None:
        return claims
    return [c for c in claims if site_id in effective(c)["site_ids"]]


def get_claim(session: Session, claim_id: str) -> Claim:
    claim = session.get(Claim, claim_id)
    if claim is None:
        raise NotFoundError(f"no claim with id {claim_id!r} (see 'claims list')")
    return claim


def effective(claim: Claim) -> dict[str, Any]:
    """Speaker, stance and sites as the latest review leaves them (as extracted if none)."""
    values: dict[str, Any] = {
        "speaker": claim.speaker,
        "stance": claim.stance,
        "site_ids": list(claim.site_ids),
        "rejected": False,
    }
    if claim.reviews:
        latest = claim.reviews[-1]
        values.update(latest.corrections)
        values["rejected"] = latest.verdict == "rejected"
    return values


def review_claim(
    session: Session,
    claim_id: str,
    *,
    analyst: str | None,
    verdict: str,
    speaker: str | None = None,
    stance: str | None = None,
    site_ids: list[str] | None = None,
    note: str = "",
) -> ClaimReview:
    """Record ``analyst``'s review of a claim, signed with their key in the ledger."""
    claim = get_claim(session, claim_id)
    if verdict not in VERDICTS:
        raise InputError(f"must be one of {', '.join(VERDICTS)}", item="--verdict")
    corrections: dict[str, Any] = {}
    if speaker is not None:
        corrections["speaker"] = check_text(speaker, "--speaker")
    if stance is not None:
        if stance not in STANCES:
            raise InputError(f"must be one of {', '.join(STANCES)}", item="--stance")
        corrections["stance"] = stance
    if site_ids is not None:
        corrections["site_ids"] = [get_site(session, s).id for s in site_ids]
    if verdict == "corrected" and not corrections:
        raise InputError("a correction needs --speaker, --stance or --site", item="--verdict")
    if verdict != "corrected" and corrections:
        raise InputError("corrections are given with --verdict corrected", item="--verdict")
    analyst = (analyst or os.environ.get(ENV_ANALYST) or "").strip()
    if not analyst:
        raise InputError(f"name the analyst with --analyst or ${ENV_ANALYST}", item="--analyst")
    get_analyst(session, analyst)
    review = ClaimReview(
        claim_id=claim.id,
        analyst=analyst,
        verdict=verdict,
        corrections=corrections,
        note=check_text(note, "--note", multiline=True),
    )
    claim.reviews.append(review)
    session.flush()
    ledger.record(
        session,
        kind="claim.review",
        payload={
            "claim_id": claim.id,
            "source_id": claim.source_id,
            "verdict": verdict,
            "corrections": corrections,
            "note": review.note,
        },
        subject_id=claim.id,
        author=analyst,
    )
    return review


def claim_to_dict(claim: Claim) -> dict[str, Any]:
    """A claim as plain data, with its reviews and the values that hold after them."""
    return {
        **claim_fields(claim),
        "source_id": claim.source_id,
        "effective": effective(claim),
        "reviews": [
            {
                "analyst": r.analyst,
                "verdict": r.verdict,
                "corrections": r.corrections,
                "note": r.note,
                "created_at": r.created_at.isoformat() if r.created_at else None,
            }
            for r in claim.reviews
        ],
    }
