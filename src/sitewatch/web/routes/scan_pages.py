"""The scan pages: the list of scans, the triage queue of one scan, and one candidate.

The pages are shells: ``static/js/triage.js`` fills them from the JSON API
(:mod:`sitewatch.web.routes.scans`), so the page and a script see the same answers.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from sitewatch.auth.users import ROLES, SignedIn
from sitewatch.db.models import Scan
from sitewatch.errors import NotFoundError
from sitewatch.scan.candidates import get_candidate
from sitewatch.scan.store import list_scans, scan_to_dict
from sitewatch.web.pages import render
from sitewatch.web.security import signed_in_page, workspace

router = APIRouter(include_in_schema=False)


def _can_decide(user: SignedIn) -> bool:
    """Whether the page shows decision controls (the API checks the role again)."""
    return ROLES.index(user.role) >= ROLES.index("analyst")


@router.get("/scans")
def scans_page(request: Request, user: SignedIn = Depends(signed_in_page)) -> Response:
    """Every scan, newest first, each with a link to its triage queue."""
    with workspace(request).session() as session:
        scans = [scan_to_dict(scan) for scan in list_scans(session)]
    return render("scans.html", user=user, scans=scans)


@router.get("/scans/{scan_id}/triage")
def triage_page(
    request: Request,
    scan_id: str,
    user: SignedIn = Depends(signed_in_page),
) -> Response:
    """The scan's candidates best first, one at a time, before and after side by side;
    ``?candidate=ID`` opens on that candidate."""
    with workspace(request).session() as session:
        scan = session.get(Scan, scan_id)
        if scan is None:
            raise NotFoundError(f"no scan with id {scan_id!r} in this workspace")
        values = scan_to_dict(scan)
    return render(
        "triage.html",
        user=user,
        uses_map=True,
        scan=values,
        candidate_id=request.query_params.get("candidate", ""),
        can_decide=_can_decide(user),
        single=False,
    )


@router.get("/candidates/{candidate_id}")
def candidate_page(
    request: Request, candidate_id: str, user: SignedIn = Depends(signed_in_page)
) -> Response:
    """One candidate in the triage view (for links from the map and the ledger)."""
    with workspace(request).session() as session:
        candidate = get_candidate(session, candidate_id)
        scan = session.get(Scan, candidate.scan_id)
        values = scan_to_dict(scan) if scan else {"id": candidate.scan_id}
    return render(
        "triage.html",
        user=user,
        uses_map=True,
        scan=values,
        candidate_id=candidate_id,
        can_decide=_can_decide(user),
        single=True,
    )
