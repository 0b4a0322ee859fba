"""``run_scan``: plan a scan in the client, run one Dask task per tile, store as they finish.

The client (the ``sitewatch scan`` process) does everything that touches the database:
it validates the request, finds the scenes of both date windows once for the whole area,
lays the tile grid (:mod:`sitewatch.scan.grid`), creates or reopens the ``Scan`` row and
skips the tiles that already have a finished ``ScanTile`` row (resume). Tiles no scene
covers on one of the dates are recorded ``empty`` without a task. The others become tasks
(:func:`sitewatch.scan.tasks.scan_tile`) that carry only file paths and footprints.

Memory stays bounded whatever the area: at most ``IN_FLIGHT_PER_THREAD`` tasks per worker
thread are submitted at a time and each result is written and dropped as it arrives
(``as_completed``), so neither the scheduler nor the client holds the whole country; the
plan holds one small record per tile.

The scan id is derived from everything that defines the result (area, dates, method,
parameters, grid), so running the same command again finds the same scan and continues
it; a finished scan is reported, not redone.

Cluster: a ``LocalCluster`` of single-threaded worker processes by default, or an
existing Dask scheduler (``tcp://HOST:PORT``); workers then need the imagery paths on a
shared file system (they write nothing).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from datetime import time as day_time
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pyogrio
import shapely
from pyogrio.errors import DataSourceError
from pyproj import CRS
from shapely import wkb
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from sitewatch.analysis.methods import (
    DEFAULT_SCAN_METHOD,
    SCAN_MIN_AREA_M2,
    check_change_method,
    default_bands,
)
from sitewatch.catalog.aoi import parse_area, site_area_of_interest
from sitewatch.db.models import Scan, Site
from sitewatch.errors import InputError, NotFoundError, SitewatchError
from sitewatch.evidence import ledger
from sitewatch.imagery.search import find_scenes
from sitewatch.imagery.stack import ScenePlan, choose_bands, scene_plan
from sitewatch.scan import like, store
from sitewatch.scan.composite import TileScene, tile_scene
from sitewatch.scan.grid import LONLAT_EPSG, Tile, check_tile_size, reproject, tiles_for
from sitewatch.scan.tasks import (
    ScanSettings,
    TileResult,
    TileTask,
    check_tile_score,
    check_tile_score_name,
    default_tile_score,
    scan_tile,
    threshold_for,
)
from sitewatch.workspace import Workspace

T = TypeVar("T")
#: Default tile side, pixels (5.12 km at 10 m). Dask's guidance is tasks of 100 ms or more:
#: each task costs the client and scheduler a fixed few milliseconds (6-7 ms here, measured
#: in the client's event loop), which on a 2-core machine is taken from the workers. A
#: 256 px tile takes a worker ~40 ms; a 512 px tile ~130 ms, so the fixed cost per km2
#: falls four-fold (benchmarks/scan_throughput.py measures both).
TILE_PIXELS = 512
#: Tasks submitted per worker thread: enough that a worker never waits while the client is
#: busy committing a batch of results.
IN_FLIGHT_PER_THREAD = 16
#: Finished tiles are committed together, at most this many or this old: a transaction per
#: tile cost the client (which shares the cores with the workers) more CPU than storing the
#: tile's rows, and a kill now loses at most half a second of results.
COMMIT_BATCH_TILES = 64
COMMIT_EVERY_S = 0.5
#: Tiles without imagery are recorded in batches of this many.
EMPTY_BATCH_TILES = 500
#: glibc's allocator settings in local worker processes, bytes. Dask's nanny sets
#: MALLOC_TRIM_THRESHOLD_=64 KB (so that freed memory shows in its memory reports), which
#: also freezes glibc's adaptive mmap threshold at 128 KB: every tile-sized numpy array
#: became a fresh mmap, and every free at the top of the heap went back to the system, so
#: each tile's arrays were zeroed page by page again (531 k page faults for 256 tiles; the
#: task took 39 ms of CPU in a worker against 29 in process). Arrays up to the mmap
#: threshold now come from the heap, which keeps up to the trim threshold of free memory:
#: a fixed bound per worker (139 k faults, 28.5 ms).
WORKER_MMAP_THRESHOLD = 32 * 1024 * 1024
WORKER_TRIM_THRESHOLD = 128 * 1024 * 1024
FALLBACK_RESOLUTION_M = 10.0
AREA_FILE_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".kml", ".fgb")


@dataclass(frozen=True)
class ScanRequest:
    """What the user asked for, as given (validated by :func:`plan_scan`)."""

    aoi: str
    before: str
    after: str
    method: str = DEFAULT_SCAN_METHOD
    buffer_m: float | None = None
    #: None: the method's own (:func:`sitewatch.scan.tasks.threshold_for`).
    threshold: float | None = None
    min_area_m2: float = SCAN_MIN_AREA_M2
    #: None: :func:`sitewatch.scan.tasks.default_tile_score` (the ranker for CVA with
    #: B02, B03, B04, B08, else ``changed``).
    tile_score: str | None = None
    resolution_m: float | None = None
    tile_size_m: float | None = None
    bands: tuple[str, ...] | None = None
    like_sites: tuple[str, ...] = ()


@dataclass
class ScanPlan:
    """A validated scan: its id, area, windows, tiles and the scenes to read per tile."""

    scan_id: str
    request: ScanRequest
    area: BaseGeometry
    before: tuple[datetime, datetime]
    after: tuple[datetime, datetime]
    tiles: list[Tile]
    settings: ScanSettings
    parameters: dict[str, Any]
    before_scenes: list[ScenePlan]
    after_scenes: list[ScenePlan]
    _trees: dict[str, shapely.STRtree] = field(default_factory=dict, repr=False)
    _footprints: dict[tuple[str, int], BaseGeometry] = field(default_factory=dict, repr=False)

    def task_for(self, tile: Tile, outline: BaseGeometry) -> TileTask:
        """The tile's task: the scenes of each window that reach the tile."""
        return TileTask(
            tile,
            self._scenes_on(tile, outline, "before", self.before_scenes),
            self._scenes_on(tile, outline, "after", self.after_scenes),
        )

    def _scenes_on(
        self, tile: Tile, outline: BaseGeometry, name: str, plans: list[ScenePlan]
    ) -> tuple[TileScene, ...]:
        if name not in self._trees:
            self._trees[name] = shapely.STRtree([plan.footprint for plan in plans])
        found = (
            tile_scene(plans[index], self._footprint(plans[index], tile.epsg), tile)
            for index in sorted(self._trees[name].query(outline, predicate="intersects").tolist())
        )
        return tuple(scene for scene in found if scene is not None)

    def _footprint(self, plan: ScenePlan, epsg: int) -> BaseGeometry:
        key = (plan.scene_id, epsg)
        if key not in self._footprints:
            projected = reproject(plan.footprint, LONLAT_EPSG, epsg)
            shapely.prepare(projected)
            self._footprints[key] = projected
        return self._footprints[key]


