"""``sitewatch report declaration``: a declaration reconciled with the catalog.

From the newest verification of the declaration (``sitewatch verify``): a map of every
declared item and matched catalog site coloured by verdict, the counts, the
reconciliation table with each verdict's reasons and evidence, and one short section per
problem site (contradicted, undeclared, dismantlement unverified) with its newest plates.
A declaration not yet verified gets a report that says so.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from sitewatch.catalog.sites import get_site, to_record
from sitewatch.detect.runs import list_runs
from sitewatch.evidence.report_record import build_slice, signer_name
from sitewatch.files import check_output_folder
from sitewatch.imagery.scenes import list_scenes, scene_details
from sitewatch.reports.figures import OTHER_COLOUR, VERDICT_COLOURS, MapPoint, locator_map
from sitewatch.reports.render import ReportFiles, default_out, publish, render_html
from sitewatch.reports.site import largest_objects, newest_image, plate_pairs, run_summary
from sitewatch.verify.assessments import assessment_to_dict, list_assessments
from sitewatch.verify.service import list_verifications, verification_to_dict
from sitewatch.verify.store import declaration_to_dict, get_declaration
from sitewatch.workspace import Workspace

PROBLEM_VERDICTS = ("contradicted", "undeclared", "dismantlement-unverified")
MAX_PROBLEM_SITES = 8
COUNTED = (
    "consistent", "undeclared", "contradicted", "dismantlement-verified",
    "dismantlement-unverified", "not-observed", "unknown-site",
)  # fmt: skip


def report_declaration(
    workspace: Workspace,
    declaration_id: str,
    *,
    out: Path | None = None,
    pdf: bool = False,
    analyst: str | None = None,
    now: datetime | None = None,
) -> ReportFiles:
    """Write the report of ``declaration_id`` (NotFoundError if unknown) and record it."""
    created = (now or datetime.now(UTC)).replace(microsecond=0)
    folder = check_output_folder(out or default_out(workspace, declaration_id), "--out")
    with workspace.session() as session:
        context = _context(session, declaration_id, created)
        signer, signer_fingerprint = signer_name(session, analyst)
        slice_document = build_slice(
            session,
            site_ids=context["site_ids"],
            subject_ids=[declaration_id, *context["verification_ids"]],
            author=signer,
            signed_at=created,
        )
    context["analyst"] = {"name": signer, "fingerprint": signer_fingerprint}
    context["slice"] = slice_document
    context["files"] = [
        {"path": item["path"], "sha256": item["sha256"], "seq": entry["seq"]}
        for entry in slice_document["entries"]
        if entry.get("subject_id") == declaration_id
        for item in entry.get("files", [])
    ]
    html = render_html("declaration.html", context)
    return publish(
        workspace,
        report="declaration",
        subject_id=declaration_id,
        site_id=None,
        stem=f"{declaration_id}-report",
        html=html,
        slice_document=slice_document,
        created=created,
        out=folder,
        pdf=pdf,
        author=analyst,
    )


def _context(session: Session, declaration_id: str, now: datetime) -> dict[str, Any]:
    declaration = declaration_to_dict(get_declaration(session, declaration_id))
    verifications = [verification_to_dict(v) for v in list_verifications(session, declaration_id)]
    newest = verifications[0] if verifications else None
    verdicts = newest["verdicts"] if newest else []
    items = {item["index"]: item for item in declaration["items"]}
    counts = Counter(verdict["verdict"] for verdict in verdicts)
    site_ids = sorted({v["site_id"] for v in verdicts if v.get("site_id")})
    problems = [v for v in verdicts if v["verdict"] in PROBLEM_VERDICTS and v.get("site_id")]
    return {
        "declaration": declaration,
        "created": now,
        "verification": newest,
        "verification_ids": [v["id"] for v in verifications],
        "verdicts": verdicts,
        "items": items,
        "counts": [(name, counts.get(name, 0)) for name in COUNTED],
        "declared": len(declaration["items"]),
        "site_ids": site_ids,
        "map": _verdict_map(session, verdicts, items) if verdicts else None,
        "colours": VERDICT_COLOURS,
        "problems": [_problem(session, v, now) for v in problems[:MAX_PROBLEM_SITES]],
        "more_problems": max(0, len(problems) - MAX_PROBLEM_SITES),
    }


def _verdict_map(
    session: Session, verdicts: list[dict[str, Any]], items: dict[int, dict[str, Any]]
) -> bytes | None:
    """Items as circles and catalog sites as squares, coloured by their verdict."""
    points = []
    for verdict in verdicts:
        colour = VERDICT_COLOURS.get(verdict["verdict"], OTHER_COLOUR)
        item = items.get(verdict.get("item_index"))  # type: ignore[arg-type]
        if item is not None and item["lon"] is not None and item["lat"] is not None:
            label = f"item {item['index']}"
            points.append(MapPoint(item["lon"], item["lat"], label, colour, "o", 50))
        if verdict.get("site_id"):
            site = get_site(session, verdict["site_id"])
            if site.geometry is not None:
                point = site.geometry.representative_point()
                points.append(MapPoint(point.x, point.y, site.id, colour, "s", 40))
    if not points:
        return None
    legend = sorted(
        {(v["verdict"], VERDICT_COLOURS.get(v["verdict"], OTHER_COLOUR)) for v in verdicts}
    )
    return locator_map(
        points, margin_deg=0.5, title="items (circles) and sites (squares)", legend=legend
    )


def _problem(session: Session, verdict: dict[str, Any], now: datetime) -> dict[str, Any]:
    """What a reader needs about one problem site: the verdict, the site, its newest
    imagery and run, and its latest assessment."""
    site = get_site(session, verdict["site_id"])
    scenes = [scene_details(scene) for scene in list_scenes(session, site_id=site.id)]
    runs = list_runs(session, site.id)
    assessments = [assessment_to_dict(a) for a in list_assessments(session, site.id)]
    pairs = plate_pairs(session, site, scenes, runs[:1]) if site.geometry is not None else []
    return {
        "verdict": verdict,
        "site": to_record(site).as_dict(),
        "newest": newest_image(scenes, now),
        "run": run_summary(runs[0]) if runs else None,
        "largest": len(largest_objects(runs[0].objects)) if runs else 0,
        "assessment": assessments[-1] if assessments else None,
        "pair": pairs[0] if pairs else None,
    }
