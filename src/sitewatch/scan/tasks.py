"""One tile of a scan, as a self-contained task for a Dask worker.

A task receives what it needs to read (:class:`TileTask`: the tile and the few scenes that
touch it, as file paths and footprints) and the scan's settings, reads its own windows,
and returns a small :class:`TileResult`: a tile score and the candidate objects as WKB
with their numbers. No image array travels through the scheduler either way, and the task
touches no database and writes no file, so workers need only the imagery files and any
number of them can run against one SQLite workspace whose only writer is the client.
Quicklook chips are drawn when an analyst opens a candidate
(:mod:`sitewatch.scan.candidate_chips`), not here: a scan finds tens of candidates per
tile and the analyst looks at a few of them, and two PNGs per tile cost nearly as much
CPU as finding the change (a tile's time now: benchmarks/results/scan_throughput.json).

Detection per tile, and why it differs from a site run (:mod:`sitewatch.detect.pipeline`):

- The method (CVA by default; IR-MAD; the learned ``siamese``) is fitted on a subsample
  of the tile's own clear pixels. A scan covers a country whose radiometry drifts across
  scenes and seasons; a model per tile follows it and needs no first pass over the area.
- The threshold is a fixed score, not Otsu: for the statistical methods (default 0.9999)
  the score is a chi-square CDF, uniform over unchanged ground, so 0.9999 means one false
  pixel in ten thousand in every tile, comparable across tiles; Otsu on a tile with no
  change would split noise. A learned method (``siamese``) scores a probability and uses
  its model card's threshold (resolved by the runner, :func:`threshold_for`).
- Clean-up (opening and closing by one pixel) and a minimum mapping unit (default
  1000 m2, 10 pixels at 10 m) remove the isolated false pixels that remain.
- Candidate scores are in significance units, ``-log10(1 - score)`` (4 at 0.9999, capped
  at 8): the mean over the object is ``score``, the peak ``max_score``, so they rank.
- The tile score ranks tiles for the analyst: :mod:`sitewatch.scan.tile_scores`.
- Defaults: method CVA was chosen on the OSCD training cities by
  benchmarks/scan_ranking.py.

A tile is read with a halo of context pixels (:mod:`sitewatch.scan.grid`): the method is
fitted and the change found on the whole window, and the tile keeps the objects centred in
its square, so an object crossing a tile edge is one candidate, traced whole by the tile
holding its centroid (only one reaching beyond the halo is still cut; its parts are one
place again when candidates are grouped, :mod:`sitewatch.scan.places`).
An object next to pixels the tile could not compare (nodata, a footprint's edge, clouds)
is marked ``edge``: its outline may be cut there too. The tile's result names the scenes
its composites were made of (:func:`sitewatch.scan.composite.composite_of`), so every
candidate and chip can say which acquisitions it compares, not only the windows asked for.

Vegetation-phase change (crops growing, fields harvested or ploughed, leaf fall) is left
out of the candidates as ``sitewatch detect`` leaves it out of its objects, by the same
rule (:mod:`sitewatch.analysis.vegetation`; the scan's :attr:`ScanSettings.vegetation_rule`
is the method's, set when the bands hold red B04 and near infrared B08): the changed
pixels of the whole window whose NDVI on both dates is vegetation-phase are counted per
object, and an object mostly made of them is classed ``vegetation`` and dropped unless the
scan keeps it (``--keep-vegetation``); the tile counts what it dropped. Every candidate
carries its vegetation-phase share (NaN, stored as NULL, when the test was not made). The
composites are the files' stored values, not reflectance, which NDVI does not mind: it is
a ratio, so the x 10000 of integer Sentinel-2 bands cancels out. The tile score and the
ranker's features still see every object found, as the ranker was fitted.

Change on pixels that are open water on both dates (sea colour, turbidity, glint) is left
out before the objects are traced, as ``sitewatch detect`` leaves it out of its mask, by
the same rule (:mod:`sitewatch.analysis.water`; :attr:`ScanSettings.water_rule`, set when
the bands hold green B03 and near infrared B08): those pixels count as unchanged for the
objects, the regions left below the mapping unit go, and the tile counts the pixels in its
square. ``--keep-water`` keeps them (still counted). The tile score, like the vegetation
test, still sees every changed pixel, as the tile ranker was fitted (its ``water_after``
feature already weighs a tile's water).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import rasterio

from sitewatch import analysis
from sitewatch.analysis import tile_ranker
from sitewatch.analysis.appearance import appearance_features, similarity
from sitewatch.analysis.arrays import finite_pixels
from sitewatch.analysis.methods import DEFAULT_SCAN_METHOD, SCAN_MIN_AREA_M2, build_method
from sitewatch.analysis.vegetation import (
    VEGETATION,
    VegetationRule,
    changed_vegetation_phase,
    index_bands,
)
from sitewatch.analysis.water import WaterRule, changed_open_water
from sitewatch.analysis.water import index_bands as water_bands
from sitewatch.errors import SitewatchError
from sitewatch.imagery.stack import GDAL_READ_OPTIONS
from sitewatch.scan.composite import TileScene, acquisitions_of, composite_of
from sitewatch.scan.found_objects import FoundObjects
from sitewatch.scan.grid import Tile
from sitewatch.scan.tile_scores import DEFAULT_TILE_SCORE, check_tile_score, tile_score

DEFAULT_THRESHOLD = 0.9999
#: Pixels the per-tile fit uses: enough for 4-10 band statistics, cheap to iterate on.
DEFAULT_SAMPLE_SIZE = 8192
#: A tile with fewer clear pixels on both dates than this share is not scored.
MIN_COMPARED_SHARE = 0.02
#: GDAL's block cache per worker: enough for a row of 512 px blocks across a Sentinel-2
#: scene on both dates, so neighbouring tiles decode shared blocks once; it bounds memory.
GDAL_CACHE_MB = 256


@dataclass(frozen=True)
class ScanSettings:
    """What every tile of one scan shares (sent with each task; small)."""

    band_names: tuple[str, ...]
    method: str = DEFAULT_SCAN_METHOD
    threshold: float = DEFAULT_THRESHOLD
    min_area_m2: float = SCAN_MIN_AREA_M2
    sample_size: int = DEFAULT_SAMPLE_SIZE
    tile_score: str = DEFAULT_TILE_SCORE
    #: (exemplars, features) from :func:`sitewatch.scan.like.exemplar_features`, or None.
    exemplars: np.ndarray | None = field(default=None, compare=False)
    #: The vegetation-phase rule (the method's, :func:`sitewatch.scan.plan.plan_scan`), or
    #: None when the bands lack B04 or B08 and no test can be made.
    vegetation_rule: VegetationRule | None = None
    #: Keep vegetation-phase objects as candidates (classed ``vegetation``) instead of
    #: leaving them out.
    keep_vegetation: bool = False
    #: The open-water rule (the method's), or None when the bands lack B03 or B08 or the
    #: method's fitted rule is no mask.
    water_rule: WaterRule | None = None
    #: Keep changed pixels that are open water on both dates (counted either way).
    keep_water: bool = False


@dataclass(frozen=True)
class TileTask:
    """One tile and the scenes of each date window that touch it."""

    tile: Tile
    before: tuple[TileScene, ...]
    after: tuple[TileScene, ...]


@dataclass(frozen=True)
class TileResult:
    """What a task sends back: small numbers and WKB, never an image."""

    key: str
    status: str  # done | skipped | failed
    score: float | None = None
    like_score: float | None = None
    candidates: FoundObjects = field(default_factory=FoundObjects)
    message: str = ""
    #: ``{"before": [...], "after": [...]}``: :func:`~sitewatch.scan.composite.acquisitions_of`
    #: the scenes the composites were made of (empty when the tile was not read).
    acquisitions: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    compared_pixels: int = 0
    #: Vegetation-phase objects left out of ``candidates`` (0 when kept or untested).
    vegetation_objects: int = 0
    #: Changed pixels of the square that are open water on both dates (left out or kept).
    water_pixels: int = 0
    read_s: float = 0.0
    detect_s: float = 0.0


def scan_tile(task: TileTask, settings: ScanSettings) -> TileResult:
    """Composite, score and polygonise one tile; a user-facing error becomes ``failed``."""
    try:
        return _scan_tile(task, settings)
    except SitewatchError as error:
        return TileResult(task.tile.key, "failed", message=str(error))


@dataclass(frozen=True)
class TilePair:
    """A tile's before and after composites and the acquisitions each was made of."""

    before: np.ndarray
    after: np.ndarray
    acquisitions: dict[str, list[dict[str, str]]]