@dataclass(frozen=True)
class ScanProgress:
    """Sent to the progress callback after every stored tile."""

    finished: int
    total: int
    result: TileResult | None


@dataclass(frozen=True)
class ScanOutcome:
    scan_id: str
    resumed: bool
    tiles_total: int
    tiles_run: int
    summary: dict[str, Any]


# ---------------------------------------------------------------- request -> plan


def parse_window(text: str, option: str) -> tuple[datetime, datetime]:
    """``START/END`` (ISO dates, both days included) as aware UTC datetimes."""
    start_text, separator, end_text = text.partition("/")
    if not separator:
        raise InputError(
            f"expected START/END, e.g. 2019-01-01/2019-06-30, got {text!r}", item=option
        )
    try:
        start = datetime.fromisoformat(start_text.strip())
        end = datetime.fromisoformat(end_text.strip())
    except ValueError:
        raise InputError(
            f"not a date range {text!r}; use YYYY-MM-DD/YYYY-MM-DD", item=option
        ) from None
    if len(end_text.strip()) == 10:
        end = datetime.combine(end.date(), day_time.max)
    start, end = (value if value.tzinfo else value.replace(tzinfo=UTC) for value in (start, end))
    if start > end:
        raise InputError(f"starts {start:%Y-%m-%d}, after its end {end:%Y-%m-%d}", item=option)
    return start.astimezone(UTC), end.astimezone(UTC)


