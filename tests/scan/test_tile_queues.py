"""Each worker walks its own stripe of the area, and a worker that runs dry takes tiles
from the far end of another's stripe."""

from __future__ import annotations

from shapely.geometry import box

from sitewatch.scan.grid import Tile
from sitewatch.scan.runner import TileQueues
from sitewatch.scan.tasks import TileTask


def _tasks(count: int) -> list:
    tiles = [Tile(f"52N_{n}_0", 32652, n, 0, 5120.0, 10.0) for n in range(count)]
    return [(TileTask(tile, (), ()), box(0, 0, 1, 1)) for tile in tiles]


def _cols(taken: list) -> list[int]:
    return [task.tile.col for task, _ in taken]


def test_workers_get_contiguous_stripes_in_raster_order() -> None:
    queues = TileQueues(_tasks(10), ["tcp://a", "tcp://b"])
    assert _cols(queues.take("tcp://a", 3)) == [0, 1, 2]
    assert _cols(queues.take("tcp://b", 3)) == [5, 6, 7]
    assert _cols(queues.take("tcp://a", 2)) == [3, 4]


def test_a_worker_that_runs_dry_takes_from_the_far_end_of_the_longest_stripe() -> None:
    queues = TileQueues(_tasks(10), ["tcp://a", "tcp://b"])
    assert _cols(queues.take("tcp://a", 5)) == [0, 1, 2, 3, 4]
    assert _cols(queues.take("tcp://b", 1)) == [5]
    # a's stripe is done: it takes b's last tiles, furthest from where b is reading.
    assert _cols(queues.take("tcp://a", 2)) == [9, 8]
    assert _cols(queues.take("tcp://b", 5)) == [6, 7]
    assert queues.take("tcp://a", 1) == [] and queues.take("tcp://b", 1) == []


def test_one_worker_or_none_known_takes_everything_in_order() -> None:
    queues = TileQueues(_tasks(4), [None])
    assert _cols(queues.take(None, 10)) == [0, 1, 2, 3]
