from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from distributed import Client
from PIL import Image
from shapely.geometry import Point
from sqlalchemy import func, select
from typer.testing import CliRunner

from sitewatch.analysis import water
from sitewatch.analysis.siamese import load_model_card
from sitewatch.analysis.vegetation import STRUCTURAL, VEGETATION, default_rule
from sitewatch.cli.main import app
from sitewatch.db.models import Candidate, LedgerEntry, Scan, ScanTile, Site
from sitewatch.errors import InputError
from sitewatch.scan.candidates import candidate_to_dict, open_candidate
from sitewatch.scan.runner import ScanProgress, prepare_scan, run_scan
from sitewatch.scan.tasks import DEFAULT_THRESHOLD
from sitewatch.scan.tile_scores import tile_score
from sitewatch.workspace import Workspace
from tests.scan import synthetic


def test_scan_finds_the_injected_change(scan_workspace: Workspace, client: Client) -> None:
    lon, lat = synthetic.change_centre()
    known_lon, known_lat = synthetic.lonlat(synthetic.ORIGIN[0] + 3000, synthetic.ORIGIN[1] - 400)
    with scan_workspace.session() as session:
        site = Site(id="known-1", name="Known", geometry=Point(known_lon, known_lat))
        site.set_bbox(site.geometry)
        session.add(site)
    outcome = run_scan(
        scan_workspace, prepare_scan(scan_workspace, synthetic.scan_request()), client
    )
    assert outcome.tiles_total == outcome.tiles_run == 16
    assert outcome.summary["tiles_by_status"] == {"done": 16}
    with scan_workspace.session() as session:
        candidates = list(session.scalars(select(Candidate).order_by(Candidate.score.desc())))
        scan = session.get(Scan, outcome.scan_id)
        assert scan.status == "done" and scan.crs == "EPSG:32652"
        assert len(candidates) == 1  # the block; the cloud and the noise are not candidates
        (found,) = candidates
        assert found.geometry.contains(Point(lon, lat))
        assert 60_000 < found.area_m2 < 95_000  # the 30 x 30 px block, cut at a tile edge
        assert found.score >= 4.0  # significance units: above the 0.9999 threshold
        assert found.nearest_site_id == "known-1" and not found.known
        assert 1000 < found.nearest_site_m < 2000
        assert found.chips == {}  # drawn when an analyst opens the candidate, not by the scan
        # The acquisitions compared, not only the windows: ids and dates of both scenes of
        # each window (the cloud covers part of one BEFORE scene only).
        tile = session.get(ScanTile, (outcome.scan_id, found.tile_key))
        acquisitions = candidate_to_dict(found)["acquisitions"]
        assert acquisitions == tile.acquisitions
        assert [item["acquired"][:10] for item in acquisitions["before"]] == [
            "2019-05-01",
            "2019-05-11",
        ]
        assert [item["acquired"][:10] for item in acquisitions["after"]] == [
            "2020-05-01",
            "2020-05-21",
        ]
        assert all(item["scene_id"] for item in acquisitions["before"] + acquisitions["after"])
    again = run_scan(scan_workspace, prepare_scan(scan_workspace, synthetic.scan_request()), client)
    assert again.resumed and again.tiles_run == 0 and again.scan_id == outcome.scan_id