def resolve_area(session: Session, spec: str, buffer_m: float | None) -> BaseGeometry:
    """The lon/lat polygon of ``country:ISO3``, ``bbox:W,S,E,N`` (or bare ``W,S,E,N``),
    ``site:ID`` (grown by ``buffer_m``) or a GeoJSON/GeoPackage/... file."""
    text = spec.strip()
    if buffer_m is not None and not (math.isfinite(buffer_m) and buffer_m >= 0):
        raise InputError(f"must be zero or more metres, got {buffer_m}", item="--buffer")
    if text.lower().startswith("site:"):
        site_id = text[5:].strip()
        site = session.get(Site, site_id)
        if site is None:
            raise InputError(f"no site with id {site_id!r} in this workspace", item="AOI")
        return site_area_of_interest(site, buffer_m)
    if text.lower().endswith(AREA_FILE_SUFFIXES) or Path(text).expanduser().is_file():
        return read_area_file(Path(text).expanduser())
    if text.count(",") == 3 and ":" not in text:
        text = f"bbox:{text}"
    return parse_area(text)


def read_area_file(path: Path) -> BaseGeometry:
    """The union of every geometry in a vector file, in lon/lat."""
    try:
        meta, _, geometries, _ = pyogrio.raw.read(path)
    except (DataSourceError, OSError, ValueError) as exc:
        raise InputError(f"cannot read as a vector file: {exc}", source=path) from None
    shapes = [geometry for geometry in wkb.loads(np.asarray(geometries, dtype=object)) if geometry]
    shapes = [shape for shape in shapes if not shape.is_empty]
    if not shapes:
        raise InputError("holds no geometry", source=path)
    area = shapely.union_all(shapes)
    crs = meta.get("crs")
    if crs and CRS.from_user_input(crs) != CRS.from_epsg(LONLAT_EPSG):
        area = reproject(area, CRS.from_user_input(crs).to_epsg() or LONLAT_EPSG, LONLAT_EPSG)
    if area.area == 0:
        raise InputError("holds no polygon (points and lines have no area to scan)", source=path)
    return area


def plan_scan(session: Session, request: ScanRequest) -> ScanPlan:
    """Every check and every database read a scan needs; nothing is written."""
    before = parse_window(request.before, "--before")
    after = parse_window(request.after, "--after")
    check_change_method(request.method)
    if request.threshold is not None and not 0.0 < request.threshold < 1.0:
        raise InputError(f"must be between 0 and 1, got {request.threshold}", item="--threshold")
    if request.tile_score is not None:
        check_tile_score_name(request.tile_score)  # before any database read
    if not (math.isfinite(request.min_area_m2) and request.min_area_m2 >= 0):
        raise InputError(f"must be zero or more m2, got {request.min_area_m2}", item="--min-area")
    area = resolve_area(session, request.aoi, request.buffer_m)
    before_scenes = find_scenes(session, area, *before)
    after_scenes = find_scenes(session, area, *after)
    for scenes, option in ((before_scenes, "--before"), (after_scenes, "--after")):
        if not scenes:
            raise NotFoundError(
                f"no imagery covers {request.aoi} in the {option[2:]} window "
                f"{getattr(request, option[2:])}: add scenes or widen the dates"
            )
    everything = before_scenes + after_scenes
    bands = (
        list(request.bands)
        if request.bands
        else default_bands(choose_bands(everything, None), request.method)
    )
    choose_bands(everything, bands)  # every scene must have every band
    tile_score = request.tile_score or default_tile_score(request.method, bands)
    check_tile_score(tile_score, request.method, bands)
    resolution = request.resolution_m or _finest(everything)
    tile_size = request.tile_size_m or TILE_PIXELS * resolution
    check_tile_size(tile_size, resolution)
    tiles = tiles_for(area, tile_size, resolution)
    threshold = (
        request.threshold if request.threshold is not None else threshold_for(request.method, bands)
    )
    parameters = {
        "bands": bands,
        "threshold": threshold,
        "tile_score": tile_score,
        "min_area_m2": request.min_area_m2,
        "resolution_m": resolution,
        "buffer_m": request.buffer_m,
        "like": list(request.like_sites),
    }
    scan_id = _scan_id(request, area, before, after, tile_size, parameters)
    exemplars = None
    if request.like_sites:
        exemplars = like.exemplar_features(
            session, request.like_sites, bands=bands, resolution=resolution, end=after[1]
        )
    settings = ScanSettings(
        band_names=tuple(bands),
        method=request.method,
        threshold=threshold,
        min_area_m2=request.min_area_m2,
        tile_score=tile_score,
        exemplars=exemplars,
    )
    return ScanPlan(
        scan_id=scan_id,
        request=request,
        area=area,
        before=before,
        after=after,
        tiles=tiles,
        settings=settings,
        parameters=parameters,
        before_scenes=[scene_plan(scene, bands) for scene in before_scenes],
        after_scenes=[scene_plan(scene, bands) for scene in after_scenes],
    )


