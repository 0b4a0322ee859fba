"""The scan report: the demo scan's most probable places, as triage lists them."""

from __future__ import annotations

import re
from html import escape
from pathlib import Path

from sitewatch.db.models import Scan
from sitewatch.reports.scan import report_scan
from sitewatch.scan.candidates import candidate_to_dict
from sitewatch.scan.places import list_places
from sitewatch.scan.store import list_scans
from sitewatch.workspace import open_workspace
from tests.reports.conftest import REPORT_DATE


def test_the_report_lists_places_most_probable_first(demo_copy: Path, tmp_path: Path) -> None:
    with open_workspace(demo_copy) as workspace:
        with workspace.session() as session:
            scan_id = list_scans(session)[0].id
            every = list_places(session, scan_id=scan_id, status=None, include_known=True)
        files = report_scan(workspace, scan_id, top=len(every), out=tmp_path, now=REPORT_DATE)
    html = files.html.read_text(encoding="utf-8")
    table = html[html.index('id="candidates"') : html.index('id="chips"')]
    assert f"The {len(every)} most probable places" in html
    # One row per place, named by its best candidate, in the order triage lists them.
    assert re.findall(r'<td class="hash">([^<]+)</td>', table) == [place.id for place in every]
    rows = re.findall(
        r'<td class="hash">[^<]+</td><td>([0-9.]+)(?: edge)?</td><td>(\d+)</td>', table
    )
    assert rows == [(f"{place.probability:.2f}", str(len(place.members))) for place in every]
    # The place's own area (all its parts), not its named part's.
    areas = re.findall(r"<td>([0-9.]+)</td><td>[0-9.]+° [NS]", table)
    assert areas == [f"{place.area_m2 / 1e4:.2f}" for place in every]
    assert any(len(place.members) > 1 for place in every)  # the demo has a two-part place
    assert html.count("<h3>#") == len(every)
    # What the scan's masks left out is said on the cover, as the workbench says it.
    with open_workspace(demo_copy) as workspace, workspace.session() as session:
        summary = session.get(Scan, scan_id).summary
    assert f"vegetation filter: {summary['vegetation_filter']}; open water:" in html


def test_each_chip_names_the_scenes_its_composite_was_made_of(
    demo_copy: Path, tmp_path: Path
) -> None:
    """Dates, not windows: the caption lists each acquisition's date and scene id."""
    with open_workspace(demo_copy) as workspace:
        with workspace.session() as session:
            scan_id = list_scans(session)[0].id
            (best, *_) = list_places(session, scan_id=scan_id, status=None, include_known=True)
            scenes = candidate_to_dict(best.members[0])["acquisitions"]
        files = report_scan(workspace, scan_id, top=1, out=tmp_path, now=REPORT_DATE)
    html = files.html.read_text(encoding="utf-8")
    captions = re.findall(r'<figcaption class="caption">([^<]+)</figcaption>', html)
    assert len(captions) == 2 and scenes["before"] and scenes["after"]
    for caption, key in zip(captions, ("before", "after"), strict=True):
        listed = ", ".join(
            f"{scene['acquired'][:10]} ({escape(scene['scene_id'])})" for scene in scenes[key]
        )
        assert caption.startswith(f"{key}: composite of {len(scenes[key])} scene")
        assert caption.endswith(listed)
