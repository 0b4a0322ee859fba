"""Writes made through the web, signed as the signed-in analyst (see :mod:`sitewatch.auth`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy.orm import Session

from sitewatch.auth.users import SignedIn, require_role
from sitewatch.db.models import Assessment
from sitewatch.errors import ConflictError, SitewatchError
from sitewatch.evidence.keys import signing_key
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