def _finest(scenes: Sequence) -> float:
    known = [scene.resolution_m for scene in scenes if scene.resolution_m]
    return float(min(known)) if known else FALLBACK_RESOLUTION_M


def _label(window: tuple[datetime, datetime]) -> str:
    return f"{window[0]:%Y-%m-%d}/{window[1]:%Y-%m-%d}"


def _scan_id(
    request: ScanRequest,
    area: BaseGeometry,
    before: tuple[datetime, datetime],
    after: tuple[datetime, datetime],
    tile_size: float,
    parameters: dict[str, Any],
) -> str:
    """Same request, same id: what lets a re-run find the scan it continues."""
    identity = {
        "aoi": request.aoi.strip(),
        "area": hashlib.sha256(shapely.to_wkb(area, output_dimension=2)).hexdigest(),
        "before": [value.isoformat() for value in before],
        "after": [value.isoformat() for value in after],
        "method": request.method,
        "tile_size_m": tile_size,
        **parameters,
    }
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()
    return f"scan-{digest[:12]}"


# ---------------------------------------------------------------- running


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
        # cost an idle 2-worker cluster 142 ms of CPU per second (38 with these settings),
        # taken from the workers on a small machine.
        "distributed.worker.profile.enabled": False,
        "distributed.admin.system-monitor.interval": "5s",
        "distributed.admin.tick.interval": "500ms",
        # Each worker and nanny reads its process's memory every 100 ms by default; once a
        # second still stops a runaway task long before the limit (RAM / workers), and
        # halves the idle cluster's CPU (34 -> 17 ms per second, client included).
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


def prepare_scan(workspace: Workspace, request: ScanRequest) -> ScanPlan:
    """The validated plan of ``request`` (reads the database, writes nothing)."""
    with workspace.session() as session:
        return plan_scan(session, request)


def run_scan(
    workspace: Workspace,
    plan: ScanPlan,
    client: Any,
    *,
    on_progress: Callable[[ScanProgress], None] | None = None,
    batch_tiles: int = COMMIT_BATCH_TILES,
    batch_seconds: float = COMMIT_EVERY_S,
) -> ScanOutcome:
    """(Re)open the scan of ``plan`` and run its unfinished tiles on the Dask ``client``.

    Finished tiles are committed in batches of at most ``batch_tiles`` tiles or
    ``batch_seconds`` seconds; progress is reported for a tile once it is committed.

    What a kill of the client (or Ctrl-C) loses is bounded: the tiles of the batch being
    filled (at most ``batch_tiles`` results, none older than ``batch_seconds``), the results
    fetched from the cluster with its last one and not yet handed on, and the tasks still
    on the cluster. No row of theirs was written; the next run of the same command runs
    exactly those tiles again and never a committed one.
    """
    started = time.perf_counter()
    with workspace.session() as session:
        sites = store.SiteIndex(session)
        resumed = _open_scan(session, plan)
    with workspace.session() as session:
        done = store.finished_keys(session, plan.scan_id)
    todo = [tile for tile in plan.tiles if tile.key not in done]
    total = len(plan.tiles)
    finished = total - len(todo)
    report = on_progress or (lambda progress: None)
    report(ScanProgress(finished, total, None))
    tasks = _tasks_or_empty(
        workspace, plan, todo, lambda count: report(ScanProgress(finished + count, total, None))
    )
    finished += len(todo) - len(tasks)
    for batch in in_batches(_run_tasks(client, plan, tasks), batch_tiles, batch_seconds):
        with workspace.session() as session:
            store.record_tiles(session, plan.scan_id, batch, sites)
        for _, _, result in batch:
            finished += 1
            report(ScanProgress(finished, total, result))
    with workspace.session() as session:
        summary = _finish(session, plan, time.perf_counter() - started, len(todo))
    return ScanOutcome(plan.scan_id, resumed, total, len(todo), summary)


