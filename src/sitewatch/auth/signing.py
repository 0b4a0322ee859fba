"""Writes made through the web, signed as the signed-in analyst (see :mod:`sitewatch.auth`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from sitewatch.auth.users import SignedIn, require_role
from sitewatch.catalog.sites import get_site
from sitewatch.db.models import Assessment, Candidate, Site
from sitewatch.errors import ConflictError, SitewatchError
from sitewatch.evidence.keys import signing_key
from sitewatch.evidence.package import ExportSummary, export_package
from sitewatch.scan.candidates import promote_candidate
from sitewatch.scan.places import dismiss_place
from sitewatch.verify.assessments import add_assessment
from sitewatch.workspace import Workspace, workspace_of


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


def holds_key(session: Session, user: SignedIn) -> bool:
    """Whether the server can sign as ``user`` (see :func:`check_signer`): a page offers
    the signed actions only then."""
    try:
        check_signer(session, user)
    except ConflictError:
        return False
    return True


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


def export_package_as(
    workspace: Workspace, user: SignedIn, site_id: str, out: Path
) -> ExportSummary:
    """The evidence package of ``site_id`` written to ``out``, its manifest signed with
    ``user``'s own key: the exporter vouches for the package, so only an analyst whose
    key this server holds may export (a viewer signs nothing). Nothing is written to the
    workspace: the workspace's own key is never created for a web export."""
    require_role(user, "analyst", "exporting an evidence package")
    with workspace.session() as session:
        get_site(session, site_id)
        check_signer(session, user)
    return export_package(workspace, site_id, out, author=user.name)


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


def dismiss_place_as(
    session: Session,
    user: SignedIn,
    candidate_id: str,
    reason: str,
    *,
    include_known: bool = False,
) -> list[Candidate]:
    """An analyst's dismissal of a scan candidate and the rest of its place with their
    reason, signed with their own key, in the caller's transaction (the service of
    ``sitewatch candidates dismiss``: :func:`~sitewatch.scan.places.dismiss_place`)."""
    require_role(user, "analyst", "dismissing a candidate")
    check_signer(session, user)
    return dismiss_place(
        session, candidate_id, reason, include_known=include_known, author=user.name
    )
