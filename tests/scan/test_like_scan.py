"""``sitewatch scan --like`` end to end: planted look-alikes of an exemplar rank first.

The catalog is :func:`tests.scan.synthetic.build_like_catalog`: 16 tiles of vegetated ground,
one holding the exemplar compound (a catalog site), two holding compounds of the same kind
far from it, one a smooth patch of the compounds' colour without their street grid, and a
change block elsewhere. The CLI runs for real, on an in-process Dask cluster reached
through ``--scheduler`` (no worker processes to spawn).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from distributed import LocalCluster
from shapely.geometry import box
from typer.testing import CliRunner, Result

from sitewatch.cli.main import app
from sitewatch.db.models import ScanTile
from sitewatch.scan import store
from sitewatch.workspace import Workspace
from tests.scan import synthetic

EXEMPLAR_TILE = synthetic.block_tile_key(synthetic.EXEMPLAR_COMPOUND[0])
PLANTED_TILES = {synthetic.block_tile_key(block) for block, _ in synthetic.PLANTED_COMPOUNDS}
CONCRETE_TILE = synthetic.block_tile_key(synthetic.CONCRETE_PATCH[0])
# Block (1, 2) holds most of the change block of synthetic.scene.
CHANGE_TILE = synthetic.block_tile_key(
    (
        synthetic.CHANGE[0].start // synthetic.BLOCK_PX,
        synthetic.CHANGE[1].start // synthetic.BLOCK_PX,
    )
)
ELSEWHERE = box(128.0, 39.0, 128.01, 39.01)  # the outline of hand-made tile rows
TILE_KEY = re.compile(r"\b52N_\d+_\d+\b")


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """An in-process Dask cluster on TCP, so the CLI's own ``--scheduler`` path reaches it."""
    with LocalCluster(
        processes=False,
        n_workers=1,
        threads_per_worker=1,
        protocol="tcp",
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        yield cluster.scheduler_address


@pytest.fixture
def like_workspace(workspace: Workspace, tmp_path: Path) -> Workspace:
    synthetic.build_like_catalog(workspace, tmp_path / "imagery")
    return workspace


def _run(workspace: Workspace, *args: str) -> Result:
    return CliRunner().invoke(app, ["--workspace", str(workspace.root), *args])


def _scan(workspace: Workspace, scheduler: str, *extra: str) -> Result:
    return _run(
        workspace,
        "scan",
        synthetic.inner_bbox(),
        "--before",
        synthetic.BEFORE,
        "--after",
        synthetic.AFTER,
        "--tile-size",
        str(synthetic.TILE_SIZE_M),
        "--scheduler",
        scheduler,
        *extra,
    )


def _json(result: Result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_like_scan_ranks_the_planted_compounds_first(
    like_workspace: Workspace, scheduler: str
) -> None:
    outcome = _json(_scan(like_workspace, scheduler, "--like", synthetic.EXEMPLAR_SITE, "--json"))
    assert outcome["summary"]["tiles_by_status"] == {"done": 16}
    top_like = outcome["top_like_tiles"]
    assert [row["rank"] for row in top_like] == list(range(1, 11))
    like_scores = [row["like_score"] for row in top_like]
    assert like_scores == sorted(like_scores, reverse=True)

    # The exemplar's own tile is included in the ranking: with the two planted compounds
    # it takes the first three places (measured 0.780, 0.779, 0.779), clear of every
    # other tile (vegetation, the change block, the smooth "concrete": 0.695-0.708).
    first_three = {row["tile"] for row in top_like[:3]}
    assert first_three == {EXEMPLAR_TILE, *PLANTED_TILES}
    assert like_scores[2] > like_scores[3] + 0.05
    assert CONCRETE_TILE not in first_three  # same colour, no street grid: texture counts

    by_like = _json(_run(like_workspace, "scan-tiles", outcome["scan"], "--by", "like", "--json"))
    assert len(by_like) == 16
    assert by_like[:10] == top_like
    # The change ranking is a different answer: its first tile holds the change block and
    # none of the compounds (which did not change) is near its top.
    by_score = _json(_run(like_workspace, "scan-tiles", outcome["scan"], "--json"))
    first = by_score[0]
    assert first["tile"] == CHANGE_TILE and first["score"] > 0.1 and first["candidates"] == 1
    centre = synthetic.lonlat(
        synthetic.ORIGIN[0] + 2.5 * synthetic.TILE_SIZE_M,
        synthetic.ORIGIN[1] - 1.5 * synthetic.TILE_SIZE_M,
    )
    assert (first["lon"], first["lat"]) == pytest.approx(centre, abs=1e-5)
    # The ranker's probability (the default tile score) is never exactly 0, and built-up
    # ground is likelier to change than fields, so the unchanged compounds come next, but
    # far below the change (measured 0.06 against 0.67; fields 0.015).
    assert all(row["score"] < first["score"] / 4 for row in by_score if row["tile"] in first_three)

    table = _run(like_workspace, "scan-tiles", outcome["scan"], "--by", "like", "--top", "3")
    assert table.exit_code == 0, table.output
    assert set(TILE_KEY.findall(table.stdout)) == first_three
    assert "0.780" in table.stdout

    # Without --json, the (here resumed) scan prints its ten best tiles by score, then its
    # top ten look-alikes, as those tables.
    again = _scan(like_workspace, scheduler, "--like", synthetic.EXEMPLAR_SITE)
    assert again.exit_code == 0, again.output
    assert f"resumed {outcome['scan']}: 0 of 16 tiles run now" in again.stdout
    best, _, alike = again.stdout.partition(f"tiles most like {synthetic.EXEMPLAR_SITE}:")
    assert "best tiles by ranker" in best
    assert TILE_KEY.findall(best) == [row["tile"] for row in by_score[:10]]
    assert TILE_KEY.findall(alike) == [row["tile"] for row in top_like]
    assert outcome["top_tiles"] == by_score[:10]


def test_list_tiles_keeps_done_tiles_and_puts_missing_likeness_last(
    like_workspace: Workspace, scheduler: str
) -> None:
    scan_id = _json(_scan(like_workspace, scheduler, "--like", synthetic.EXEMPLAR_SITE, "--json"))[
        "scan"
    ]
    with like_workspace.session() as session:
        # Score 1.0, the top of every tile score's range, so it ranks first by score (a tie
        # goes to the smaller key, which this is).
        undescribed = ScanTile(scan_id=scan_id, tile_key="52N_0_0", status="done", score=1.0)
        skipped = ScanTile(scan_id=scan_id, tile_key="52N_0_1", status="skipped", score=None)
        for row in (undescribed, skipped):
            row.set_bbox(ELSEWHERE)
            session.add(row)
    with like_workspace.session() as session:
        by_like = store.list_tiles(session, scan_id, order_by="like")
        by_score = store.list_tiles(session, scan_id, order_by="score", limit=2)
    assert len(by_like) == 17 and by_like[-1].tile_key == "52N_0_0"
    assert "52N_0_1" not in {tile.tile_key for tile in by_like}
    assert [tile.tile_key for tile in by_score] == ["52N_0_0", CHANGE_TILE]


@pytest.mark.parametrize(
    ("arguments", "code", "message"),
    [
        (["scan-nowhere"], 3, "no scan with id 'scan-nowhere'"),
        ([None, "--by", "colour"], 2, "unknown tile order 'colour'"),
        ([None, "--top", "0"], 2, "--top: 0 is out of range: must be between 1 and 1,000,000"),
        ([None, "--by", "like"], 2, "was run without --like"),
    ],
)
def test_scan_tiles_bad_input_is_one_line(
    like_workspace: Workspace, scheduler: str, arguments: list, code: int, message: str
) -> None:
    """A scan without exemplars has no like order; the others are plain input errors."""
    scan_id = arguments[0]
    if scan_id is None:
        plain = _json(_scan(like_workspace, scheduler, "--json"))
        assert plain["top_like_tiles"] is None
        scan_id = plain["scan"]
    result = _run(like_workspace, "scan-tiles", scan_id, *arguments[1:])
    assert result.exit_code == code, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0]
