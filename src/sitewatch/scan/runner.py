"""``run_scan``: run a planned scan one Dask task per tile, store the results as they finish.

The plan (:mod:`sitewatch.scan.plan`) is made in the client, which creates or reopens the
``Scan`` row and skips the tiles that already have a finished ``ScanTile`` row (resume).
Tiles no scene covers on one of the dates are recorded ``empty`` without a task. The others
become tasks (:func:`sitewatch.scan.tasks.scan_tile`) that carry only file paths and
footprints, run on the cluster by :mod:`sitewatch.scan.cluster`; each result is written
and dropped as it arrives. The client is the only writer of the workspace.

A finished scan is reported, not redone: the same request gives the same scan id.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from sitewatch.analysis import water
from sitewatch.analysis.vegetation import untestable_because, vegetation_summary
from sitewatch.db.models import Scan
from sitewatch.evidence import ledger
from sitewatch.scan import cluster, store
from sitewatch.scan.grid import Tile
from sitewatch.scan.plan import ScanPlan, ScanRequest, plan_scan
from sitewatch.scan.tasks import TileResult, TileTask
from sitewatch.workspace import Workspace

#: Finished tiles are committed together, at most this many or this old: a transaction per
#: tile cost the client (which shares the cores with the workers) more CPU than storing the
#: tile's rows, and a kill now loses at most half a second of results.
COMMIT_BATCH_TILES = 64
COMMIT_EVERY_S = 0.5
#: Tiles without imagery are recorded in batches of this many.
EMPTY_BATCH_TILES = 500


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
    results = cluster.run_tasks(client, tasks, scan_id=plan.scan_id, settings=plan.settings)
    for batch in cluster.in_batches(results, batch_tiles, batch_seconds):
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


def _label(window: tuple[datetime, datetime]) -> str:
    return f"{window[0]:%Y-%m-%d}/{window[1]:%Y-%m-%d}"


def _vegetation(session: Session, plan: ScanPlan) -> dict[str, Any]:
    """What the vegetation-phase test did over the whole scan (every run of it so far)."""
    left_out, kept = store.vegetation_objects(session, plan.scan_id)
    step = {
        "applied": plan.settings.vegetation_rule is not None,
        "skipped_because": untestable_because(plan.settings.band_names),
        "kept": plan.settings.keep_vegetation,
        "vegetation_objects": kept if plan.settings.keep_vegetation else left_out,
    }
    return {
        "vegetation_test_applied": step["applied"],
        "vegetation_objects_left_out": left_out,
        "vegetation_filter": vegetation_summary(step),
    }


def _water(session: Session, plan: ScanPlan) -> dict[str, Any]:
    """What the open-water test did over the whole scan (every run of it so far)."""
    reason = water.untestable_because(plan.settings.band_names)
    if reason is None and plan.settings.water_rule is None:
        reason = water.NO_MASK
    step = {
        "applied": plan.settings.water_rule is not None and reason is None,
        "skipped_because": reason,
        "kept": plan.settings.keep_water,
        "water_pixels": store.water_pixels(session, plan.scan_id),
    }
    return {"water_pixels": step["water_pixels"], "water_mask": water.water_summary(step)}


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
        **_vegetation(session, plan),
        **_water(session, plan),
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