def _open_scan(session: Session, plan: ScanPlan) -> bool:
    """Create the scan row, or find it again; True when it already existed (a resume)."""
    if session.get(Scan, plan.scan_id) is not None:
        return True
    zones = sorted({tile.epsg for tile in plan.tiles})
    session.add(
        Scan(
            id=plan.scan_id,
            aoi_spec=plan.request.aoi,
            geometry=plan.area,
            before_start=plan.before[0],
            before_end=plan.before[1],
            after_start=plan.after[0],
            after_end=plan.after[1],
            method=plan.request.method,
            parameters=plan.parameters,
            crs=",".join(f"EPSG:{epsg}" for epsg in zones),
            tile_size_m=plan.tiles[0].size_m if plan.tiles else 0.0,
            status="running",
        )
    )
    return False


def _tasks_or_empty(
    workspace: Workspace,
    plan: ScanPlan,
    tiles: list[Tile],
    report: Callable[[int], None],
) -> list[tuple[TileTask, BaseGeometry]]:
    """Tasks for tiles with scenes on both dates; the others are recorded ``empty``."""
    tasks: list[tuple[TileTask, BaseGeometry]] = []
    empty: list[tuple[Tile, BaseGeometry, TileResult]] = []
    for tile in tiles:
        outline = tile.lonlat_outline()
        task = plan.task_for(tile, outline)
        missing = [name for name in ("before", "after") if not getattr(task, name)]
        if missing:
            message = f"no {' or '.join(missing)} scene covers the tile"
            empty.append((tile, outline, TileResult(tile.key, "empty", message=message)))
        else:
            tasks.append((task, outline))
    for start in range(0, len(empty), EMPTY_BATCH_TILES):
        with workspace.session() as session:
            store.record_tiles(
                session, plan.scan_id, empty[start : start + EMPTY_BATCH_TILES], sites=None
            )
        report(min(start + EMPTY_BATCH_TILES, len(empty)))
    return tasks


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


def _run_tasks(
    client: Any, plan: ScanPlan, tasks: list[tuple[TileTask, BaseGeometry]]
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
        keys = [f"{plan.scan_id}-{task.tile.key}" for task, _ in part]
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
                settings=plan.settings,
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
    workers' tiles were decoded by both (a tile's reading cost 26 ms alone, ~35 ms with
    two workers). A worker whose stripe is done takes tiles from the far end of the
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


def _finish(session: Session, plan: ScanPlan, seconds: float, tiles_run: int) -> dict[str, Any]:
    """Status and summary of the scan, and its ledger entry once every tile has finished."""
    scan = session.get(Scan, plan.scan_id)
    counts = store.tile_counts(session, plan.scan_id)
    finished = sum(count for status, count in counts.items() if status != "failed")
    complete = finished == len(plan.tiles)
    km2 = len(plan.tiles) * (plan.tiles[0].size_m / 1000) ** 2 if plan.tiles else 0.0
    summary = {
        "tiles": len(plan.tiles),
        "tiles_by_status": counts,
        "candidates": store.candidate_count(session, plan.scan_id),
        "area_km2": round(km2, 2),
        "last_run": {"tiles": tiles_run, "seconds": round(seconds, 2)},
    }
    was_complete = scan.status == "done"
    scan.summary = summary
    scan.status = "done" if complete else ("failed" if counts.get("failed") else "running")
    if complete and not was_complete:
        scan.finished_at = datetime.now(UTC)
        ledger.record(
            session,
            kind="scan",
            subject_id=plan.scan_id,
            payload={
                "scan": plan.scan_id,
                "aoi": plan.request.aoi,
                "before": _label(plan.before),
                "after": _label(plan.after),
                "method": plan.request.method,
                "parameters": plan.parameters,
                "summary": {key: value for key, value in summary.items() if key != "last_run"},
            },
        )
    return summary