def test_opening_a_candidate_draws_its_chips_from_the_scans_imagery(
    scan_workspace: Workspace, client: Client
) -> None:
    outcome = run_scan(
        scan_workspace, prepare_scan(scan_workspace, synthetic.scan_request()), client
    )
    with scan_workspace.session() as session:
        (found,) = session.scalars(select(Candidate))
        candidate, problem = open_candidate(session, found.id)
        chips = dict(candidate.chips)
    assert problem is None and set(chips) == {"before", "after"}
    folder = scan_workspace.products / "scans" / outcome.scan_id / "chips"
    assert all(Path(path).parent == folder for path in chips.values())
    before, after = (np.asarray(Image.open(chips[key]).convert("RGB"), float) for key in chips)
    assert before.shape == after.shape and before.shape[0] >= 48
    # The injected block is bright in AFTER only: the middle of the chip differs by far more
    # than its edges (context that did not change).
    rows, cols = before.shape[:2]
    middle = (slice(rows // 3, 2 * rows // 3), slice(cols // 3, 2 * cols // 3))
    assert np.abs(after[middle] - before[middle]).mean() > 40
    stamps = {key: Path(path).stat().st_mtime_ns for key, path in chips.items()}
    with scan_workspace.session() as session:
        again, _ = open_candidate(session, found.id)
        assert dict(again.chips) == chips  # stored on the candidate, reused
    assert {key: Path(path).stat().st_mtime_ns for key, path in chips.items()} == stamps


class _Stop(Exception):
    pass


@pytest.mark.parametrize(("batch_tiles", "committed"), [(1, 5), (4, 8)])
def test_interrupted_scan_resumes_without_redoing_tiles(
    scan_workspace: Workspace, client: Client, batch_tiles: int, committed: int
) -> None:
    """Progress is reported once a tile is committed, so a stop at the fifth report leaves
    the batches committed so far (5 one by one; 8 in batches of 4) and nothing else.
    Batches close on size only (no age limit), whatever the machine's speed."""
    plan = prepare_scan(scan_workspace, synthetic.scan_request())

    def stop_after_five(progress: ScanProgress) -> None:
        if progress.result is not None and progress.finished == 5:
            raise _Stop

    with pytest.raises(_Stop):
        run_scan(
            scan_workspace, plan, client, on_progress=stop_after_five,
            batch_tiles=batch_tiles, batch_seconds=math.inf,
        )  # fmt: skip
    with scan_workspace.session() as session:
        first = {row.tile_key: row.finished_at for row in session.scalars(select(ScanTile))}
        assert session.get(Scan, plan.scan_id).status == "running"
    assert len(first) == committed
    outcome = run_scan(
        scan_workspace, prepare_scan(scan_workspace, synthetic.scan_request()), client
    )
    assert outcome.resumed and outcome.tiles_run == 16 - committed
    with scan_workspace.session() as session:
        rows = {row.tile_key: row.finished_at for row in session.scalars(select(ScanTile))}
        assert session.get(Scan, plan.scan_id).status == "done"
    assert len(rows) == 16
    assert {key: rows[key] for key in first} == first


@pytest.mark.parametrize("aoi", ["site:missing", "site:Missing"])
def test_an_unknown_site_is_not_found_exit_3_as_in_every_other_command(
    scan_workspace: Workspace, aoi: str
) -> None:
    """The scan used to call a missing site bad input (exit 2) where imagery, stacks, chips
    and detect say not found (exit 3); the one area parser (catalog/aoi.py) says not found."""
    result = CliRunner().invoke(
        app,
        ["--workspace", str(scan_workspace.root), "scan", aoi,
         "--before", synthetic.BEFORE, "--after", synthetic.AFTER],
    )  # fmt: skip
    assert result.exit_code == 3, result.output
    assert result.output.strip().splitlines() == [f"error: no site with id {aoi[5:]!r}"]
    with scan_workspace.session() as session:
        assert session.scalar(select(func.count()).select_from(Scan)) == 0


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["country:XXX"], "no outline shipped"),
        (["nowhere"], "expected country:ISO3"),
        (["1,2,3"], "expected country:ISO3"),
        ([None, "--before", "2020-01-01/2019-01-01"], "--before"),
        ([None, "--after", "2020-13-01/2021-01-01"], "--after"),
        # the window parser is imagery/dates.py's: years of the imagery era, both ends
        ([None, "--before", "1066-01-01/1066-12-31"], "--before: '1066-01-01' is not a date"),
        ([None, "--after", "../2021-01-01"], "--after: '../2021-01-01': a window needs both"),
        ([None, "--method", "nope"], "unknown change method"),
        ([None, "--bands", " , "], "--bands: names no band"),
        ([None, "--threshold", "1"], "--threshold: must be strictly between 0 and 1"),
        ([None, "--tile-size", "105"], "tile size"),
        ([None, "--tile-score", "area"], "unknown tile score 'area'"),
        ([None, "--method", "irmad", "--tile-score", "ranker"], "fitted on cva"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(
    scan_workspace: Workspace, arguments: list, message: str
) -> None:
    aoi = arguments[0] or synthetic.inner_bbox()
    options = {"--before": synthetic.BEFORE, "--after": synthetic.AFTER}
    extra: list[str] = []
    for name, value in zip(arguments[1::2], arguments[2::2], strict=True):
        if name in options:
            options[name] = value
        else:
            extra += [name, value]
    flat = [item for pair in options.items() for item in pair]
    result = CliRunner().invoke(
        app, ["--workspace", str(scan_workspace.root), "scan", aoi, *flat, *extra]
    )
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0]
    with scan_workspace.session() as session:
        assert session.scalar(select(func.count()).select_from(Scan)) == 0
        assert session.scalar(select(func.count()).select_from(ScanTile)) == 0


def test_p95_tile_score_ranks_the_changed_tile_first(
    scan_workspace: Workspace, client: Client
) -> None:
    outcome = run_scan(
        scan_workspace,
        prepare_scan(scan_workspace, synthetic.scan_request(tile_score="p95")),
        client,
    )
    lon, lat = synthetic.change_centre()
    with scan_workspace.session() as session:
        scan = session.get(Scan, outcome.scan_id)
        rows = list(session.scalars(select(ScanTile).order_by(ScanTile.score.desc())))
    assert scan.parameters["tile_score"] == "p95"
    first, second = rows[0], rows[1]
    assert first.min_lon <= lon <= first.max_lon and first.min_lat <= lat <= first.max_lat
    assert first.score >= 4.0  # significance of the block: above the 0.9999 threshold
    assert second.score < first.score / 2  # noise only (p95 of a uniform CDF: ~1.3)


def test_tile_score_definitions() -> None:
    usable = np.ones((10, 10), bool)
    usable[0] = False  # 90 compared pixels
    changed = np.zeros((10, 10), bool)
    changed[5:8, 0:3] = True  # 9 of them
    significance = np.tile(np.arange(10, dtype=np.float32), (10, 1))
    assert tile_score("changed", changed, significance, usable) == pytest.approx(0.1)
    assert tile_score("p95", changed, significance, usable) == pytest.approx(9.0)
    with pytest.raises(InputError, match="unknown tile score 'mean'"):
        tile_score("mean", changed, significance, usable)


def test_threshold_defaults_to_the_method_s_own(scan_workspace: Workspace) -> None:
    statistical = prepare_scan(scan_workspace, synthetic.scan_request())
    assert statistical.settings.threshold == DEFAULT_THRESHOLD
    learned = prepare_scan(scan_workspace, synthetic.scan_request(method="siamese"))
    assert learned.settings.threshold == load_model_card("rgb")["threshold"]  # 4 bands: rgb
    assert learned.parameters["threshold"] == learned.settings.threshold
    chosen = prepare_scan(scan_workspace, synthetic.scan_request(method="siamese", threshold=0.9))
    assert chosen.settings.threshold == 0.9
    with pytest.raises(InputError, match="unknown tile score 'area'"):
        prepare_scan(scan_workspace, synthetic.scan_request(tile_score="area"))


def test_candidates_chips_draws_the_best_candidates_once(
    scan_workspace: Workspace, client: Client
) -> None:
    run_scan(scan_workspace, prepare_scan(scan_workspace, synthetic.scan_request()), client)
    command = ["--workspace", str(scan_workspace.root), "candidates", "chips", "--json"]
    first = CliRunner().invoke(app, command)
    assert first.exit_code == 0, first.output
    (row,) = json.loads(first.stdout)
    assert row["problem"] is None and Path(row["before"]).is_file()
    stamp = Path(row["after"]).stat().st_mtime_ns
    again = CliRunner().invoke(app, command[:-1])
    assert again.exit_code == 0, again.output
    assert f"{row['id']}  score" in again.stdout and "_{before,after}.png" in again.stdout
    assert Path(row["after"]).stat().st_mtime_ns == stamp  # stored and reused, not redrawn


def _harvest_centre() -> Point:
    rows, cols = synthetic.HARVEST
    return Point(
        synthetic.lonlat(
            synthetic.ORIGIN[0] + 10 * (cols.start + cols.stop) / 2,
            synthetic.ORIGIN[1] - 10 * (rows.start + rows.stop) / 2,
        )
    )


@pytest.fixture
def harvest_workspace(workspace: Workspace, tmp_path: Path) -> Workspace:
    """The synthetic catalog with a field harvested between the windows besides the block."""
    synthetic.build_catalog(workspace, tmp_path / "imagery", harvest=True)
    return workspace


def test_the_scan_leaves_the_harvest_out_as_detect_does(
    harvest_workspace: Workspace, client: Client
) -> None:
    plan = prepare_scan(harvest_workspace, synthetic.scan_request())
    assert plan.parameters["vegetation"] == {"rule": default_rule("cva").as_dict(), "kept": False}
    outcome = run_scan(harvest_workspace, plan, client)
    summary = outcome.summary
    assert summary["vegetation_test_applied"] and summary["vegetation_objects_left_out"] == 1
    assert summary["vegetation_filter"] == "1 vegetation-phase objects left out"
    with harvest_workspace.session() as session:
        (block,) = session.scalars(select(Candidate))  # the roof-like block only
        assert block.change_class == STRUCTURAL and block.vegetation_share < 0.1
        row = candidate_to_dict(block)
        assert (row["change_class"], row["vegetation_share"]) == (
            STRUCTURAL,
            block.vegetation_share,
        )
        left_out = session.scalars(select(ScanTile.vegetation_objects)).all()
        assert sorted(left_out)[-1] == 1 and sum(left_out) == 1
        entry = session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "scan")).one()
        payload = json.loads(entry.payload)
    assert payload["summary"]["vegetation_objects_left_out"] == 1
    assert payload["parameters"]["vegetation"]["kept"] is False


