"""The demo's scan stage: a real wide-area scan of the demo site, so triage has a queue.

A new user's first look at the workbench's triage page needs candidates, and candidates
come only from a scan. The demo's two dates cover one 5.12 km scan tile, so the real scan
service (:mod:`sitewatch.scan.runner`, on a one-worker local Dask cluster) runs it in a few
seconds, most of them starting the cluster. The windows are the first and the last date of
the site's scenes, each one day long, as ``sitewatch scan site:ID --before D0/D0 --after
D1/D1`` would be typed. Re-running the demo finds the same scan (its id is derived from the
request) and runs no tile again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sitewatch.catalog.aoi import site_area_of_interest
from sitewatch.catalog.sites import get_site
from sitewatch.imagery.search import find_scenes
from sitewatch.scan.cluster import dask_client
from sitewatch.scan.plan import ScanRequest
from sitewatch.scan.runner import ScanOutcome, prepare_scan, run_scan
from sitewatch.scan.triage import place_queue
from sitewatch.workspace import Workspace

#: One worker: the demo's scan is one tile, and each extra worker process costs a start.
DEMO_SCAN_WORKERS = 1


def demo_scan_request(workspace: Workspace, site_id: str) -> ScanRequest:
    """The scan of ``site_id`` between the first and the last date of its scenes."""
    with workspace.session() as session:
        scenes = find_scenes(session, site_area_of_interest(get_site(session, site_id)))
        first, last = scenes[0].datetime, scenes[-1].datetime
    return ScanRequest(aoi=f"site:{site_id}", before=_day(first), after=_day(last))


def run_demo_scan(
    workspace: Workspace, site_id: str, say: Callable[[str, str], None]
) -> ScanOutcome:
    """Scan the demo site through the scan service and say what the triage queue holds."""
    plan = prepare_scan(workspace, demo_scan_request(workspace, site_id))
    with dask_client(workers=DEMO_SCAN_WORKERS) as client:
        outcome = run_scan(workspace, plan, client)
    with workspace.session() as session:
        queue = place_queue(session, outcome.scan_id, limit=1)
    summary = outcome.summary
    # The demo's changes are all at its own sites, so they are "known"; the link shows them.
    link = f"/scans/{outcome.scan_id}/triage" + (
        "?known=1" if queue["total"] == 0 and queue["known_hidden"] else ""
    )
    say(
        "scan",
        f"{outcome.scan_id}: {outcome.tiles_run} of {outcome.tiles_total} tile(s) run now, "
        f"{summary['candidates']} candidates ({queue['known_hidden']} near known sites, "
        f"{queue['total']} new place(s) of the others); triage them at {link} (sitewatch serve)",
    )
    return outcome


def _day(moment: datetime) -> str:
    """A one-day window ``D/D`` (a bare date as END includes that day)."""
    text = f"{moment:%Y-%m-%d}"
    return f"{text}/{text}"
