"""Web-map tiles (256 x 256 px, web mercator ``z/x/y``) of catalogued scenes, by rio-tiler.

What a map viewer needs to show a scene, read from the files the catalog names and nothing
else: a scene is looked up by id (:func:`scene_layer`), its bands are mapped to its assets'
files (:func:`sitewatch.imagery.stack.scene_plan`), and only those hrefs are opened. No path
ever comes from a request.

Choices worth knowing:

- The default bands are the true-colour ones (:func:`sitewatch.imagery.chips.true_colour_bands`);
  one band is shown grey, three as red, green, blue.
- The contrast stretch (2-98 %, as the quicklooks) is computed once per scene and bands from
  a decimated read of the whole scene (overviews when the file has them) and kept in a
  bounded cache, so that neighbouring tiles of one scene share it: a stretch per tile would
  give each tile its own brightness and show the tile grid.
- A tile outside the scene is a fully transparent PNG, not an error (a map asks for every
  tile of its view); nodata and pixels beyond the scene's edge are transparent too.

:mod:`sitewatch.detect.product_tiles` renders a detection run's products with the same
reader (:func:`read_tile`) and the same empty tile.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import numpy as np
import rasterio
from rasterio.errors import RasterioError
from rio_tiler.constants import WGS84_CRS
from rio_tiler.errors import NoOverviewWarning, RioTilerError, TileOutsideBounds
from rio_tiler.io import Reader
from rio_tiler.models import ImageData
from rio_tiler.utils import render
from sqlalchemy.orm import Session

from sitewatch import limits
from sitewatch.errors import InputError
from sitewatch.imagery.chips import band_composites, joint_stretch, true_colour_bands
from sitewatch.imagery.scenes import get_scene
from sitewatch.imagery.stack import (
    GDAL_READ_OPTIONS,
    AssetRead,
    choose_bands,
    gdal_path,
    parse_bands,
    scene_plan,
)

TILE_SIZE = 256
#: Files without overviews (OSCD's small GeoTIFFs) are read at full resolution, which is
#: what a tile of a small scene needs; rio-tiler's warning would repeat on every tile.
warnings.filterwarnings("ignore", category=NoOverviewWarning)
#: Longest side of the decimated read the stretch is computed from: ~1 Mpx, a few
#: hundred milliseconds once per scene, and a percentile of a million pixels is stable.
STRETCH_SAMPLE_PX = 1024
#: zlib level of the PNGs: 1 encodes a tile in half the time of GDAL's default 6 for ~10 %
#: more bytes; a tile server on a small machine is short of CPU, not of bandwidth.
PNG_OPTIONS = {"ZLEVEL": 1}
#: Scenes x band choices whose stretch is remembered: a few floats each.
CACHED_STRETCHES = 512
#: The credit Copernicus asks of products made from Sentinel data.
COPERNICUS_CREDIT = "Contains modified Copernicus Sentinel data"


@dataclass(frozen=True)
class SceneLayer:
    """What renders a scene's tiles, detached from the database session."""

    scene_id: str
    acquired: datetime
    sensor: str
    resolution_m: float | None
    bounds: tuple[float, float, float, float]  # W, S, E, N in degrees
    bands_available: tuple[str, ...]
    bands: tuple[str, ...]  # shown: one (grey) or three (red, green, blue)
    reads: tuple[AssetRead, ...]  # stack positions are positions in ``bands``
    attribution: str


def check_tile(z: int, x: int, y: int) -> None:
    """InputError naming the coordinate unless ``z/x/y`` is a tile of the web-mercator grid."""
    limits.WEB_ZOOM.check(z, item="z")
    side = limits.Bound(0, 2**z - 1)
    side.check(x, item="x")
    side.check(y, item="y")


def sensor_of(platform: str | None, instrument: str | None) -> str:
    """``sentinel-2a/msi``: the platform and instrument as catalogued, or ``unknown``."""
    return "/".join(part for part in (platform, instrument) if part) or "unknown"