@pytest.fixture
def lake_workspace(workspace: Workspace, tmp_path: Path) -> Workspace:
    """The synthetic catalog with a lake turning turbid between the windows besides the block."""
    synthetic.build_catalog(workspace, tmp_path / "imagery", lake=True)
    return workspace


def test_the_scan_leaves_a_turbid_lake_out_as_detect_does(
    lake_workspace: Workspace, client: Client
) -> None:
    plan = prepare_scan(lake_workspace, synthetic.scan_request())
    rule = water.default_rule("cva")
    assert rule is not None and rule.ndwi <= 0.5  # the lake is water on both dates
    assert plan.parameters["water"] == {"rule": rule.as_dict(), "kept": False}
    outcome = run_scan(lake_workspace, plan, client)
    lake_pixels = 40 * 50
    assert 0.9 * lake_pixels <= outcome.summary["water_pixels"] <= lake_pixels
    assert outcome.summary["water_mask"] == (
        f"{outcome.summary['water_pixels']} changed px of open water on both dates left out"
    )
    with lake_workspace.session() as session:
        (block,) = session.scalars(select(Candidate))  # the roof-like block only
        assert block.geometry.contains(Point(synthetic.change_centre()))
        counted = session.scalars(select(ScanTile.water_pixels)).all()
        entry = session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "scan")).one()
    assert sum(counted) == outcome.summary["water_pixels"]
    assert json.loads(entry.payload)["parameters"]["water"]["kept"] is False

    kept = prepare_scan(lake_workspace, synthetic.scan_request(keep_water=True))
    assert kept.scan_id != plan.scan_id  # the choice is part of what defines the scan
    outcome = run_scan(lake_workspace, kept, client)
    assert outcome.summary["water_mask"].endswith("kept")
    with lake_workspace.session() as session:
        query = select(Candidate).where(Candidate.scan_id == kept.scan_id)
        assert len(session.scalars(query).all()) == 2


