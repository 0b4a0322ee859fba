"""``sitewatch report site``: a site's dossier, gathered through the service functions the
web site page calls (catalog, scenes, runs, assessments, verdicts, ledger) and rendered.

The plates are :mod:`sitewatch.imagery.plates` of the catalog's scenes: for each stored
detection run (newest first, at most :data:`MAX_PAIRS`) its before and after scenes in one
frame with the run's change objects outlined and numbered; with no run, the first and the
last scene. A site with no imagery gets a dossier that says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from sitewatch.catalog.sites import get_site, site_marker_to_dict, sites_in_bbox, to_record
from sitewatch.detect.runs import list_runs, run_to_dict
from sitewatch.errors import SitewatchError
from sitewatch.evidence.report_record import build_slice, signer_name
from sitewatch.files import check_output_folder
from sitewatch.imagery.chips import true_colour_bands
from sitewatch.imagery.plates import plate_frame, render_plate
from sitewatch.imagery.scenes import list_scenes, scene_details
from sitewatch.imagery.tiles import scene_layer
from sitewatch.reports.figures import (
    NEIGHBOUR_COLOUR,
    SITE_COLOUR,
    MapPoint,
    locator_map,
    timeline_png,
)
from sitewatch.reports.render import ReportFiles, default_out, publish, render_html
from sitewatch.sources.check import check_site_claims
from sitewatch.timeline.service import site_timeline
from sitewatch.verify.assessments import assessment_to_dict, list_assessments
from sitewatch.verify.service import site_verdicts
from sitewatch.workspace import Workspace

MAX_PAIRS = 4
TIMELINE_METHOD = "cva"
#: Change objects outlined, numbered and listed per run: the largest. A real city pair
#: can hold thousands, which would bury the imagery under outlines and fill 60 pages.
MAX_CALLOUTS = 15
NEIGHBOUR_DEG = 1.0  # neighbours drawn on the locator map: within this many degrees


@dataclass(frozen=True)
class SiteDossier:
    """The rendered dossier before it is written: its HTML and the slice it shows."""

    html: str
    slice_document: dict[str, Any]
    created: datetime


def build_site_dossier(
    workspace: Workspace, site_id: str, *, analyst: str | None, now: datetime
) -> SiteDossier:
    """Gather everything known about ``site_id`` (NotFoundError if unknown) and render it."""
    with workspace.session() as session:
        context = _site_context(session, site_id, now)
        signer, signer_fingerprint = signer_name(session, analyst)
        slice_document = build_slice(session, site_ids=[site_id], author=signer, signed_at=now)
    context["timeline"] = _timeline(workspace, site_id, context["scenes"])
    context["analyst"] = {"name": signer, "fingerprint": signer_fingerprint}
    context["slice"] = slice_document
    context["files"] = _file_hashes(slice_document, context["scenes"])
    context["findings"] = _findings(context)
    html = render_html("site.html", context)
    return SiteDossier(html=html, slice_document=slice_document, created=now)


def report_site(
    workspace: Workspace,
    site_id: str,
    *,
    out: Path | None = None,
    pdf: bool = False,
    analyst: str | None = None,
    now: datetime | None = None,
) -> ReportFiles:
    """Write the dossier of ``site_id`` (HTML, and PDF with ``pdf``) and record it."""
    created = (now or datetime.now(UTC)).replace(microsecond=0)
    folder = check_output_folder(out or default_out(workspace, site_id), "--out")
    dossier = build_site_dossier(workspace, site_id, analyst=analyst, now=created)
    return publish(
        workspace,
        report="site",
        subject_id=site_id,
        site_id=site_id,
        stem=f"{site_id}-dossier",
        html=dossier.html,
        slice_document=dossier.slice_document,
        created=created,
        out=folder,
        pdf=pdf,
        author=analyst,
    )


def _site_context(session: Session, site_id: str, now: datetime) -> dict[str, Any]:
    site = get_site(session, site_id)
    record = to_record(site).as_dict()
    scenes = [scene_details(scene) for scene in list_scenes(session, site_id=site_id)]
    runs = list_runs(session, site_id)
    point = site.geometry.representative_point() if site.geometry is not None else None
    context: dict[str, Any] = {
        "site": record,
        "point": {"lon": point.x, "lat": point.y} if point is not None else None,
        "created": now,
        "scenes": scenes,
        "newest": newest_image(scenes, now),
        "runs": [run_summary(run) for run in runs],
        "assessments": [assessment_to_dict(a) for a in list_assessments(session, site_id)],
        "verdicts": site_verdicts(session, site_id),
        "claims": check_site_claims(session, site_id),
        "locator": _locator(session, site, point) if point is not None else None,
        "pairs": plate_pairs(session, site, scenes, runs) if site.geometry is not None else [],
    }
    context["chronology"] = _chronology(context)
    return context


def newest_image(scenes: list[dict[str, Any]], now: datetime) -> dict[str, Any] | None:
    """The newest image's date and age in whole days at the report's date."""
    if not scenes:
        return None
    newest = max(datetime.fromisoformat(scene["datetime"]) for scene in scenes)
    return {"date": newest.date().isoformat(), "days": (now - newest).days}


def run_summary(run: Any) -> dict[str, Any]:
    summary = run_to_dict(run)
    summary["object_count"] = len(run.objects)
    summary["objects"] = [
        {
            "number": row.position,
            "area_m2": row.area_m2,
            "mean_score": row.mean_score,
            "max_score": row.max_score,
            "lon": row.centroid_lon,
            "lat": row.centroid_lat,
        }
        for row in largest_objects(run.objects)
    ]
    return summary


def largest_objects(objects: list[Any]) -> list[Any]:
    """The :data:`MAX_CALLOUTS` largest change objects, in their run's numbering order."""
    largest = sorted(objects, key=lambda row: -(row.area_m2 or row.pixel_count))[:MAX_CALLOUTS]
    return sorted(largest, key=lambda row: row.position)


