"""Planning a scan: the request as given, validated into a :class:`ScanPlan` (no writes).

The client (the ``sitewatch scan`` process) does everything that touches the database:
:func:`plan_scan` validates the request, finds the scenes of both date windows once for
the whole area, lays the tile grid (:mod:`sitewatch.scan.grid`) and knows, for each tile,
the few scenes that reach it (:meth:`ScanPlan.task_for`); the plan holds one small record
per tile, so memory stays bounded whatever the area.

The scan id is derived from everything that defines the result (area, dates, method,
parameters, grid), so running the same command again finds the same scan and continues
it (:mod:`sitewatch.scan.runner`).

The area is parsed by :func:`sitewatch.catalog.aoi.area_of`, the date windows by
:func:`sitewatch.imagery.dates.parse_window`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from sitewatch import limits
from sitewatch.analysis import water
from sitewatch.analysis.methods import (
    DEFAULT_SCAN_METHOD,
    SCAN_MIN_AREA_M2,
    check_change_method,
    check_scan_threshold,
    default_bands,
)
from sitewatch.analysis.vegetation import default_rule, index_bands
from sitewatch.catalog.aoi import area_of
from sitewatch.errors import NotFoundError
from sitewatch.imagery.dates import parse_window
from sitewatch.imagery.search import find_scenes
from sitewatch.imagery.stack import ScenePlan, choose_bands, scene_plan
from sitewatch.scan import like
from sitewatch.scan.composite import TileScene, tile_scene
from sitewatch.scan.grid import (
    DEFAULT_HALO_PX,
    LONLAT_EPSG,
    Tile,
    check_tile_size,
    reproject,
    tiles_for,
)
from sitewatch.scan.tasks import ScanSettings, TileTask, threshold_for
from sitewatch.scan.tile_scores import (
    check_tile_score,
    check_tile_score_name,
    default_tile_score,
)
from sitewatch.workspace import workspace_of

#: Default tile side, pixels (5.12 km at 10 m). Dask's guidance is tasks of 100 ms or more:
#: each task costs the client and scheduler a fixed time, which on a 2-core machine is
#: taken from the workers. A 512 px tile holds four times the pixels of a 256 px one for
#: the same fixed cost, so that cost per km2 falls four-fold (benchmarks/scan_throughput.py
#: measures both tile sizes: benchmarks/results/scan_throughput.json).
TILE_PIXELS = 512
FALLBACK_RESOLUTION_M = 10.0


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
    #: None: :func:`sitewatch.scan.tile_scores.default_tile_score` (the ranker for CVA with
    #: B02, B03, B04, B08, else ``changed``).
    tile_score: str | None = None
    resolution_m: float | None = None
    tile_size_m: float | None = None
    bands: tuple[str, ...] | None = None
    like_sites: tuple[str, ...] = ()
    #: Keep vegetation-phase objects as candidates (classed ``vegetation``); by default
    #: they are left out, as ``sitewatch detect`` does (:mod:`sitewatch.scan.tasks`).
    keep_vegetation: bool = False
    #: Keep changed pixels that are open water on both dates; by default they are left
    #: out, as ``sitewatch detect`` does (:mod:`sitewatch.analysis.water`).
    keep_water: bool = False


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
        """The tile's task: the scenes of each date window that reach the tile's window
        read (``outline``: the tile's lon/lat outline; its halo is added here)."""
        reach = tile.read_lonlat_outline() if tile.halo_px else outline
        return TileTask(
            tile,
            self._scenes_on(tile, reach, "before", self.before_scenes),
            self._scenes_on(tile, reach, "after", self.after_scenes),
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


def plan_scan(session: Session, request: ScanRequest) -> ScanPlan:
    """Every check and every database read a scan needs; nothing is written."""
    before = parse_window(request.before, "--before")
    after = parse_window(request.after, "--after")
    check_change_method(request.method)
    if request.threshold is not None:
        check_scan_threshold(request.threshold)
    if request.tile_score is not None:
        check_tile_score_name(request.tile_score)  # before any database read
    limits.AREA_M2.check(request.min_area_m2, item="--min-area")
    area = area_of(session, request.aoi, request.buffer_m)
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
    tiles = tiles_for(area, tile_size, resolution, DEFAULT_HALO_PX)
    threshold = (
        request.threshold if request.threshold is not None else threshold_for(request.method, bands)
    )
    # The detection's rule for the method; no test without red and near infrared.
    vegetation_rule = default_rule(request.method) if index_bands(bands) else None
    water_rule = water.default_rule(request.method) if water.index_bands(bands) else None
    parameters = {
        "bands": bands,
        "threshold": threshold,
        "tile_score": tile_score,
        "min_area_m2": request.min_area_m2,
        "resolution_m": resolution,
        "halo_px": DEFAULT_HALO_PX,
        "buffer_m": request.buffer_m,
        "like": list(request.like_sites),
        "vegetation": {
            "rule": vegetation_rule.as_dict() if vegetation_rule else None,
            "kept": request.keep_vegetation,
        },
        "water": {
            "rule": water_rule.as_dict() if water_rule else None,
            "kept": request.keep_water,
        },
    }
    scan_id = _scan_id(request, area, before, after, tile_size, parameters)
    exemplars = None
    if request.like_sites:
        exemplars = like.exemplar_features(
            workspace_of(session),
            request.like_sites,
            bands=bands,
            resolution=resolution,
            end=after[1],
        )
    settings = ScanSettings(
        band_names=tuple(bands),
        method=request.method,
        threshold=threshold,
        min_area_m2=request.min_area_m2,
        tile_score=tile_score,
        exemplars=exemplars,
        vegetation_rule=vegetation_rule,
        keep_vegetation=request.keep_vegetation,
        water_rule=water_rule,
        keep_water=request.keep_water,
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
