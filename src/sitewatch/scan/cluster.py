"""The Dask side of a scan: the cluster, and tile tasks run on it with bounded memory.

Cluster: a ``LocalCluster`` of single-threaded worker processes by default
(:func:`dask_client`), or an existing Dask scheduler (``tcp://HOST:PORT``); workers then
need the imagery paths on a shared file system (they write nothing).

Memory stays bounded whatever the area: at most ``IN_FLIGHT_PER_THREAD`` tasks per worker
thread are submitted at a time (:func:`run_tasks`) and each result is handed on as it
arrives (``as_completed``), so neither the scheduler nor the client holds the whole
country.
"""

from __future__ import annotations

import math
import os
import time
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from shapely.geometry.base import BaseGeometry

from sitewatch.errors import InputError, SitewatchError
from sitewatch.scan.grid import Tile
from sitewatch.scan.tasks import ScanSettings, TileResult, TileTask, scan_tile

T = TypeVar("T")
#: Tasks submitted per worker thread: enough that a worker never waits while the client is
#: busy committing a batch of results.
IN_FLIGHT_PER_THREAD = 16
#: glibc's allocator settings in local worker processes, bytes. Dask's nanny sets
#: MALLOC_TRIM_THRESHOLD_=64 KB (so that freed memory shows in its memory reports), which
#: also freezes glibc's adaptive mmap threshold at 128 KB: every tile-sized numpy array
#: became a fresh mmap, and every free at the top of the heap went back to the system, so
#: each tile's arrays were zeroed page by page again, and a task took more CPU in a worker
#: than in a plain process. Arrays up to the mmap threshold now come from the heap, which
#: keeps up to the trim threshold of free memory: a fixed bound per worker (the scan's
#: throughput against plain processes: benchmarks/results/scan_throughput.json).
WORKER_MMAP_THRESHOLD = 32 * 1024 * 1024
WORKER_TRIM_THRESHOLD = 128 * 1024 * 1024