def _locator(session: Session, site: Any, point: Any) -> bytes:
    """The site (red star) and its neighbours within :data:`NEIGHBOUR_DEG` on the outlines."""
    box = (point.x - NEIGHBOUR_DEG, point.y - NEIGHBOUR_DEG,
           point.x + NEIGHBOUR_DEG, point.y + NEIGHBOUR_DEG)  # fmt: skip
    neighbours = [
        site_marker_to_dict(other) for other in sites_in_bbox(session, box) if other.id != site.id
    ]
    points = [MapPoint(point.x, point.y, site.id, SITE_COLOUR, "*", 160)]
    points += [MapPoint(n["lon"], n["lat"], n["id"], NEIGHBOUR_COLOUR) for n in neighbours]
    return locator_map(points, title=f"{site.id} and {len(neighbours)} catalogued neighbours")


def plate_pairs(
    session: Session, site: Any, scenes: list[dict[str, Any]], runs: list[Any]
) -> list[dict[str, Any]]:
    """Before/after plates: per run (newest first) with its objects, else first and last."""
    frame = plate_frame(site.geometry)
    pairs: list[dict[str, Any]] = []
    for run in runs[:MAX_PAIRS]:
        if not (run.before_scene_id and run.after_scene_id):
            continue
        objects = [(row.position, row.geometry) for row in largest_objects(run.objects)]
        plates = [
            render_plate(scene_layer(session, scene_id), frame, objects)
            for scene_id in (run.before_scene_id, run.after_scene_id)
        ]
        pairs.append({"run_id": run.id, "plates": plates})
    if not pairs and scenes:
        chosen = {scenes[0]["id"]: None, scenes[-1]["id"]: None}
        plates = [render_plate(scene_layer(session, scene_id), frame) for scene_id in chosen]
        pairs.append({"run_id": None, "plates": plates})
    return pairs