def scene_layer(session: Session, scene_id: str, bands_text: str | None = None) -> SceneLayer:
    """The scene ``scene_id`` (NotFoundError if unknown) shown in ``bands_text`` (``B04,B03,B02``;
    default: true colour). InputError for a band the scene lacks or a count other than 1 or 3."""
    scene = get_scene(session, scene_id)
    requested = parse_bands(bands_text, "bands")
    available = choose_bands([scene], None) if scene.assets else []
    if requested is None:
        bands = list(true_colour_bands(available)) if available else []
    else:
        bands = choose_bands([scene], requested)
    if len(bands) not in (1, 3):
        raise InputError(
            f"shows 1 band (grey) or 3 (red,green,blue), not {len(bands)}", item="bands"
        )
    sensor = sensor_of(scene.platform, scene.instrument)
    return SceneLayer(
        scene_id=scene.id,
        acquired=scene.datetime,
        sensor=sensor,
        resolution_m=scene.resolution_m,
        bounds=(scene.min_lon, scene.min_lat, scene.max_lon, scene.max_lat),
        bands_available=tuple(available),
        bands=tuple(bands),
        reads=scene_plan(scene, bands).reads,
        attribution=credit_of(scene.id, scene.platform),
    )


def credit_of(scene_id: str, platform: str | None) -> str:
    """Who to credit for a scene's pixels: Copernicus for Sentinel data, else the scene."""
    if platform and platform.lower().startswith("sentinel"):
        return COPERNICUS_CREDIT
    return f"imagery: scene {scene_id}"


def render_scene_tile(layer: SceneLayer, z: int, x: int, y: int) -> bytes:
    """The PNG of tile ``z/x/y`` of ``layer``: stretched bytes, transparent where no data."""
    check_tile(z, x, y)
    image = read_tile(layer.reads, len(layer.bands), z, x, y, layer.scene_id)
    if image is None:
        return empty_tile()
    low, high = scene_stretch(layer.scene_id, layer.reads, len(layer.bands))
    in_range = list(zip(low.tolist(), high.tolist(), strict=True))
    return image.rescale(in_range=in_range).render(img_format="PNG", **PNG_OPTIONS)


def read_tile(
    reads: Sequence[AssetRead],
    band_count: int,
    z: int,
    x: int,
    y: int,
    what: str,
    resampling: str = "bilinear",
) -> ImageData | None:
    """Tile ``z/x/y`` of ``band_count`` bands gathered from ``reads`` as float32, masked
    where any band has no data; None when the tile misses every file. ``resampling``:
    bilinear for continuous values (reflectance, scores), nearest for classes (a mask)."""

    def tile(reader: Reader, read: AssetRead) -> ImageData:
        return reader.tile(
            x, y, z, tilesize=TILE_SIZE, indexes=read.raster_indexes,
            resampling_method=resampling,
        )  # fmt: skip

    data, valid, inside = gather_bands(reads, band_count, TILE_SIZE, what, tile)
    if not inside:
        return None
    mask = np.broadcast_to(~valid, data.shape)
    return ImageData(np.ma.MaskedArray(data, mask=mask))


def gather_bands(
    reads: Sequence[AssetRead],
    band_count: int,
    size: int,
    what: str,
    read_part: Callable[[Reader, AssetRead], ImageData],
) -> tuple[np.ndarray, np.ndarray, bool]:
    """A ``size`` x ``size`` window of ``band_count`` bands gathered from ``reads``, each
    file read by ``read_part`` (a map tile, a plate's frame): the float32 stack, where
    every band has data, and whether any file reached the window at all. A scene's bands
    may sit in several files, each filling its own places of the stack."""
    data = np.zeros((band_count, size, size), np.float32)
    valid = np.ones((size, size), bool)
    inside = False
    with rasterio.Env(**GDAL_READ_OPTIONS):
        for read in reads:
            try:
                with open_reader(read, what) as reader:
                    part = read_part(reader, read)
            except TileOutsideBounds:
                valid[:] = False
                continue
            inside = True
            data[list(read.stack_positions)] = part.array.data
            valid &= ~np.ma.getmaskarray(part.array).any(axis=0)
    return data, valid, inside