@contextmanager
def dask_client(scheduler: str | None = None, workers: int | None = None) -> Iterator[Any]:
    """A client of ``scheduler``, else of a LocalCluster of single-threaded worker processes."""
    import dask
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=15)
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(f"cannot reach the Dask scheduler: {exc}", item=scheduler) from None
        with client:
            yield client
        return
    count = workers or max(1, min(os.cpu_count() or 1, 8))
    if count < 1:
        raise InputError(f"must be at least 1, got {count}", item="--workers")
    local_config = {
        "distributed.nanny.pre-spawn-environ.MALLOC_MMAP_THRESHOLD_": WORKER_MMAP_THRESHOLD,
        "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": WORKER_TRIM_THRESHOLD,
        # The runner already places tiles (a stripe per worker) and keeps few in flight; the
        # scheduler's periodic rebalancing runs in this process, on the workers' cores.
        "distributed.scheduler.work-stealing": False,
        # The dashboard is off, so nothing reads the workers' statistical profiler (a stack
        # sample every 10 ms) or the system monitor; with the event-loop tick at 20 ms they
        # cost an idle cluster CPU that a small machine takes from the workers.
        "distributed.worker.profile.enabled": False,
        "distributed.admin.system-monitor.interval": "5s",
        "distributed.admin.tick.interval": "500ms",
        # Each worker and nanny reads its process's memory every 100 ms by default; once a
        # second still stops a runaway task long before the limit (RAM / workers), and
        # costs the idle cluster less CPU.
        "distributed.worker.memory.monitor-interval": "1s",
    }
    with (
        dask.config.set(local_config),
        LocalCluster(
            n_workers=count, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def in_batches(items: Iterable[T], size: int, seconds: float) -> Iterator[list[T]]:
    """``items`` in lists of at most ``size``; a list is also closed when an item arrives
    ``seconds`` or more after the list's first one."""
    batch: list[T] = []
    opened = 0.0
    for item in items:
        if not batch:
            opened = time.monotonic()
        batch.append(item)
        if len(batch) >= size or time.monotonic() - opened >= seconds:
            yield batch
            batch = []
    if batch:
        yield batch


def run_tasks(
    client: Any,
    tasks: list[tuple[TileTask, BaseGeometry]],
    *,
    scan_id: str,
    settings: ScanSettings,
) -> Iterator[tuple[Tile, BaseGeometry, TileResult]]:
    """Results as they finish, with at most ``IN_FLIGHT_PER_THREAD`` tasks per worker
    thread submitted.

    Each worker walks its own stripe of the area (:class:`TileQueues`) and is refilled
    when half of its tasks have finished, in one ``client.map`` rather than one ``submit``
    per task, and results are gathered a batch at a time: every call is a round trip
    between the client's thread and its event loop, and the client shares the cores with
    the workers. Keys are the tiles' own (``pure=False``: Dask would otherwise hash every
    task's arguments to make keys it is not going to use).
    """
    from distributed import as_completed

    if not tasks:
        return
    # No worker known yet (a remote cluster still starting): one task at a time, anywhere.
    capacity: dict[str | None, int] = {
        worker: IN_FLIGHT_PER_THREAD * threads
        for worker, threads in sorted(client.nthreads().items())
    } or {None: 1}
    workers = list(capacity)
    queues = TileQueues(tasks, workers)
    in_flight = dict.fromkeys(workers, 0)
    assigned: dict[str, tuple[Tile, BaseGeometry, str | None]] = {}

    def submit(worker: str | None, count: int) -> list[Any]:
        part = queues.take(worker, count)
        keys = [f"{scan_id}-{task.tile.key}" for task, _ in part]
        assigned.update(
            {
                key: (task.tile, outline, worker)
                for key, (task, outline) in zip(keys, part, strict=True)
            }
        )
        in_flight[worker] += len(part)
        placement = {"workers": worker, "allow_other_workers": True} if len(workers) > 1 else {}
        return (
            client.map(
                scan_tile,
                [task for task, _ in part],
                settings=settings,
                key=keys,
                pure=False,
                retries=1,
                **placement,
            )
            if part
            else []
        )

    running = as_completed(
        [future for worker in workers for future in submit(worker, capacity[worker])]
    )
    for batch in running.batches():
        results = _results(client, batch, [assigned[future.key][0].key for future in batch])
        for future, result in zip(batch, results, strict=True):
            tile, outline, worker = assigned.pop(future.key)
            future.release()
            in_flight[worker] -= 1
            limit = capacity[worker]
            if in_flight[worker] <= limit // 2:
                running.update(submit(worker, limit - in_flight[worker]))
            yield tile, outline, result


def _results(client: Any, futures: list[Any], tile_keys: list[str]) -> list[TileResult]:
    """The results of ``futures`` (the tasks of ``tile_keys``), the finished ones fetched
    in one gather (one round trip between the client's thread and its event loop per
    batch, not per tile), the others one by one. Called before the futures are released:
    a released future has lost its task's error."""
    finished = [future for future in futures if future.status == "finished"]
    try:
        values = dict(zip([f.key for f in finished], client.gather(finished), strict=True))
    except Exception:  # e.g. a worker lost after finishing: ask one by one
        values = {}
    return [
        values.get(future.key) or _one_result(key, future)
        for future, key in zip(futures, tile_keys, strict=True)
    ]


def _one_result(key: str, future: Any) -> TileResult:
    """The result of one task fetched on its own, or a ``failed`` result carrying the
    task's error as the user should read it."""
    try:
        return future.result()
    except SitewatchError as error:
        return TileResult(key, "failed", message=str(error))
    except Exception as error:  # a worker-side bug or a lost worker: keep scanning
        return TileResult(key, "failed", message=f"{type(error).__name__}: {error}")


class TileQueues:
    """Which tile each worker runs next: its own stripe of the area, then others' leftovers.

    The tasks come in raster order (zone by zone, north to south, west to east), and each
    worker gets a contiguous run of them, a horizontal stripe. Neighbouring tiles read the
    same compressed image blocks, and a worker decodes each block once into its own cache;
    with tiles dealt out in small blocks, the blocks along every boundary between two
    workers' tiles were decoded by both, so a tile's reading took longer with two workers
    than with one. A worker whose stripe is done takes tiles from the far end of the
    longest remaining stripe, where its owner will not get to soon, so none waits idle.
    """

    def __init__(self, tasks: list[tuple[TileTask, BaseGeometry]], workers: list[str | None]):
        share = math.ceil(len(tasks) / len(workers))
        self._queues = {
            worker: deque(tasks[number * share : (number + 1) * share])
            for number, worker in enumerate(workers)
        }

    def take(self, worker: str | None, count: int) -> list[tuple[TileTask, BaseGeometry]]:
        """Up to ``count`` tasks for ``worker``: from the front of its stripe, then from the
        back of the longest other one."""
        own, taken = self._queues[worker], []
        while len(taken) < count:
            if own:
                taken.append(own.popleft())
                continue
            donor = max(self._queues.values(), key=len)
            if not donor:
                break
            taken.append(donor.pop())
        return taken
