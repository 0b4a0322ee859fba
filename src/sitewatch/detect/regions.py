"""Change objects of a whole-raster mask, found strip by strip.

The minimum mapping unit and the objects need connected regions of the whole raster, but
their labels (4 bytes per pixel) and the score and direction (5 bytes per pixel) need
not be whole in memory. Here only the uint8 mask is whole; the rest is one strip at a time:

1. each strip is labelled (8-connected, as :func:`sitewatch.analysis.remove_small_objects`)
   and the labels touching across a strip border are joined (a graph of labels, its
   connected components): region sizes come from the per-strip pixel counts;
2. second pass: regions under the minimum mapping unit are cleared from the mask, the mask
   product is written strip by strip, and the regions lying inside one strip become
   objects through :func:`sitewatch.analysis.polygonise` on that strip;
3. the few regions crossing a strip border are polygonised one by one on their bounding
   box, so their geometry and numbers are those of the whole region.

With one strip (small rasters) this is exactly labelling, filtering and polygonising the
whole raster.

Vegetation-phase change (:mod:`sitewatch.analysis.vegetation`) arrives as mask value
:data:`MASK_VEGETATION` on the changed pixels the rule flagged. Pass 1 counts them per
region, so each region's share (and class) is that of the whole region even when it
crosses strips; a vegetation-phase region is left out like one under the minimum mapping
unit unless the run keeps it. The mask product holds 1 for every kept changed pixel.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import shapely
from affine import Affine
from rasterio.windows import Window
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from sitewatch import analysis
from sitewatch.analysis.objects import ChangeObject
from sitewatch.analysis.threshold import EIGHT_CONNECTED
from sitewatch.analysis.vegetation import VegetationRule, is_vegetation_object
from sitewatch.detect.object_table import ObjectTable
from sitewatch.detect.sources import Grid, open_tiled

MASK_NODATA = 255
#: A changed pixel whose change is vegetation-phase (in the run's scratch mask only).
MASK_VEGETATION = 2


def changed(mask: np.ndarray) -> np.ndarray:
    """The changed pixels of a scratch mask, vegetation-phase or not."""
    return (mask == 1) | (mask == MASK_VEGETATION)


def _strips(height: int, rows: int) -> list[tuple[int, int]]:
    return [(start, min(start + rows, height)) for start in range(0, height, rows)]


def _border_pairs(above: np.ndarray, below: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Label pairs 8-adjacent across a strip border (last row above, first row below)."""
    firsts, seconds = [], []
    for upper, lower in ((above, below), (above[:-1], below[1:]), (above[1:], below[:-1])):
        both = (upper > 0) & (lower > 0)
        firsts.append(upper[both])
        seconds.append(lower[both])
    return np.concatenate(firsts), np.concatenate(seconds)


class _Regions:
    """Global labels of every strip joined into regions (pass 1 of the module docstring)."""

    def __init__(self, mask: np.ndarray, strips: list[tuple[int, int]]) -> None:
        self.offsets: list[int] = []
        counts = [np.zeros(1, dtype=np.int64)]  # label 0: background
        flagged = [np.zeros(1, dtype=np.int64)]
        firsts, seconds = [], []
        total = 0
        last_row: np.ndarray | None = None
        for start, stop in strips:
            part = mask[start:stop]
            labels, count = ndimage.label(changed(part), structure=EIGHT_CONNECTED)
            self.offsets.append(total)
            counts.append(np.bincount(labels.ravel(), minlength=count + 1)[1:])
            flagged.append(np.bincount(labels[part == MASK_VEGETATION], minlength=count + 1)[1:])
            global_labels = np.where(labels > 0, labels + total, 0)
            if last_row is not None:
                upper, lower = _border_pairs(last_row, global_labels[0])
                firsts.append(upper)
                seconds.append(lower)
            last_row = global_labels[-1]
            total += count
        pairs = (np.concatenate(firsts), np.concatenate(seconds)) if firsts else ([], [])
        graph = coo_matrix(
            (np.ones(len(pairs[0]), dtype=np.int8), pairs), shape=(total + 1, total + 1)
        )
        _, self.region_of = connected_components(graph, directed=False)
        sizes = np.bincount(self.region_of, weights=np.concatenate(counts))
        pieces = np.bincount(self.region_of)
        self.sizes = sizes
        #: Vegetation-phase pixels per region.
        self.flagged = np.bincount(self.region_of, weights=np.concatenate(flagged))
        #: Regions made of more than one strip label (they cross a strip border).
        self.crossing = pieces > 1
        self.crossing[self.region_of[0]] = False  # the background's region

    def numbers(self, index: int) -> np.ndarray:
        """Region number of each local label of strip ``index`` (label 0: -1).

        int32 like the labels: the strip's region image is the largest array of the stage.
        """
        local = self.region_of[self.offsets[index] + 1 :]
        return np.concatenate([np.array([-1], dtype=np.int32), local.astype(np.int32)])


@dataclass(frozen=True)
class VegetationFilter:
    """What to do with vegetation-phase regions: the rule that classes them, and whether
    to keep them (classed) instead of leaving them out."""

    rule: VegetationRule
    keep: bool = False


@dataclass(frozen=True)
class LeftOut:
    """Vegetation-phase regions (at least the minimum mapping unit) a run left out."""

    objects: int = 0
    pixels: int = 0