def test_without_b03_the_scan_keeps_the_lake_and_says_why(
    lake_workspace: Workspace, client: Client
) -> None:
    plan = prepare_scan(lake_workspace, synthetic.scan_request(bands=("B02", "B04", "B08")))
    assert plan.settings.water_rule is None
    assert plan.parameters["water"] == {"rule": None, "kept": False}
    outcome = run_scan(lake_workspace, plan, client)
    assert outcome.summary["water_mask"] == "skipped: needs bands B03 and B08"
    assert outcome.summary["water_pixels"] == 0
    with lake_workspace.session() as session:
        assert len(session.scalars(select(Candidate)).all()) == 2  # the block and the lake


def test_kept_the_harvest_is_a_candidate_classed_vegetation_of_another_scan(
    harvest_workspace: Workspace, client: Client
) -> None:
    left_out = prepare_scan(harvest_workspace, synthetic.scan_request())
    plan = prepare_scan(harvest_workspace, synthetic.scan_request(keep_vegetation=True))
    assert plan.scan_id != left_out.scan_id  # the choice is part of what defines the scan
    outcome = run_scan(harvest_workspace, plan, client)
    assert outcome.summary["vegetation_objects_left_out"] == 0
    assert outcome.summary["vegetation_filter"] == (
        "1 vegetation-phase objects kept (classed vegetation)"
    )
    with harvest_workspace.session() as session:
        found = {item.change_class: item for item in session.scalars(select(Candidate))}
    assert set(found) == {STRUCTURAL, VEGETATION}
    assert found[VEGETATION].geometry.contains(_harvest_centre())
    assert found[VEGETATION].vegetation_share > 0.95


