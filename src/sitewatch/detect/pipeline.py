"""One change run on a pair of co-gridded dates: the chain every caller shares.

``sitewatch detect-pair`` and ``sitewatch detect`` (and the demo, through ``detect``) call
:func:`run_detection`. A scan does not: it fits and thresholds each tile on its own
(:mod:`sitewatch.scan.tasks` says why). The stages, each from :mod:`sitewatch.analysis`:

1. co-registration check on a central window of at most 1024 px (phase correlation);
   corrected through the source (:meth:`PairSource.correct`) only above
   ``correct_above_px``, then measured again: the summary reports what is left;
2. valid and cloud-free pixels of both dates (cloud test only for Sentinel-2 bands);
3. relative normalisation of AFTER onto BEFORE (IR-MAD no-change pixels, orthogonal
   regression; quantile matching as fallback), fitted on a pixel sample;
4. the change method, fitted on the same sample and applied tile by tile: statistical
   methods (CVA, IR-MAD) as linear maps, learned ones (siamese) on the windows they ask for
   (a core plus the margin of context their convolutions need);
5. threshold: fixed when given; else Otsu on ``significance(score)`` of the sample for
   statistical methods, the method's own ``threshold`` (else 0.5) for learned ones;
6. clean-up (opening, closing) and the minimum mapping unit, then polygons;
7. vegetation-phase change (:mod:`sitewatch.analysis.vegetation`): in the scoring pass each
   changed pixel is tested on both dates' NDVI (the raw AFTER, before normalisation: the
   thresholds are physical), and in the object stage each object is classed by the share
   of its pixels so flagged; ``vegetation`` objects are left out of the mask and objects
   unless ``keep_vegetation``. Skipped, and said so in ``steps["vegetation"]`` and the
   summary, when the bands lack red (B04) or near infrared (B08) or are not known to be
   Sentinel-2 reflectance.
8. open water on both dates (:mod:`sitewatch.analysis.water`): in the scoring pass each
   changed pixel is tested on both dates' NDWI (raw AFTER, as for NDVI) and one that is
   water on both is set to "no change" before clean-up unless ``keep_water``; counted in
   ``steps["water"]`` and the summary either way. Skipped, and said so, when the bands
   lack green (B03) or near infrared (B08) or are not known to be Sentinel-2 reflectance.

Memory: the pair is read in windows of ``tile_size`` px, twice (a sample pass, then a
scoring pass), so the input imagery is never whole in memory. The sample is a regular grid
of pixels in grid coordinates, the same whatever the tiling, so a tiled run equals a
one-tile run up to float rounding. Score and direction go tile by tile into tiled GeoTIFFs
in the run's working folder (the score COG is made from that file by GDAL, streaming);
what stays whole is ONE byte per pixel: the mask (1 change, 0 no change, 255 not
compared), which clean-up and the minimum mapping unit need across tile borders, mapped from
a file of the working folder so the kernel can page it (:func:`_scratch_mask`), plus one
bit per pixel: the sample pass's clear pixels, which the scoring pass reuses rather than
testing validity and clouds again. Clean-up works on strips with a halo wide enough to give
the whole-raster result; connected regions are labelled strip by strip (labels of one strip
at a time) and joined across strip borders; the objects go to a table on disk as they are
found (:mod:`sitewatch.detect.object_table`). A 100 Mpx run holds about 12 MB of clear
bits in memory, a 100 MB mask file, a few strips of working arrays and a few numbers per
object. Learned methods read windows of their own size (their ``tile``), not ``tile_size``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from rasterio.windows import Window

from sitewatch import analysis, limits
from sitewatch.analysis.arrays import finite_pixels
from sitewatch.analysis.coregister import Shift
from sitewatch.analysis.irmad import SAMPLE_SIZE
from sitewatch.analysis.methods import (
    DEFAULT_DETECT_METHOD,
    DETECT_MIN_AREA_M2,
    DETECT_MIN_PIXELS,
    ChangeMethod,
    SampleFittedMethod,
    WindowedMethod,
    build_method,
    check_detection_threshold,
)
from sitewatch.analysis.scores import score_pixels
from sitewatch.analysis.vegetation import VegetationRule, default_rule, vegetation_summary
from sitewatch.analysis.water import WaterRule, water_summary
from sitewatch.analysis.water import default_rule as default_water_rule
from sitewatch.detect.object_table import ObjectTable
from sitewatch.detect.regions import MASK_NODATA, MASK_VEGETATION, change_objects, changed
from sitewatch.detect.sources import Grid, PairSource, open_tiled
from sitewatch.detect.vegetation import VegetationTest
from sitewatch.detect.water import OpenWaterTest
from sitewatch.errors import InputError

COREGISTRATION_WINDOW = 1024
MIN_SHIFT_PEAK = 0.05  # below this the correlation found nothing to trust


@dataclass(frozen=True)
class DetectionOptions:
    """Parameters of a run (recorded verbatim in its lineage)."""

    method: str = DEFAULT_DETECT_METHOD
    threshold: float | None = None
    min_area: float | None = None  # m2 on georeferenced input, pixels in pixel space
    correct_above_px: float = 0.3
    opening: int = 1
    closing: int = 1
    tile_size: int = 1024
    in_memory_pixels: int = 16_000_000
    #: Keep vegetation-phase change objects (classed ``vegetation``) instead of leaving
    #: them out of the mask and the objects.
    keep_vegetation: bool = False
    #: None: the method's fitted rule (:func:`~sitewatch.analysis.vegetation.default_rule`).
    vegetation_rule: VegetationRule | None = None
    #: Keep changed pixels that are open water on both dates (counted either way).
    keep_water: bool = False
    #: None: the method's fitted rule (:func:`~sitewatch.analysis.water.default_rule`).
    water_rule: WaterRule | None = None

    def __post_init__(self) -> None:
        if self.threshold is not None:
            check_detection_threshold(self.threshold)

    def as_dict(self) -> dict[str, Any]:
        values = {name: getattr(self, name) for name in self.__dataclass_fields__}
        if self.vegetation_rule is not None:
            values["vegetation_rule"] = self.vegetation_rule.as_dict()
        if self.water_rule is not None:
            values["water_rule"] = self.water_rule.as_dict()
        return values


@dataclass
class DetectionResult:
    """Rasters on the source grid (files in the run's working folder), objects, numbers.

    ``score_path``: float32 tiled GeoTIFF, NaN where not compared. ``mask_path``: uint8
    tiled GeoTIFF, 1 change, 0 no change, 255 not compared. Both carry the grid's CRS and
    transform (none in pixel space) and live as long as the working folder, as do the
    ``objects`` (an :class:`~sitewatch.detect.object_table.ObjectTable` file there:
    iterate it for the objects in order, one at a time).
    """

    score_path: Path
    mask_path: Path
    objects: ObjectTable
    method: ChangeMethod
    threshold: float
    threshold_rule: str
    min_pixels: int
    summary: dict[str, Any] = field(default_factory=dict)
    steps: dict[str, Any] = field(default_factory=dict)

    def read_score(self) -> np.ndarray:
        """The whole score raster (for small rasters and tests)."""
        with rasterio.open(self.score_path) as dataset:
            return dataset.read(1)

    def read_mask(self) -> np.ndarray:
        """The whole mask raster (for small rasters and tests)."""
        with rasterio.open(self.mask_path) as dataset:
            return dataset.read(1)


def _windows(height: int, width: int, size: int) -> Iterator[tuple[slice, slice]]:
    for top in range(0, height, size):
        for left in range(0, width, size):
            yield slice(top, min(top + size, height)), slice(left, min(left + size, width))


def _clear_of_valid(
    source: PairSource, before: np.ndarray, after: np.ndarray, valid_both: np.ndarray
) -> np.ndarray:
    """Pixels of ``valid_both`` not cloudy on either date (cloud test: Sentinel-2 only)."""
    clear = valid_both.copy()
    scale = source.reflectance_scale
    if scale is not None and clear.any():
        for image in (before, after):
            clear &= ~analysis.cloud_mask_l1c(image * np.float32(scale), source.band_names)
    return clear


def _strip_rows(grid: Grid, options: DetectionOptions) -> int:
    """Rows per strip of the whole-raster stages: all of them when the raster is small."""
    if grid.height * grid.width <= options.in_memory_pixels:
        return grid.height
    return options.tile_size


class _TileRasters:
    """Score (float32) and direction (int8) written tile by tile into tiled GeoTIFFs.

    They stay on disk: the score product is made from ``score.tif``, and the object stage
    reads both back strip by strip.
    """

    def __init__(self, workdir: Path, grid: Grid) -> None:
        self.score_path = workdir / "score.tif"
        self.direction_path = workdir / "direction.tif"
        self._stack = ExitStack()
        self.score = self._stack.enter_context(
            open_tiled(self.score_path, grid, "float32", float("nan"))
        )
        self.direction = self._stack.enter_context(
            open_tiled(self.direction_path, grid, "int8", None)
        )

    def write(self, rows: slice, cols: slice, score: np.ndarray, direction: np.ndarray) -> None:
        window = Window.from_slices(rows, cols)
        self.score.write(score.astype(np.float32, copy=False), 1, window=window)
        self.direction.write(direction.astype(np.int8, copy=False), 1, window=window)

    def close(self) -> None:
        self._stack.close()


def _measure_shift(source: PairSource) -> Shift | None:
    """Shift of AFTER against BEFORE on the central window; None if nothing correlates."""
    grid = source.grid
    size = COREGISTRATION_WINDOW
    top, left = max(0, (grid.height - size) // 2), max(0, (grid.width - size) // 2)
    before, after = source.read(slice(top, top + size), slice(left, left + size))
    if min(before.shape[1:]) < 32:
        return None
    try:
        shift = analysis.estimate_shift(before, after)
    except InputError:
        return None
    return shift if shift.peak >= MIN_SHIFT_PEAK else None


def _coregistration(source: PairSource, options: DetectionOptions) -> dict[str, Any]:
    measured = _measure_shift(source)
    report: dict[str, Any] = {"measured_px": None, "corrected": False, "residual_px": None}
    if measured is None:
        return report
    report["measured_px"] = [round(measured.dy, 3), round(measured.dx, 3)]
    residual = measured
    if measured.pixels > options.correct_above_px and source.correct(measured):
        report["corrected"] = True
        residual = _measure_shift(source) or measured
    report["residual_px"] = round(residual.pixels, 3)
    if source.grid.pixel_size_m is not None:
        report["residual_m"] = round(residual.metres(source.grid.pixel_size_m), 2)
    return report


@dataclass
class _Sample:
    """A regular grid of clear pixels (band, n) of both dates, plus scene-wide counts.

    It also keeps each tile's clear pixels, packed to one bit per pixel (6 MB for 50 Mpx),
    so the scoring pass reuses them instead of running the validity and cloud tests again.
    """

    step: int
    before: list[np.ndarray] = field(default_factory=list)
    after: list[np.ndarray] = field(default_factory=list)
    valid_before: int = 0
    valid_after: int = 0
    valid_both: int = 0
    clear: int = 0
    clear_tiles: dict[tuple[int, int], np.ndarray] = field(default_factory=dict)

    def add(self, source: PairSource, rows: slice, cols: slice, before, after) -> None:
        valid_before, valid_after = finite_pixels(before), finite_pixels(after)
        valid_both = valid_before & valid_after
        clear = _clear_of_valid(source, before, after, valid_both)
        self.valid_before += int(np.count_nonzero(valid_before))
        self.valid_after += int(np.count_nonzero(valid_after))
        self.valid_both += int(np.count_nonzero(valid_both))
        self.clear += int(np.count_nonzero(clear))
        self.clear_tiles[rows.start, cols.start] = np.packbits(clear)
        # Grid coordinates that are multiples of the step, whatever the window.
        picks = (
            slice((-rows.start) % self.step, None, self.step),
            slice((-cols.start) % self.step, None, self.step),
        )
        keep = clear[picks]
        self.before.append(before[(slice(None), *picks)][:, keep].astype(np.float64))
        self.after.append(after[(slice(None), *picks)][:, keep].astype(np.float64))

    def clear_of(self, rows: slice, cols: slice) -> np.ndarray:
        """The clear pixels of the tile at ``rows``, ``cols``, as :meth:`add` found them."""
        shape = (rows.stop - rows.start, cols.stop - cols.start)
        packed = self.clear_tiles[rows.start, cols.start]
        return np.unpackbits(packed, count=shape[0] * shape[1]).view(bool).reshape(shape)


def _scoring_windows(method: ChangeMethod, grid: Grid, tile_size: int) -> list[tuple[slice, slice]]:
    """The windows whose maps the scoring pass keeps: tiles, or a learned method's cores.

    The sample pass walks the same windows, so the clear pixels it packs per window are
    exactly what the scoring pass asks for again (:meth:`_Sample.clear_of`).
    """
    if isinstance(method, WindowedMethod) and not isinstance(method, SampleFittedMethod):
        return [window.core for window in method.windows(grid.height, grid.width)]
    return list(_windows(grid.height, grid.width, tile_size))


def _gather_sample(
    source: PairSource, windows: list[tuple[slice, slice]], before_name: str, after_name: str
) -> _Sample:
    grid = source.grid
    sample = _Sample(step=max(1, math.floor(math.sqrt(grid.height * grid.width / SAMPLE_SIZE))))
    for rows, cols in windows:
        before, after = source.read(rows, cols)
        sample.add(source, rows, cols, before, after)
    if sample.valid_before == 0:
        raise InputError("holds no valid pixel (all nodata)", item=before_name)
    if sample.valid_after == 0:
        raise InputError("holds no valid pixel over BEFORE's grid (all nodata)", item=after_name)
    if sample.valid_both == 0:
        raise InputError(
            f"{before_name} and {after_name} have no valid pixel in common", item=after_name
        )
    if sample.clear == 0:
        raise InputError(
            f"{before_name} / {after_name}: fully clouded, no clear pixel on both dates",
            item="cloud",
        )
    bands = len(source.band_names)
    if sum(part.shape[1] for part in sample.before) <= 4 * bands:
        raise InputError(
            f"only {sample.clear} clear pixels on both dates: too few to compare", item="valid"
        )
    return sample


class _Radiometry:
    """AFTER mapped onto BEFORE: linear gains (regression) or quantile maps (fallback)."""

    def __init__(self, sample_before: np.ndarray, sample_after: np.ndarray) -> None:
        fit = analysis.normalise(
            sample_before[:, None, :].astype(np.float32),
            sample_after[:, None, :].astype(np.float32),
        )
        self.method = fit.method
        self.gains, self.offsets = fit.gains, fit.offsets
        levels = np.linspace(0, 1, 1024)
        self._source = np.quantile(sample_after, levels, axis=1).T
        self._goal = np.quantile(sample_before, levels, axis=1).T

    def apply(self, image: np.ndarray) -> np.ndarray:
        if self.method == "irmad-orthogonal":
            result = image * self.gains.astype(np.float32)[:, None, None]
            result += self.offsets.astype(np.float32)[:, None, None]
            return result
        result = np.empty_like(image)
        for band in range(image.shape[0]):
            result[band] = np.interp(image[band], self._source[band], self._goal[band])
        result[:, ~finite_pixels(image)] = np.nan
        return result

    def as_dict(self) -> dict[str, Any]:
        known = self.method == "irmad-orthogonal"
        return {
            "method": self.method,
            "gains": [round(float(g), 6) for g in self.gains] if known else None,
            "offsets": [round(float(o), 6) for o in self.offsets] if known else None,
        }


def run_detection(
    source: PairSource,
    options: DetectionOptions,
    workdir: Path,
    *,
    before_name: str = "before",
    after_name: str = "after",
) -> DetectionResult:
    """Run the chain of the module docstring on ``source``; rasters go to ``workdir``.

    ``steps["timings_s"]`` records the seconds of each stage; ``score`` is the method's
    own compute alone (no reading, normalisation or writing).
    """
    if options.tile_size < 32:
        raise InputError(f"must be at least 32 px, got {options.tile_size}", item="tile_size")
    method = build_method(options.method, source.band_names)
    vegetation = VegetationTest.of(
        source, options.vegetation_rule or default_rule(options.method), options.keep_vegetation
    )
    water = OpenWaterTest.of(
        source, options.water_rule or default_water_rule(options.method), options.keep_water
    )
    clock = _Clock()
    steps: dict[str, Any] = {"coregistration": _coregistration(source, options)}
    clock.lap("coregistration")
    windows = _scoring_windows(method, source.grid, options.tile_size)
    sample = _gather_sample(source, windows, before_name, after_name)
    sample_before = np.concatenate(sample.before, axis=1)
    radiometry = _Radiometry(sample_before, np.concatenate(sample.after, axis=1))
    steps["normalisation"] = radiometry.as_dict()
    steps["sample_pixels"] = int(sample_before.shape[1])
    clock.lap("sample")

    grid = source.grid
    mask = _scratch_mask(workdir, grid)
    rasters = _TileRasters(workdir, grid)
    sample_after = radiometry.apply(np.concatenate(sample.after, axis=1)[:, None, :])[:, 0]
    try:
        if isinstance(method, SampleFittedMethod):
            model = method.fit(sample_before, sample_after.astype(np.float64))
            threshold, rule = _statistical_threshold(options, sample_before, sample_after, model)
            for rows, cols in windows:
                before, after = source.read(rows, cols)
                usable = sample.clear_of(rows, cols)
                score = np.full(usable.shape, np.nan, dtype=np.float32)
                direction = np.zeros(usable.shape, dtype=np.int8)
                if usable.any():
                    normalised = radiometry.apply(after)
                    clock.lap("scoring_pass")
                    scored = score_pixels(before, normalised, usable, model)
                    clock.lap("score")
                    score[usable] = scored.score[usable]
                    direction = scored.direction
                rasters.write(rows, cols, score, direction)
                tile = _threshold_tile(score, usable, threshold)
                clock.lap("scoring_pass")
                water.clear(tile, before, after)
                clock.lap("water")
                vegetation.mark(tile, before, after)
                clock.lap("vegetation")
                mask[rows, cols] = tile
        else:
            threshold, rule = _learned_threshold(options, method)
            fitted = _fit_windowed(method, sample_before, sample_after)
            _score_windowed(
                source,
                method,
                fitted,
                radiometry,
                threshold,
                sample,
                rasters,
                mask,
                clock,
                (water, vegetation),
            )
    finally:
        rasters.close()
    clock.lap("scoring_pass")

    strip = _strip_rows(grid, options)
    _clean_in_strips(mask, options.opening, options.closing, strip)
    clock.lap("clean")
    min_pixels = _min_pixels(options, grid.pixel_size_m)
    mask_path = workdir / "mask.tif"
    objects, left_out = change_objects(
        mask,
        min_pixels,
        grid,
        strip,
        rasters.score_path,
        rasters.direction_path,
        mask_path,
        ObjectTable(workdir / "objects.features"),
        vegetation.filter,
    )
    clock.lap("objects")
    steps["vegetation"] = {
        **vegetation.as_dict(),
        "vegetation_objects": left_out.objects,
        "vegetation_pixels": left_out.pixels,
    }
    steps["water"] = water.as_dict()
    steps["timings_s"] = clock.laps
    result = DetectionResult(
        score_path=rasters.score_path,
        mask_path=mask_path,
        objects=objects,
        method=method,
        threshold=threshold,
        threshold_rule=rule,
        min_pixels=min_pixels,
        steps=steps,
    )
    result.summary = _summary(result, int(sample.clear), steps, grid.pixel_size_m)
    return result


def _scratch_mask(workdir: Path, grid: Grid) -> np.ndarray:
    """The one whole-raster array (1 change, 0 no change, MASK_NODATA not compared).

    It lives in a memory-mapped file of the run's working folder, not in anonymous memory:
    one byte per pixel is 100 MB at 100 Mpx but 1.2 GB for North Korea at 10 m, and pages
    of a file are the kernel's to write back and drop under pressure, so a raster whose
    mask does not fit in memory still runs. Clean-up and labelling walk it strip by strip,
    touching a few strips at a time.
    """
    mask = np.lib.format.open_memmap(
        workdir / "mask.scratch.npy", mode="w+", dtype=np.uint8, shape=(grid.height, grid.width)
    )
    mask[...] = MASK_NODATA
    return mask


class _Clock:
    """Seconds spent per stage name, summed over calls of :meth:`lap`."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(self.laps.get(name, 0.0) + now - self._last, 4)
        self._last = now


def _threshold_tile(score: np.ndarray, usable: np.ndarray, threshold: float) -> np.ndarray:
    """The uint8 mask of one tile: 1 above the threshold, 0 below, MASK_NODATA unusable."""
    tile = np.full(usable.shape, MASK_NODATA, dtype=np.uint8)
    tile[usable] = score[usable] > threshold
    return tile


def _clean_in_strips(mask: np.ndarray, opening: int, closing: int, strip: int) -> None:
    """Opening then closing of the changed pixels of ``mask`` in place, strip by strip.

    Each strip is cleaned with ``halo`` rows of ORIGINAL values above and below: every
    morphological step moves information by its radius, so opening and closing reach
    ``2 * (opening + closing)`` rows and a strip's core comes out as from the whole
    raster. Uncompared pixels stay uncompared (clean-up never makes them change).
    """
    if opening <= 0 and closing <= 0:
        return
    halo = 2 * (max(opening, 0) + max(closing, 0)) + 1
    height = mask.shape[0]
    originals_above: np.ndarray | None = None  # rows [top, start) before they were cleaned
    for start in range(0, height, strip):
        stop = min(start + strip, height)
        top, bottom = max(0, start - halo), min(height, stop + halo)
        block = mask[top:bottom].copy()
        if originals_above is not None:
            block[: start - top] = originals_above
        originals_above = block[max(0, stop - halo) - top : stop - top].copy()
        cleaned = analysis.clean(changed(block), opening=opening, closing=closing)
        core = mask[start:stop]
        kept = cleaned[start - top : stop - top]
        # A pixel the clean-up keeps keeps its vegetation-phase mark; one it adds is unmarked.
        marked = np.where(core == MASK_VEGETATION, MASK_VEGETATION, np.uint8(1))
        core[...] = np.where(core == MASK_NODATA, MASK_NODATA, np.where(kept, marked, 0))


def _statistical_threshold(
    options: DetectionOptions, sample_before: np.ndarray, sample_after: np.ndarray, model
) -> tuple[float, str]:
    if options.threshold is not None:
        return float(options.threshold), "fixed"
    shape = (sample_before.shape[0], 1, sample_before.shape[1])
    scored = score_pixels(
        sample_before.astype(np.float32).reshape(shape),
        sample_after.astype(np.float32).reshape(shape),
        np.ones(shape[1:], dtype=bool),
        model,
    )
    strength = analysis.significance(scored.score)
    cut = analysis.otsu(strength)
    # Otsu works on -log10(1 - score); the same cut on the score itself:
    return float(1.0 - 10.0**-cut), f"otsu on significance (cut {cut:.3f})"


def _learned_threshold(options: DetectionOptions, method: ChangeMethod) -> tuple[float, str]:
    if options.threshold is not None:
        return float(options.threshold), "fixed"
    own = getattr(method, "threshold", None)
    if own is not None:
        return float(own), "model"
    return 0.5, "default 0.5"


def _fit_windowed(method: ChangeMethod, sample_before: np.ndarray, sample_after: np.ndarray):
    if not isinstance(method, WindowedMethod):
        raise InputError(
            f"method {method.name!r} can be neither fitted on a sample nor applied by windows",
            item="method",
        )
    return method.fit(sample_before, sample_after)


def _score_windowed(
    source: PairSource,
    method: WindowedMethod,
    fitted: Any,
    radiometry: _Radiometry,
    threshold: float,
    sample: _Sample,
    rasters: _TileRasters,
    mask: np.ndarray,
    clock: _Clock,
    tests: tuple[OpenWaterTest, VegetationTest],
) -> None:
    """A learned method window by window: read core plus margins, keep the core's maps.

    The clear pixels of each core come from the sample pass, which walked these cores.
    """
    grid = source.grid
    for window in method.windows(grid.height, grid.width):
        before, after = source.read(*window.read)
        normalised = radiometry.apply(after)
        clock.lap("scoring_pass")
        probability, direction, _ = method.apply(before, normalised, fitted, window.inner)
        clock.lap("score")
        usable = sample.clear_of(*window.core)
        score = np.where(usable, probability, np.float32(np.nan))
        rasters.write(*window.core, score, np.where(usable, direction, 0))
        tile = _threshold_tile(score, usable, threshold)
        clock.lap("scoring_pass")
        inner = (slice(None), *window.inner)
        water, vegetation = tests
        water.clear(tile, before[inner], after[inner])
        clock.lap("water")
        vegetation.mark(tile, before[inner], after[inner])
        clock.lap("vegetation")
        mask[window.core] = tile


def _min_pixels(options: DetectionOptions, pixel_size_m: float | None) -> int:
    """The minimum mapping unit in pixels: from m2, or as given in pixel space."""
    default = DETECT_MIN_AREA_M2 if pixel_size_m is not None else DETECT_MIN_PIXELS
    area = options.min_area if options.min_area is not None else default
    limits.AREA_M2.check(area, item="min_area")
    if pixel_size_m is None:
        return max(1, math.ceil(area))
    return max(1, analysis.pixels_for_area(area, pixel_size_m))


def _summary(
    result: DetectionResult, compared: int, steps: dict[str, Any], pixel_size_m: float | None
) -> dict[str, Any]:
    objects = result.objects
    changed = objects.changed_pixels
    georeferenced = pixel_size_m is not None
    return {
        "changed_pixels": changed,
        "compared_pixels": compared,
        "changed_share": changed / compared if compared else 0.0,
        "changed_area_m2": objects.changed_area_m2 if georeferenced else None,
        "object_count": len(objects),
        "max_score": objects.max_score,
        "threshold": result.threshold,
        "residual_shift_m": steps["coregistration"].get("residual_m"),
        "residual_shift_px": steps["coregistration"]["residual_px"],
        "pixel_space": not georeferenced,
        "vegetation_filter": vegetation_summary(steps["vegetation"]),
        "water_mask": water_summary(steps["water"]),
    }
