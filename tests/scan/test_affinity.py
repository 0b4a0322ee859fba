"""Tiles that read the same image blocks go to the same worker, and every worker stays fed."""

from __future__ import annotations

from shapely.geometry import box

from sitewatch.scan.grid import Tile
from sitewatch.scan.runner import _with_worker_affinity, affinity_block
from sitewatch.scan.tasks import TileTask


def _tasks(cols: int, rows: int) -> list:
    tiles = [
        Tile(f"52N_{col}_{row}", 32652, col, row, 2560.0, 10.0)
        for row in range(rows)
        for col in range(cols)
    ]
    return [(TileTask(tile, (), ()), box(0, 0, 1, 1)) for tile in tiles]


def test_a_block_is_about_1024_px_a_side() -> None:
    def tile(col: int, row: int, size_m: float) -> Tile:
        return Tile(f"52N_{col}_{row}", 32652, col, row, size_m, 10.0)

    assert affinity_block(tile(3, 5, 2560.0)) == (32652, 1, 0)  # 4 x 256 px
    assert affinity_block(tile(3, 5, 5120.0)) == (32652, 2, 1)  # 2 x 512 px
    assert affinity_block(tile(3, 5, 20480.0)) == (32652, 5, 3)  # bigger than a block


def test_each_block_of_tiles_goes_whole_to_one_worker() -> None:
    assigned = _with_worker_affinity(_tasks(16, 8), ["tcp://a", "tcp://b"])
    assert len(assigned) == 16 * 8
    by_block: dict[tuple[int, int, int], set[str | None]] = {}
    for task, _, worker in assigned:
        by_block.setdefault(affinity_block(task.tile), set()).add(worker)
    assert all(len(workers) == 1 for workers in by_block.values())
    assert {next(iter(workers)) for workers in by_block.values()} == {"tcp://a", "tcp://b"}


def test_workers_alternate_in_submission_order() -> None:
    assigned = _with_worker_affinity(_tasks(8, 8), ["tcp://a", "tcp://b"])
    first = [worker for _, _, worker in assigned[:8]]
    assert first == ["tcp://a", "tcp://b"] * 4


def test_one_worker_gets_no_restriction() -> None:
    assigned = _with_worker_affinity(_tasks(3, 2), ["tcp://a"])
    assert [worker for _, _, worker in assigned] == [None] * 6
