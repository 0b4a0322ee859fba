"""``sitewatch report scan``: a scan's most probable places (its candidates grouped, as
triage lists them), each named by its best candidate with that candidate's before and after
chips (the triage quicklooks, drawn if not yet), its nearest catalogued site and its triage
status, and the place's probability, parts and edge."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sitewatch import limits
from sitewatch.db.models import Scan
from sitewatch.errors import NotFoundError
from sitewatch.evidence.files import resolve_stored
from sitewatch.evidence.report_record import build_slice, signer_name
from sitewatch.files import check_output_folder
from sitewatch.reports.render import ReportFiles, default_out, publish, render_html
from sitewatch.scan.candidates import candidate_to_dict, draw_chips
from sitewatch.scan.places import list_places
from sitewatch.scan.store import scan_to_dict
from sitewatch.workspace import Workspace, workspace_of

DEFAULT_TOP = 10


def report_scan(
    workspace: Workspace,
    scan_id: str,
    *,
    top: int = DEFAULT_TOP,
    out: Path | None = None,
    pdf: bool = False,
    analyst: str | None = None,
    now: datetime | None = None,
) -> ReportFiles:
    """Write the report of scan ``scan_id`` (NotFoundError if unknown): its ``top`` places
    most probable first, of every candidate whatever its triage status, and record it."""
    limits.ROW_LIMIT.check(top, item="--top")
    created = (now or datetime.now(UTC)).replace(microsecond=0)
    folder = check_output_folder(out or default_out(workspace, scan_id), "--out")
    with workspace.session() as session:
        scan = session.get(Scan, scan_id)
        if scan is None:
            raise NotFoundError(f"no scan with id {scan_id!r} in this workspace")
        places = list_places(session, scan_id=scan_id, status=None, include_known=True, limit=top)
        named = draw_chips(session, [place.members[0] for place in places])
        root = workspace_of(session).root
        candidates = [
            {
                **candidate_to_dict(candidate),
                # The place's own area, centre, nearest site and edge, over its named part's.
                **place.as_dict(members=False),
                "rank": rank,
                "chip_problem": problem,
                "pictures": _pictures(root, candidate.chips or {}),
            }
            for rank, (place, (candidate, problem)) in enumerate(
                zip(places, named, strict=True), start=1
            )
        ]
        signer, signer_fingerprint = signer_name(session, analyst)
        slice_document = build_slice(
            session,
            subject_ids=[scan_id, *(candidate["id"] for candidate in candidates)],
            author=signer,
            signed_at=created,
        )
        context = {"scan": scan_to_dict(scan), "candidates": candidates, "top": top}
    context.update(
        created=created,
        analyst={"name": signer, "fingerprint": signer_fingerprint},
        slice=slice_document,
        files=[],
    )
    return publish(
        workspace,
        report="scan",
        subject_id=scan_id,
        site_id=None,
        stem=f"{scan_id}-report",
        html=render_html("scan.html", context),
        slice_document=slice_document,
        created=created,
        out=folder,
        pdf=pdf,
        author=analyst,
    )


def _pictures(root: Path, chips: dict[str, str]) -> dict[str, bytes]:
    """The candidate's chips as bytes (``before``, ``after``), those that exist."""
    found = {}
    for key, value in chips.items():
        path = resolve_stored(root, value)
        if path.is_file():
            found[key] = path.read_bytes()
    return found