def test_without_b04_the_scan_says_the_test_was_skipped(
    harvest_workspace: Workspace, client: Client
) -> None:
    plan = prepare_scan(harvest_workspace, synthetic.scan_request(bands=("B02", "B03", "B08")))
    assert plan.settings.vegetation_rule is None
    assert plan.parameters["vegetation"] == {"rule": None, "kept": False}
    outcome = run_scan(harvest_workspace, plan, client)
    assert not outcome.summary["vegetation_test_applied"]
    assert outcome.summary["vegetation_filter"] == "skipped: needs bands B04 and B08"
    with harvest_workspace.session() as session:
        candidates = list(session.scalars(select(Candidate)))
    assert candidates and {(c.change_class, c.vegetation_share) for c in candidates} == {
        (None, None)
    }
    assert any(c.geometry.contains(_harvest_centre()) for c in candidates)  # not left out


def test_scan_keep_vegetation_on_the_command_line(
    harvest_workspace: Workspace, client: Client
) -> None:
    """The flag reaches the scan and the summary line is printed as text."""
    command = [
        "--workspace", str(harvest_workspace.root), "scan", synthetic.inner_bbox(),
        "--before", synthetic.BEFORE, "--after", synthetic.AFTER,
        "--tile-size", str(synthetic.TILE_SIZE_M), "--scheduler", client.scheduler.address,
    ]  # fmt: skip
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 0, result.output
    assert "vegetation filter: 1 vegetation-phase objects left out" in result.output
    kept = CliRunner().invoke(app, [*command, "--keep-vegetation", "--json"])
    assert kept.exit_code == 0, kept.output
    summary = json.loads(kept.stdout)["summary"]
    assert summary["candidates"] == 2 and summary["vegetation_objects_left_out"] == 0
