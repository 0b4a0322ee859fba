"""Before and after composites of one tile: each scene read by window, masked, then median.

A tile task gets the few scenes that touch its tile (:class:`TileScene`, small and
picklable: file paths, band numbers, the footprint already in the tile's CRS). Each scene
is read onto the tile grid, its nodata, the pixels outside its footprint and (Sentinel-2
bands) its cloudy pixels become NaN, and the composite is the per-pixel, per-band median of
the values left. A pixel no scene sees clearly stays NaN and is not compared. What is read
is the tile's window: its square and its halo of context (:attr:`~sitewatch.scan.grid.Tile.
read_bounds`), so a scene reaching only the halo is read too.

Reading: when a file is in the tile's CRS on the tile's pixel lattice (Sentinel-2 and
Landsat in their own UTM zone: the usual case, see :mod:`sitewatch.scan.grid`) the tile is
one plain window read of the blocks it touches. Anything else (another zone, lon/lat,
another pixel size) goes through the site-stack reader's warped VRT
(:mod:`sitewatch.imagery.stack`), which is correct for any input and several times slower.

The median of two values is their mean and of one value the value, so the usual one or
two scenes per date cost one pass; for more scenes the values are sorted along the scene
axis (NaN sorts last) and the middle of the finite ones is taken, which is what
``numpy.nanmedian`` computes without its per-pixel Python fallback or its all-NaN warnings.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import rasterio
from rasterio.enums import Resampling
from rasterio.errors import RasterioError
from rasterio.features import geometry_mask
from rasterio.windows import Window
from shapely.geometry.base import BaseGeometry

from sitewatch.analysis.masks import cloud_mask_l1c
from sitewatch.errors import InputError
from sitewatch.imagery import sentinel2
from sitewatch.imagery.stack import AssetRead, ScenePlan, SiteGrid, open_asset, read_scene
from sitewatch.scan.grid import Tile

# How far (in pixels) a file's origin may sit from the tile lattice and still be read as a
# plain window: float noise in geotransforms, not a real offset.
LATTICE_TOLERANCE_PX = 1e-3
#: Files a worker keeps open (a few scenes x bands of the tiles it is working through).
OPEN_FILES = 64


@dataclass(frozen=True)
class TileScene:
    """One scene as a tile task needs it: its read plan and its footprint on the tile.

    ``footprint`` is in the tile's CRS, or None when the scene covers the whole tile (the
    usual case, which then skips rasterising it).
    """

    plan: ScenePlan
    footprint: BaseGeometry | None


def tile_grid(tile: Tile) -> SiteGrid:
    return SiteGrid(tile.crs, tile.read_transform, tile.read_pixels, tile.read_pixels)


def tile_scene(plan: ScenePlan, footprint: BaseGeometry, tile: Tile) -> TileScene | None:
    """How ``plan`` (footprint already in the tile's CRS) reaches ``tile``'s window (square
    and halo): whole (no mask needed), in part (its footprint near the window, to mask the
    rest), or not at all."""
    square = tile.read_outline()
    if footprint.covers(square):
        return TileScene(plan, None)
    if footprint.intersects(square) and not footprint.touches(square):
        return TileScene(plan, footprint.intersection(square.buffer(tile.size_m)))
    return None


def composite(scenes: Sequence[TileScene], tile: Tile, band_names: Sequence[str]) -> np.ndarray:
    """The median composite (band, y, x) float32 of ``scenes`` over ``tile``'s window
    (NaN: none clear)."""
    return composite_of(scenes, tile, band_names)[0]


def composite_of(
    scenes: Sequence[TileScene], tile: Tile, band_names: Sequence[str]
) -> tuple[np.ndarray, tuple[TileScene, ...]]:
    """The median composite of ``scenes`` over ``tile`` and the scenes it was made of: those
    that gave it at least one clear pixel (a scene clouded or outside its footprint over the
    whole tile reaches the tile on paper only, and the analyst must not be told it was
    compared)."""
    images = [read_clear(scene, tile, band_names) for scene in scenes]
    used = tuple(
        scene for scene, image in zip(scenes, images, strict=True) if np.isfinite(image).any()
    )
    if not images:
        side = tile.read_pixels
        return np.full((len(band_names), side, side), np.nan, np.float32), used
    return median_of(images), used


def acquisitions_of(scenes: Sequence[TileScene]) -> list[dict[str, str]]:
    """The scenes as stored and shown: id and acquisition time (ISO), oldest first."""
    return [
        {"scene_id": scene.plan.scene_id, "acquired": scene.plan.acquired.isoformat()}
        for scene in sorted(scenes, key=lambda item: (item.plan.acquired, item.plan.scene_id))
    ]


def median_of(images: Sequence[np.ndarray]) -> np.ndarray:
    """Per-pixel median over the finite values of equally shaped images (NaN where none)."""
    if len(images) == 1:
        return images[0]
    if len(images) == 2:
        first, second = images
        both = (first + second) * np.float32(0.5)
        return np.where(np.isnan(first), second, np.where(np.isnan(second), first, both))
    ordered = np.sort(np.stack(images), axis=0)  # NaN last
    count = np.isfinite(ordered).sum(axis=0)
    low = np.take_along_axis(ordered, np.maximum(count - 1, 0)[None] // 2, axis=0)[0]
    high = np.take_along_axis(ordered, (count // 2)[None], axis=0)[0]
    middle = (low + high) * np.float32(0.5)
    middle[count == 0] = np.nan
    return middle


def read_clear(scene: TileScene, tile: Tile, band_names: Sequence[str]) -> np.ndarray:
    """One scene on the tile's window with nodata, outside-footprint and cloud pixels NaN."""
    size = tile.read_pixels
    image = np.full((len(band_names), size, size), np.nan, np.float32)
    integer = _read(scene, tile, band_names, image)
    if scene.footprint is not None:
        outside = geometry_mask(
            [scene.footprint], out_shape=(size, size), transform=tile.read_transform
        )
        image[:, outside] = np.nan
    scale = sentinel2.reflectance_scale_for(band_names, integer)
    if scale is not None:
        cloud = cloud_mask_l1c(image * np.float32(scale), band_names)
        image[:, cloud] = np.nan
    return image


def _read(scene: TileScene, tile: Tile, band_names: Sequence[str], out: np.ndarray) -> bool:
    """Fill ``out`` from the scene's files; True when the files hold integers."""
    integer = False
    warped = False
    for read in scene.plan.reads:
        dataset = _dataset(read, scene.plan.scene_id)
        integer = np.issubdtype(np.dtype(dataset.dtypes[0]), np.integer)
        offset = _lattice_offset(dataset, tile)
        if offset is None:
            warped = True
            continue
        nodata = _nodata(dataset, [band_names[p] for p in read.stack_positions])
        _read_window(dataset, read, scene.plan.scene_id, offset, nodata, out)
    if warped:
        # The stack reader warps every file of the plan (declared nodata becomes NaN) and
        # masks the footprint itself; the undeclared 0 of Sentinel-2 integers is left.
        read_scene(scene.plan, tile_grid(tile), Resampling.bilinear, out)
        if integer and _nodata_by_convention(band_names):
            out[out == 0] = np.nan
    return integer


@lru_cache(maxsize=OPEN_FILES)
def _dataset(read: AssetRead, scene_id: str) -> rasterio.DatasetReader:
    """The file open for reading, kept open for the next tiles of this worker process.

    Neighbouring tiles share the file's compressed blocks (a 256 px tile in a file of
    512 px blocks touches up to four); a dataset that stays open keeps its decoded blocks
    in GDAL's block cache, so each block is decoded about once instead of once per tile.
    An evicted dataset is closed when it is garbage collected.
    """
    with open_asset(read, scene_id) as checked:
        path = checked.name
    try:
        return rasterio.open(path)
    except RasterioError as exc:
        raise InputError(
            f"cannot open raster: {exc}", source=read.href, item=f"scene {scene_id}"
        ) from exc


def _lattice_offset(dataset: rasterio.DatasetReader, tile: Tile) -> tuple[int, int] | None:
    """(row, col) of the tile window's top-left pixel in the file when it is on the file's
    lattice."""
    transform = dataset.transform
    resolution = tile.resolution_m
    if dataset.crs is None or dataset.crs.to_epsg() != tile.epsg:
        return None
    if transform.b != 0 or transform.d != 0:
        return None
    if not (math.isclose(transform.a, resolution) and math.isclose(-transform.e, resolution)):
        return None
    left, _, _, top = tile.read_bounds
    col = (left - transform.c) / resolution
    row = (transform.f - top) / resolution
    if max(abs(col - round(col)), abs(row - round(row))) > LATTICE_TOLERANCE_PX:
        return None
    return round(row), round(col)


def _read_window(
    dataset: rasterio.DatasetReader,
    read: AssetRead,
    scene_id: str,
    offset: tuple[int, int],
    nodata: float | None,
    out: np.ndarray,
) -> None:
    """The part of the tile inside the file, read as stored, nodata to NaN."""
    row, col = offset
    size = out.shape[1]
    top, left = max(row, 0), max(col, 0)
    bottom, right = min(row + size, dataset.height), min(col + size, dataset.width)
    if bottom <= top or right <= left:
        return
    try:
        raw = dataset.read(
            list(read.raster_indexes), window=Window(left, top, right - left, bottom - top)
        )
    except RasterioError as exc:
        raise InputError(
            f"cannot read raster: {exc}", source=read.href, item=f"scene {scene_id}"
        ) from exc
    values = raw.astype(np.float32)
    if nodata is not None:
        values[raw == nodata] = np.nan
    rows, cols = slice(top - row, bottom - row), slice(left - col, right - col)
    out[list(read.stack_positions), rows, cols] = values


def _nodata_by_convention(band_names: Sequence[str]) -> bool:
    """Integer Sentinel-2 bands that declare no nodata use 0 for it (the L1C convention)."""
    return all(band in sentinel2.MSI_BY_NAME for band in band_names)


def _nodata(dataset: rasterio.DatasetReader, band_names: Sequence[str]) -> float | None:
    """The file's declared nodata, else 0 for integer Sentinel-2 bands, else none."""
    if dataset.nodata is not None:
        return float(dataset.nodata)
    integer = np.issubdtype(np.dtype(dataset.dtypes[0]), np.integer)
    return 0.0 if integer and _nodata_by_convention(band_names) else None
