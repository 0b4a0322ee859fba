"""The Dask side of a scan (:mod:`sitewatch.scan.cluster`).

A real Dask cluster: scheduler and worker as separate processes on loopback; the scan
client is killed with SIGKILL in the middle of a batch and a second run finishes the rest.
Each worker walks its own stripe of the area, and a worker that runs dry takes tiles from
the far end of another's stripe. Results are gathered and batched as they arrive."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from distributed import Client, wait
from shapely.geometry import box
from sqlalchemy import select

from sitewatch.db.models import Scan, ScanTile
from sitewatch.scan.cluster import TileQueues, _one_result, _results, in_batches
from sitewatch.scan.grid import Tile
from sitewatch.scan.tasks import TileResult, TileTask
from sitewatch.workspace import Workspace
from tests.scan import synthetic

ROOT = Path(__file__).resolve().parents[2]
TILE_SIZE_M = "320"  # 32 px tiles: 64 of them, enough to stop a scan half way
BATCH = 4
KILL_AT = 2 * BATCH + 3  # two batches committed, three results in the open one, then killed


def _dask(*args: str, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", *args],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )


@pytest.fixture
def scheduler(tmp_path: Path) -> Iterator[str]:
    """``tcp://127.0.0.1:PORT`` of a fresh scheduler with one single-threaded worker."""
    address_file = tmp_path / "scheduler.json"
    processes = [
        _dask(
            "distributed.cli.dask_scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--no-dashboard",
            "--scheduler-file",
            str(address_file),
            log=tmp_path / "scheduler.log",
        )
    ]
    try:
        deadline = time.monotonic() + 60
        while not address_file.exists():
            assert time.monotonic() < deadline, (tmp_path / "scheduler.log").read_text()
            time.sleep(0.1)
        address = json.loads(address_file.read_text())["address"]
        processes.append(
            _dask(
                "distributed.cli.dask_worker",
                address,
                "--nthreads",
                "1",
                "--nworkers",
                "1",
                "--no-dashboard",
                "--host",
                "127.0.0.1",
                log=tmp_path / "worker.log",
            )
        )
        yield address
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _scan_arguments(workspace: Workspace, address: str) -> list[str]:
    return [
        "--workspace", str(workspace.root),
        "scan", synthetic.inner_bbox(), "--before", synthetic.BEFORE, "--after", synthetic.AFTER,
        "--tile-size", TILE_SIZE_M, "--scheduler", address, "--json",
    ]  # fmt: skip


def _tiles(workspace: Workspace) -> dict[str, tuple[str, object]]:
    """Each stored tile's status and finish time."""
    with workspace.session() as session:
        return {
            row.tile_key: (row.status, row.finished_at) for row in session.scalars(select(ScanTile))
        }


def test_killed_scan_on_a_real_cluster_resumes(scan_workspace: Workspace, scheduler: str) -> None:
    """Killed as result KILL_AT arrives, the client has committed exactly the batches before
    it; what it loses is the open batch (fewer than BATCH results, the runner's bound), and
    the rerun runs exactly the tiles without a row and none of the others."""
    killed = subprocess.run(
        [sys.executable, "-m", "tests.scan.killed_client", str(BATCH), str(KILL_AT), "--",
         *_scan_arguments(scan_workspace, scheduler)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    before_kill = _tiles(scan_workspace)
    ran = [key for key, (status, _) in before_kill.items() if status != "empty"]
    assert len(ran) == 2 * BATCH
    lost = KILL_AT - len(ran)  # received by the client (the last one as it was killed)
    assert 0 < lost <= BATCH
    assert len(before_kill) < 64

    rerun = subprocess.run(
        [sys.executable, "-c", "from sitewatch.cli.main import run; run()",
         *_scan_arguments(scan_workspace, scheduler)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    outcome = json.loads(rerun.stdout)
    assert outcome["resumed"] and outcome["tiles"] == 64
    assert outcome["tiles_run"] == 64 - len(before_kill)
    after = _tiles(scan_workspace)
    assert len(after) == 64
    assert {key: after[key] for key in before_kill} == before_kill  # not redone
    with scan_workspace.session() as session:
        assert session.get(Scan, outcome["scan"]).status == "done"


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


def test_batches_close_on_size_or_age() -> None:
    assert list(in_batches(range(7), 3, 60.0)) == [[0, 1, 2], [3, 4, 5], [6]]

    def slow() -> Iterator[int]:
        for value in range(3):
            time.sleep(0.03)
            yield value

    # Every item arrives 30 ms after the previous one: a 20 ms batch closes at its second.
    assert list(in_batches(slow(), 10, 0.02)) == [[0, 1], [2]]
    assert list(in_batches([], 3, 1.0)) == []


def _finished_tile(key: str) -> TileResult:
    return TileResult(key, "done", score=1.0)


def _broken_tile(key: str) -> TileResult:
    raise ValueError(f"worker-side bug at {key}")


def test_results_are_gathered_per_batch_and_a_task_error_becomes_a_failed_tile(
    client: Client,
) -> None:
    futures = [client.submit(_finished_tile, "a", pure=False), client.submit(_broken_tile, "b")]
    wait(futures)
    gathered = _results(client, futures, ["a", "b"])
    assert (gathered[0].key, gathered[0].status, gathered[0].score) == ("a", "done", 1.0)
    failed = gathered[1]
    assert (failed.key, failed.status) == ("b", "failed")
    assert failed.message == "ValueError: worker-side bug at b"
    assert _one_result("a", futures[0]).status == "done"