def read_tile(task: TileTask, band_names: Sequence[str]) -> TilePair:
    """The before and after composites of the task's tile, with the scenes they hold."""
    with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB * 1024**2, **GDAL_READ_OPTIONS):
        before, before_used = composite_of(task.before, task.tile, band_names)
        after, after_used = composite_of(task.after, task.tile, band_names)
    return TilePair(
        before,
        after,
        {"before": acquisitions_of(before_used), "after": acquisitions_of(after_used)},
    )


def read_pair(task: TileTask, band_names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """The before and after composites of the task's tile."""
    pair = read_tile(task, band_names)
    return pair.before, pair.after


class TileSkipped(Exception):
    """The tile cannot be scored (too few clear pixels, or nothing for the method to fit);
    ``compared``: its square's pixels clear on both dates."""

    def __init__(self, message: str, compared: int):
        super().__init__(message)
        self.compared = compared


@dataclass(frozen=True)
class TileDetection:
    """A scored tile: the arrays of its square (the halo cut off) and the objects it owns.

    The method is fitted and the change found on the whole window read (square and halo),
    so scores and objects near the square's edge see context on both sides; the tile score
    and its features are taken over the square alone, as the tile ranker was fitted.
    """

    before: np.ndarray
    after: np.ndarray
    usable: np.ndarray
    significance: np.ndarray
    changed: np.ndarray
    direction: np.ndarray
    #: The tile's candidates: vegetation-phase objects left out unless the scan keeps them.
    objects: list[analysis.ChangeObject]
    #: How many vegetation-phase objects were left out of ``objects``.
    vegetation_left_out: int = 0
    #: Changed pixels of the square that are open water on both dates.
    water_pixels: int = 0

    @property
    def objects_found(self) -> int:
        """Every object the tile owns, vegetation-phase ones included."""
        return len(self.objects) + self.vegetation_left_out


def detect_tile(
    tile: Tile, before: np.ndarray, after: np.ndarray, settings: ScanSettings
) -> TileDetection:
    """Fit the method on the tile's window, threshold it, and polygonise the objects
    centred in the square, vegetation-phase ones classed and left out unless kept
    (module docstring); :class:`TileSkipped` when the square has too few clear pixels
    or the method has nothing to fit on."""
    bands = list(settings.band_names)
    usable = finite_pixels(before) & finite_pixels(after)
    core = tile.core
    compared = int(np.count_nonzero(usable[core]))
    if compared < MIN_COMPARED_SHARE * tile.pixels**2:
        raise TileSkipped(f"only {compared} px clear on both dates (clouds or no data)", compared)
    method = build_method(settings.method, bands)
    if dataclasses.is_dataclass(method) and hasattr(method, "sample_size"):
        method = dataclasses.replace(method, sample_size=settings.sample_size)
    try:
        scored = method.score(before, after, usable)
    except SitewatchError as error:
        # e.g. a tile of open water: no variance for the method to fit on.
        raise TileSkipped(f"not scored: {error}", compared) from None
    changed = changed_pixels(scored.score, usable, settings, tile.resolution_m)
    significance = analysis.significance(scored.score)
    water = open_water_pixels(before, after, changed, settings)
    traced = changed
    if water.any() and not settings.keep_water:
        traced = without_pixels(changed, water, settings, tile.resolution_m)
    objects = analysis.polygonise(
        traced,
        significance,
        scored.direction,
        transform=tile.read_transform,
        crs=f"EPSG:{tile.epsg}",
        edge_pixels=beside_gaps(usable) & traced,
        core=core,
        vegetation_pixels=vegetation_pixels(before, after, traced, settings),
        vegetation_rule=settings.vegetation_rule,
    )
    kept = [item for item in objects if settings.keep_vegetation or item.change_class != VEGETATION]
    return TileDetection(
        before[(slice(None), *core)],
        after[(slice(None), *core)],
        usable[core],
        significance[core],
        changed[core],
        scored.direction[core],
        kept,
        len(objects) - len(kept),
        int(np.count_nonzero(water[core])),
    )


def vegetation_pixels(
    before: np.ndarray, after: np.ndarray, changed: np.ndarray, settings: ScanSettings
) -> np.ndarray | None:
    """The changed pixels of a window whose change is vegetation-phase (None: no test).

    The composites hold the files' values, not reflectance; NDVI is a ratio of the two
    bands, so their common scale does not change it.
    """
    bands = index_bands(settings.band_names)
    if settings.vegetation_rule is None or bands is None:
        return None
    return changed_vegetation_phase(before, after, bands, settings.vegetation_rule, changed)


def open_water_pixels(
    before: np.ndarray, after: np.ndarray, changed: np.ndarray, settings: ScanSettings
) -> np.ndarray:
    """The changed pixels of a window that are open water on both dates (none without a
    rule or the bands); NDWI, like NDVI, does not mind the composites' scale."""
    bands = water_bands(settings.band_names)
    if settings.water_rule is None or bands is None:
        return np.zeros_like(changed)
    return changed_open_water(before, after, bands, settings.water_rule, changed)


def without_pixels(
    changed: np.ndarray, dropped: np.ndarray, settings: ScanSettings, resolution_m: float
) -> np.ndarray:
    """``changed`` less ``dropped``, without the regions that leaves below the mapping unit."""
    return analysis.remove_small_objects(changed & ~dropped, _min_pixels(settings, resolution_m))


def _scan_tile(task: TileTask, settings: ScanSettings) -> TileResult:
    tile, bands = task.tile, list(settings.band_names)
    started = time.perf_counter()
    pair = read_tile(task, bands)
    read_s = time.perf_counter() - started
    timing = {"read_s": read_s, "acquisitions": pair.acquisitions}
    try:
        found = detect_tile(tile, pair.before, pair.after, settings)
    except TileSkipped as skipped:
        return TileResult(
            tile.key,
            "skipped",
            message=str(skipped),
            compared_pixels=skipped.compared,
            **timing,
        )
    return TileResult(
        tile.key,
        "done",
        score=tile_score(
            settings.tile_score,
            found.changed,
            found.significance,
            found.usable,
            features=lambda: ranker_features(settings, tile, found),
        ),
        like_score=_like_score(found.after, bands, settings.exemplars),
        candidates=FoundObjects.of(found.objects),
        compared_pixels=int(np.count_nonzero(found.usable)),
        vegetation_objects=found.vegetation_left_out,
        water_pixels=found.water_pixels,
        detect_s=time.perf_counter() - started - read_s,
        **timing,
    )


def beside_gaps(usable: np.ndarray) -> np.ndarray:
    """Compared pixels with an uncompared neighbour (8-connected): where an object's outline
    is cut by nodata, a footprint's edge or a cloud rather than by the change itself.

    Eight shifted ORs of the gap mask, not a morphological dilation: the same pixels in a
    tenth of the time (0.5 against 5 ms on a 512 px tile with a gap), paid by every tile.
    """
    gaps = ~usable
    if not gaps.any():
        return np.zeros_like(usable)
    near = np.zeros_like(usable)
    rows, cols = usable.shape
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy or dx:
                near[max(dy, 0) : rows + min(dy, 0), max(dx, 0) : cols + min(dx, 0)] |= gaps[
                    max(-dy, 0) : rows + min(-dy, 0), max(-dx, 0) : cols + min(-dx, 0)
                ]
    return usable & near


def threshold_for(method: str, band_names: Sequence[str]) -> float:
    """The default pixel threshold of ``method``: 0.9999 for the statistical methods (a
    chi-square CDF), the model card's for a learned one (a probability)."""
    built = build_method(method, list(band_names))
    learned = getattr(built, "threshold", None)
    return DEFAULT_THRESHOLD if learned is None else float(learned)


def ranker_features(settings: ScanSettings, tile: Tile, found: TileDetection) -> np.ndarray:
    """The ranker's features of a scored tile's square; refused (the tile fails) when the
    scan's method or bands are not what the ranker was fitted on, so it never ranks nonsense."""
    check_tile_score("ranker", settings.method, settings.band_names)
    return tile_ranker.change_features(
        found.before,
        found.after,
        settings.band_names,
        found.usable,
        found.significance,
        found.changed,
        found.direction,
        found.objects_found,
        tile.resolution_m,
    )


def changed_pixels(
    score: np.ndarray, usable: np.ndarray, settings: ScanSettings, resolution_m: float
) -> np.ndarray:
    """Pixels above the threshold, cleaned and without regions below the mapping unit."""
    mask = (score > settings.threshold) & usable
    if not mask.any():
        return mask
    cleaned = analysis.clean(mask, opening=1, closing=1) & usable
    return analysis.remove_small_objects(cleaned, _min_pixels(settings, resolution_m))


def _min_pixels(settings: ScanSettings, resolution_m: float) -> int:
    """The scan's minimum mapping unit in pixels at ``resolution_m``."""
    return max(1, analysis.pixels_for_area(settings.min_area_m2, resolution_m))


def _like_score(after: np.ndarray, bands: list[str], exemplars: np.ndarray | None) -> float | None:
    """Resemblance of the AFTER composite to the nearest exemplar (None without exemplars)."""
    if exemplars is None:
        return None
    value = similarity(appearance_features(after, bands), exemplars)
    return None if math.isnan(value) else value
