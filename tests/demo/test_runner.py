"""The demo end to end: synthetic by default, real OSCD imagery with --real."""

from __future__ import annotations

import json
from pathlib import Path

import pyogrio
import rasterio

from sitewatch.db.models import Scan
from sitewatch.demo.runner import run_demo
from sitewatch.imagery.search import find_scenes
from sitewatch.scan.candidates import list_candidates
from sitewatch.workspace import open_workspace
from tests.conftest import shared_data


def test_synthetic_demo_runs_every_stage_and_is_rerunnable(tmp_path: Path) -> None:
    steps: list[str] = []
    result = run_demo(tmp_path / "demo", report=lambda step, _detail: steps.append(step))
    assert steps[:3] == ["workspace", "sites import", "synthetic"]
    assert {"imagery add", "imagery list", "site stack", "scan", "chips", "export"} <= set(steps)
    assert result.stack_shape[:2] == (2, 4)
    assert result.stack_crs.startswith("EPSG:327")  # the fictional site's UTM zone
    chips = sorted(result.outputs["chips"].glob("*.png"))
    assert len(chips) == 2
    geojson = json.loads(result.outputs["sites (geojson)"].read_text())
    assert any(f["id"] == result.site_id for f in geojson["features"])
    assert pyogrio.read_info(result.outputs["sites (gpkg)"])["features"] == len(geojson["features"])
    verdicts = {(v["verdict"], v["site_id"], v["item_index"]) for v in result.verdicts}
    assert verdicts == {
        ("contradicted", result.site_id, 0),
        ("consistent", "northgate-depot-synthetic", 1),
        ("unknown-site", None, 2),
    }
    contradicted = next(v for v in result.verdicts if v["verdict"] == "contradicted")
    assert contradicted["evidence"] == [result.run_id]
    with open_workspace(tmp_path / "demo") as ws, ws.session() as session:
        scan = session.get(Scan, result.scan_id)
        assert scan is not None and scan.status == "done"
        found = list_candidates(session, scan_id=scan.id, include_known=True)
        # A real scan of the synthetic pair: its changes are at the demo's own sites, so
        # every candidate is "known" and lies over one of them.
        assert len(found) >= 10 and all(c.known for c in found)
        assert {c.nearest_site_id for c in found} <= {result.site_id, "northgate-depot-synthetic"}

    again = run_demo(tmp_path / "demo")
    assert again.scene_ids == result.scene_ids
    assert again.declaration_id == result.declaration_id  # imported once, verified twice
    assert again.scan_id == result.scan_id
    with open_workspace(tmp_path / "demo") as ws, ws.session() as session:
        assert len(find_scenes(session)) == 2
        assert len(list_candidates(session, status=None, include_known=True)) == len(found)


def test_real_demo_on_an_oscd_city(tmp_path: Path) -> None:
    paris = shared_data("oscd", "images", "paris")
    result = run_demo(tmp_path / "real", real=paris)
    assert result.site_id == "real-paris"
    assert result.stack_shape[0] == 2 and result.stack_shape[1] == 13
    assert result.stack_crs == "EPSG:32631"
    assert result.scan_id.startswith("scan-")
    for tif in result.outputs["chips"].glob("*.tif"):
        with rasterio.open(tif) as chip:
            assert chip.res == (10.0, 10.0)
