"""Without a mask band, a stack with B02/B03/B04 is screened by the L1C bright/cold test."""

from __future__ import annotations

from pathlib import Path

from sitewatch.demo.synthetic import write_synthetic_pair
from sitewatch.timeline import site_timeline
from sitewatch.workspace import Workspace
from tests.imagery.scene_rows import add_synthetic_pair


def test_reflectance_pair_uses_the_l1c_test_and_irmad(workspace: Workspace, tmp_path: Path) -> None:
    pair = write_synthetic_pair(tmp_path / "pair")
    with workspace.session() as session:
        site = add_synthetic_pair(session, pair)
        site_id = site.id
    timeline = site_timeline(workspace, site_id)
    assert timeline.cloud_source.startswith("L1C bright/cold test")
    assert timeline.method == "irmad"
    assert len(timeline.records) == 2
    first, second = timeline.records
    assert first.usable and second.usable
    assert second.reference_index == 0
    assert 0.0 < second.activity < 0.5
