"""Writes made through the web, signed as the signed-in analyst (see :mod:`sitewatch.auth`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy.orm import Session

from sitewatch.auth.users import SignedIn, require_role
from sitewatch.db.models import Assessment, Candidate, Site
from sitewatch.errors import ConflictError, SitewatchError
from sitewatch.evidence.keys import signing_key
from sitewatch.scan.candidates import dismiss_candidate, promote_candidate
from sitewatch.verify.assessments import add_assessment
from sitewatch.workspace import workspace_of


def check_signer(session: Session, user: SignedIn) -> None:
    """ConflictError unless this server holds ``user``'s registered key (``keys/NAME.pem``
    matching the public key in ``analysts``): the server signs only as the user asking."""
    try:
        signing_key(session, workspace_of(session), user.name)
    except SitewatchError as error:
        raise ConflictError(
            f"user {user.name!r} has no usable signing key on this server ({error}); an admin "
            f"of the server runs 'sitewatch keys create --name {user.name}'"
        ) from None


def record_assessment_as(
    session: Session,
    user: SignedIn,
    *,
    site_id: str,
    observed_on: date,
    status: str,
    confidence: str,
    evidence: Sequence[str] = (),
    note: str = "",
) -> Assessment:
    """An analyst's assessment, signed with their own key, in the caller's transaction."""
    require_role(user, "analyst", "recording an assessment")
    check_signer(session, user)
    return add_assessment(
        session,
        site_id=site_id,
        observed_on=observed_on,
        status=status,
        confidence=confidence,
        analyst=user.name,
        evidence=evidence,
        note=note,
    )


def promote_candidate_as(
    session: Session,
    user: SignedIn,
    candidate_id: str,
    *,
    site_id: str | None = None,
    name: str | None = None,
    category: str | None = None,
) -> Site:
    """An analyst's promotion of a scan candidate to a catalog site, signed with their own
    key, in the caller's transaction (the service of ``sitewatch candidates promote``)."""
    require_role(user, "analyst", "promoting a candidate")
    check_signer(session, user)
    return promote_candidate(
        session, candidate_id, site_id=site_id, name=name, category=category, author=user.name
    )


def dismiss_candidate_as(
    session: Session, user: SignedIn, candidate_id: str, reason: str
) -> Candidate:
    """An analyst's dismissal of a scan candidate with their reason, signed with their own
    key, in the caller's transaction (the service of ``sitewatch candidates dismiss``)."""
    require_role(user, "analyst", "dismissing a candidate")
    check_signer(session, user)
    return dismiss_candidate(session, candidate_id, reason, author=user.name)