def change_objects(
    mask: np.ndarray,
    min_pixels: int,
    grid: Grid,
    strip_rows: int,
    score_path: Path,
    direction_path: Path,
    mask_path: Path,
    objects: ObjectTable,
    vegetation: VegetationFilter | None = None,
) -> tuple[ObjectTable, LeftOut]:
    """Objects of the changed pixels of ``mask`` (1, or :data:`MASK_VEGETATION`), regions
    under ``min_pixels`` cleared, and vegetation-phase regions unless ``vegetation`` keeps
    them (None: no vegetation-phase test was made).

    ``mask`` (uint8, see the module docstring of :mod:`sitewatch.detect.pipeline`) is
    updated in place (cleared regions become 0) and written to ``mask_path`` as a tiled
    GeoTIFF; the statistics come from the float32 score and int8 direction rasters on disk.
    The objects go into ``objects`` strip by strip (it orders them as
    :func:`sitewatch.analysis.polygonise` does), which is returned with what was left out.
    """
    strips = _strips(mask.shape[0], strip_rows)
    regions = _Regions(mask, strips)
    keep = regions.sizes >= max(1, min_pixels)
    left_out = LeftOut()
    if vegetation is not None:
        shares = regions.flagged / np.maximum(regions.sizes, 1)
        dropped = keep & is_vegetation_object(shares, vegetation.rule)
        dropped[regions.region_of[0]] = False
        left_out = LeftOut(int(np.count_nonzero(dropped)), int(regions.sizes[dropped].sum()))
        if not vegetation.keep:
            keep &= ~dropped
    rule = vegetation.rule if vegetation is not None else None
    boxes: dict[int, list[int]] = {}  # crossing region -> [top, left, bottom, right]
    seeds: dict[int, tuple[int, int]] = {}
    with (
        rasterio.open(score_path) as scores,
        rasterio.open(direction_path) as directions,
        open_tiled(mask_path, grid, "uint8", MASK_NODATA) as output,
    ):
        for index, (start, stop) in enumerate(strips):
            part = mask[start:stop]
            window = Window(0, start, part.shape[1], stop - start)
            labels, _ = ndimage.label(changed(part), structure=EIGHT_CONNECTED)
            numbers = regions.numbers(index)
            region = numbers[labels]
            in_region = region >= 0
            kept = in_region & keep[np.maximum(region, 0)]
            part[in_region & ~kept] = 0
            # Vegetation-phase marks stay in memory for the crossing regions' shares.
            output.write(np.where(kept, np.uint8(1), part), 1, window=window)
            whole = kept & ~regions.crossing[np.maximum(region, 0)]
            if whole.any():
                found = analysis.polygonise(
                    whole,
                    scores.read(1, window=window),
                    directions.read(1, window=window),
                    **_georeference(grid, start, 0),
                    **_vegetation_pixels(part, rule),
                )
                objects.add(_in_pixel_space(found, grid, start, 0))
            _note_crossing(labels, numbers, kept & ~whole, start, boxes, seeds)
        objects.add(
            _crossing_object(mask, scores, directions, grid, seeds[number], tuple(box), rule)
            for number, box in boxes.items()
        )
    return objects, left_out


def _vegetation_pixels(part: np.ndarray, rule: VegetationRule | None) -> dict[str, Any]:
    """polygonise's vegetation arguments for a block of the scratch mask (none: untested)."""
    if rule is None:
        return {}
    return {"vegetation_pixels": part == MASK_VEGETATION, "vegetation_rule": rule}


def _note_crossing(
    labels: np.ndarray,
    numbers: np.ndarray,
    crossing: np.ndarray,
    start: int,
    boxes: dict[int, list[int]],
    seeds: dict[int, tuple[int, int]],
) -> None:
    """Grow the bounding boxes of the crossing regions seen in this strip; one seed each.

    ``numbers`` maps a local label to its region number.
    """
    if not crossing.any():
        return
    slices = ndimage.find_objects(labels)
    for label in np.unique(labels[crossing]):
        rows, cols = slices[label - 1]
        number = int(numbers[label])
        top, bottom = start + rows.start, start + rows.stop
        if number not in boxes:
            column = cols.start + int(np.argmax(labels[rows.start, cols] == label))
            seeds[number] = (top, column)
            boxes[number] = [top, cols.start, bottom, cols.stop]
            continue
        box = boxes[number]
        box[:] = [
            min(box[0], top),
            min(box[1], cols.start),
            max(box[2], bottom),
            max(box[3], cols.stop),
        ]


def _crossing_object(
    mask: np.ndarray,
    scores: Any,
    directions: Any,
    grid: Grid,
    seed: tuple[int, int],
    box: tuple[int, int, int, int],
    rule: VegetationRule | None,
) -> ChangeObject:
    """The object of the region holding ``seed``, polygonised on its bounding ``box``."""
    top, left, bottom, right = box
    block = mask[top:bottom, left:right]
    labels, _ = ndimage.label(changed(block), structure=EIGHT_CONNECTED)
    region = labels == labels[seed[0] - top, seed[1] - left]
    window = Window(left, top, right - left, bottom - top)
    (found,) = analysis.polygonise(
        region,
        scores.read(1, window=window),
        directions.read(1, window=window),
        **_georeference(grid, top, left),
        **_vegetation_pixels(block, rule),
    )
    (moved,) = _in_pixel_space([found], grid, top, left)
    return moved


def _georeference(grid: Grid, top: int, left: int) -> dict[str, Any]:
    if not grid.georeferenced:
        return {}
    assert grid.transform is not None
    return {"transform": grid.transform @ Affine.translation(left, top), "crs": grid.crs}


def _in_pixel_space(
    objects: list[ChangeObject], grid: Grid, top: int, left: int
) -> list[ChangeObject]:
    """Pixel-space objects moved from window to raster (column, row) coordinates."""
    if grid.georeferenced or (top == 0 and left == 0):
        return objects
    return [
        replace(item, geometry=shapely.affinity.translate(item.geometry, left, top))
        for item in objects
    ]
