"""Tiles that read the same image blocks go to the same worker, and every worker stays fed."""

from __future__ import annotations

from shapely.geometry import box

from sitewatch.scan.grid import Tile
from sitewatch.scan.runner import AFFINITY_TILES, _with_worker_affinity
from sitewatch.scan.tasks import TileTask


def _tasks(cols: int, rows: int) -> list:
    tiles = [
        Tile(f"52N_{col}_{row}", 32652, col, row, 2560.0, 10.0)
        for row in range(rows)
        for col in range(cols)
    ]
    return [(TileTask(tile, (), ()), box(0, 0, 1, 1)) for tile in tiles]


def test_each_block_of_tiles_goes_whole_to_one_worker() -> None:
    assigned = _with_worker_affinity(_tasks(16, 8), ["tcp://a", "tcp://b"])
    assert len(assigned) == 16 * 8
    by_block: dict[tuple[int, int], set[str | None]] = {}
    for task, _, worker in assigned:
        block = (task.tile.row // AFFINITY_TILES, task.tile.col // AFFINITY_TILES)
        by_block.setdefault(block, set()).add(worker)
    assert all(len(workers) == 1 for workers in by_block.values())
    assert {next(iter(workers)) for workers in by_block.values()} == {"tcp://a", "tcp://b"}


def test_workers_alternate_in_submission_order() -> None:
    assigned = _with_worker_affinity(_tasks(8, 8), ["tcp://a", "tcp://b"])
    first = [worker for _, _, worker in assigned[:8]]
    assert first == ["tcp://a", "tcp://b"] * 4


def test_one_worker_gets_no_restriction() -> None:
    assigned = _with_worker_affinity(_tasks(3, 2), ["tcp://a"])
    assert [worker for _, _, worker in assigned] == [None] * 6