def open_reader(read: AssetRead, what: str) -> Reader:
    """rio-tiler's reader of one catalogued file; its complaint as an error naming the file."""
    try:
        reader = Reader(gdal_path(read.href))
    except (RasterioError, RioTilerError, OSError) as exc:
        raise InputError(f"cannot open raster: {exc}", source=read.href, item=what) from exc
    if max(read.raster_indexes) > reader.dataset.count:
        reader.close()
        raise InputError(
            f"has {reader.dataset.count} raster band(s) but the catalog expects "
            f"{max(read.raster_indexes)}",
            source=read.href,
            item=what,
        )
    return reader


@lru_cache(maxsize=CACHED_STRETCHES)
def scene_stretch(
    scene_id: str, reads: tuple[AssetRead, ...], band_count: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per band (low, high) of the 2-98 % stretch over a decimated read of the whole scene.

    Keyed by the scene id and the files read (a scene's content id changes with its files),
    so a re-catalogued scene is never shown with a stale stretch."""
    low = np.zeros(band_count, np.float32)
    high = np.ones(band_count, np.float32)
    with rasterio.Env(**GDAL_READ_OPTIONS):
        for read in reads:
            with open_reader(read, scene_id) as reader:
                sample = reader.preview(indexes=read.raster_indexes, max_size=STRETCH_SAMPLE_PX)
            values = np.where(np.ma.getmaskarray(sample.array), np.nan, sample.array.data)
            read_low, read_high = joint_stretch(values.astype(np.float32)[np.newaxis])
            low[list(read.stack_positions)] = read_low
            high[list(read.stack_positions)] = read_high
    return low, high


@lru_cache(maxsize=1)
def empty_tile() -> bytes:
    """A fully transparent 256 x 256 PNG: the answer for a tile where there is no data."""
    return render(
        np.zeros((1, TILE_SIZE, TILE_SIZE), np.uint8),
        np.zeros((TILE_SIZE, TILE_SIZE), np.uint8),
        img_format="PNG",
    )


def file_view(href: str, what: str) -> tuple[tuple[float, float, float, float], tuple[int, int]]:
    """A file's lon/lat bounds (W, S, E, N) and (minzoom, maxzoom) as rio-tiler works them
    out (the whole file in one tile; a pixel of the file's size), within
    :data:`limits.WEB_ZOOM`."""
    read = AssetRead(href, None, (1,), (0,))
    with rasterio.Env(**GDAL_READ_OPTIONS), open_reader(read, what) as r:
        bounds = tuple(float(value) for value in r.get_geographic_bounds(WGS84_CRS))
        low, high = r.minzoom, r.maxzoom
    bound = limits.WEB_ZOOM
    high = int(min(max(high, bound.low), bound.high))
    return bounds, (int(min(max(low, bound.low), high)), high)  # type: ignore[return-value]


def tilejson(
    tiles_url: str,
    bounds: tuple[float, float, float, float],
    zooms: tuple[int, int],
    **fields: Any,
) -> dict[str, Any]:
    """A TileJSON 3.0 document (with sitewatch's own fields added): what a viewer needs."""
    west, south, east, north = bounds
    minzoom, maxzoom = zooms
    centre_zoom = min(maxzoom, max(minzoom, (minzoom + maxzoom + 1) // 2))
    return {
        "tilejson": "3.0.0",
        "tiles": [tiles_url],
        "scheme": "xyz",
        "tilesize": TILE_SIZE,
        "bounds": [west, south, east, north],
        "center": [(west + east) / 2, (south + north) / 2, centre_zoom],
        "minzoom": minzoom,
        "maxzoom": maxzoom,
        **fields,
    }


def scene_tilejson(layer: SceneLayer, tiles_url: str) -> dict[str, Any]:
    """The metadata of ``layer``'s tiles; ``tiles_url`` is the template ``.../{z}/{x}/{y}.png``."""
    zooms = file_view(layer.reads[0].href, layer.scene_id)[1] if layer.reads else (0, 0)
    return tilejson(
        tiles_url,
        layer.bounds,
        zooms,
        name=f"scene {layer.scene_id}",
        scene_id=layer.scene_id,
        acquired=layer.acquired.isoformat(),
        sensor=layer.sensor,
        resolution_m=layer.resolution_m,
        attribution=layer.attribution,
        bands_available=list(layer.bands_available),
        bands=list(layer.bands),
        composites={
            label: ",".join(bands)
            for label, bands in band_composites(layer.bands_available).items()
        },
    )