def _timeline(workspace: Workspace, site_id: str, scenes: list[dict[str, Any]]) -> dict[str, Any]:
    """The activity plot, or why there is none: on the true-colour bands (the plates'
    bands) by change vector analysis, :data:`TIMELINE_METHOD`. IR-MAD, what ``sitewatch
    timeline`` picks for several bands, fits a transform per pair of dates (~0.5 s each),
    which would put a site with 20 scenes past the dossier's 10 s; the caption says which
    method drew the plot, and ``sitewatch timeline SITE`` draws the IR-MAD one."""
    if len(scenes) < 2:
        return {"png": None, "reason": f"{len(scenes)} scene(s): activity needs two dates"}
    shared = set.intersection(*(set(scene["bands"]) for scene in scenes))
    common = [band for band in scenes[0]["bands"] if band in shared]
    bands = true_colour_bands(common) if common else None
    try:
        timeline = site_timeline(
            workspace, site_id, bands=list(bands) if bands else None, method=TIMELINE_METHOD
        )
    except SitewatchError as exc:
        return {"png": None, "reason": str(exc)}
    return {
        "png": timeline_png(timeline),
        "reason": None,
        "method": f"{timeline.method} on {', '.join(timeline.bands)}",
    }


def _chronology(context: dict[str, Any]) -> list[dict[str, str]]:
    """Scenes, runs, assessments, verdicts and the claims of open sources on one time line,
    oldest first (a claim with the age of the newest image before it)."""
    events = [
        {
            "when": s["datetime"][:10],
            "what": "scene",
            "detail": f"{s['id']} ({s['platform'] or 'platform unknown'})",
        }
        for s in context["scenes"]
    ]
    for run in context["runs"]:
        detail = f"{run['id']}: {run['object_count']} change objects ({run['method']})"
        events.append({"when": run["created_at"][:10], "what": "detection run", "detail": detail})
    for a in context["assessments"]:
        detail = f"{a['status']}, {a['confidence']} confidence, by {a['analyst']}"
        events.append({"when": a["date"], "what": "assessment", "detail": detail})
    for v in context["verdicts"]:
        detail = f"{v['verdict']} against {v['declaration_id']}"
        events.append({"when": v["verified_at"][:10], "what": "verdict", "detail": detail})
    for c in context["claims"]:
        newest = c["newest_image_before"]
        seen = f"newest image {newest['age_days']} days before" if newest else "no image before"
        detail = f"{c['speaker'] or '?'} ({c['stance']}): {c['quote']} [{seen}]"
        events.append({"when": c["claimed_on"] or "undated", "what": "claim", "detail": detail})
    return sorted(events, key=lambda event: (event["when"], event["what"], event["detail"]))


def _file_hashes(
    slice_document: dict[str, Any], scenes: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Every file the site's entries and scenes name, with its SHA-256 (one row per path)."""
    rows = {
        item["path"]: {"path": item["path"], "sha256": item["sha256"], "seq": entry["seq"]}
        for entry in slice_document["entries"]
        for item in entry.get("files", [])
    }
    for scene in scenes:
        for asset in scene["assets"]:
            if asset["sha256"] and asset["href"] not in rows:
                rows[asset["href"]] = {
                    "path": asset["href"],
                    "sha256": asset["sha256"],
                    "seq": None,
                }
    return sorted(rows.values(), key=lambda row: row["path"])


def _findings(context: dict[str, Any]) -> list[str]:
    """The facts a reader needs first, stated plainly and only from what is recorded."""
    findings = []
    scenes, newest = context["scenes"], context["newest"]
    if newest:
        findings.append(
            f"{len(scenes)} scene(s) from {scenes[0]['datetime'][:10]} to {newest['date']}; "
            f"the newest image is {newest['days']} days old at the date of this report."
        )
    else:
        findings.append("No imagery of this site is catalogued: nothing here is observed.")
    if context["runs"]:
        run = context["runs"][0]
        changed = run["summary"].get("changed_area_m2")
        area = f", {changed / 10_000:.2f} ha changed" if changed is not None else ""
        findings.append(
            f"The newest detection run ({run['id']}) found {run['object_count']} change "
            f"object(s){area}."
        )
    if context["assessments"]:
        a = context["assessments"][-1]
        findings.append(
            f"Latest assessment ({a['date']}, {a['analyst']}): {a['status']}, "
            f"{a['confidence']} confidence."
        )
    for verdict in context["verdicts"]:
        findings.append(f"Verdict against {verdict['declaration_id']}: {verdict['verdict']}.")
    if context["timeline"]["png"] is None:
        findings.append(f"No activity timeline: {context['timeline']['reason']}")
    return findings
