"""The workbench's HTML pages of one site and of one declaration.

The lists are rendered here (escaped by Jinja); the maps, the before/after compare, the
timeline and the assessment form are the pages' scripts (static/js/site.js,
declaration.js) over the JSON API.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from sitewatch.auth.signing import holds_key
from sitewatch.auth.users import SignedIn, has_role
from sitewatch.catalog.sites import get_site, to_record
from sitewatch.detect.runs import list_runs, run_to_dict
from sitewatch.evidence.ledger import entry_summary, list_entries
from sitewatch.imagery.scenes import list_scenes, scene_summary
from sitewatch.sources.check import check_site_claims
from sitewatch.verify.assessments import (
    ASSESSMENT_STATUSES,
    CONFIDENCES,
    assessment_to_dict,
    list_assessments,
)
from sitewatch.verify.service import list_verifications, site_verdicts, verification_to_dict
from sitewatch.verify.store import declaration_to_dict, get_declaration, list_declarations
from sitewatch.web.pages import render
from sitewatch.web.security import signed_in_page, workspace

router = APIRouter(include_in_schema=False)


def _web_links(site: dict[str, Any]) -> None:
    """Mark each source whose address a browser may follow (``link``): web addresses only,
    never ``javascript:`` or ``data:`` from an imported catalog."""
    for source in site["sources"]:
        source["link"] = urlsplit(source["url"] or "").scheme.lower() in ("http", "https")


def _latest_image(scenes: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The newest scene's date and its age in whole days, said plainly on the page."""
    if not scenes:
        return None
    newest = max(datetime.fromisoformat(scene["datetime"]) for scene in scenes)
    return {"date": newest.date().isoformat(), "days": (datetime.now(UTC) - newest).days}


@router.get("/sites/{site_id}")
def site_page(request: Request, site_id: str, user: SignedIn = Depends(signed_in_page)) -> Response:
    """A site: attributes, sources, scenes, the before/after compare, timeline, runs,
    assessments (with a form for analysts), verdicts, ledger and the evidence package."""
    with workspace(request).session() as session:
        site = to_record(get_site(session, site_id)).as_dict()
        _web_links(site)
        scenes = [scene_summary(scene) for scene in list_scenes(session, site_id=site_id)]
        runs = [run_to_dict(run) for run in list_runs(session, site_id)]
        assessments = [assessment_to_dict(a) for a in list_assessments(session, site_id)]
        verdicts = site_verdicts(session, site_id)
        claims = check_site_claims(session, site_id)
        ledger = [entry_summary(entry) for entry in list_entries(session, site_id=site_id)]
        analyst = has_role(user, "analyst")
        can_sign = analyst and holds_key(session, user)
    scene_dates = {scene["id"]: scene["datetime"][:10] for scene in scenes}
    return render(
        "site.html",
        user=user,
        uses_map=True,
        site=site,
        scenes=scenes,
        latest=_latest_image(scenes),
        runs=runs,
        scene_dates=scene_dates,
        assessments=assessments,
        verdicts=verdicts,
        claims=claims,
        ledger=ledger,
        can_sign=can_sign,
        needs_key=analyst and not can_sign,
        statuses=ASSESSMENT_STATUSES,
        confidences=CONFIDENCES,
    )


@router.get("/declarations/{declaration_id}")
def declaration_page(
    request: Request, declaration_id: str, user: SignedIn = Depends(signed_in_page)
) -> Response:
    """A declaration: the newest verdicts beside a map coloured by verdict."""
    with workspace(request).session() as session:
        declaration = declaration_to_dict(get_declaration(session, declaration_id))
        verifications = [
            verification_to_dict(v) for v in list_verifications(session, declaration_id)
        ]
    items = {item["index"]: item for item in declaration["items"]}
    return render(
        "declaration.html",
        user=user,
        uses_map=True,
        declaration=declaration,
        items=items,
        verification=verifications[0] if verifications else None,
        older=len(verifications[1:]),
    )


@router.get("/declarations")
def declarations_page(request: Request, user: SignedIn = Depends(signed_in_page)) -> Response:
    """Imported declarations by date, each linking to its page."""
    with workspace(request).session() as session:
        rows = [declaration_to_dict(d, with_items=False) for d in list_declarations(session)]
    return render("declarations.html", user=user, declarations=rows)
