"""Read what a raster file says about itself, without reading its pixels.

A probe opens the file for its header (CRS, grid, bands, tags) and reads one block per band:
the last one. GDAL and COG writers store full-resolution blocks last and in row-major order,
so a file cut short by an interrupted copy or download fails on exactly that block, while
the header alone would still open. One block per band keeps a probe cheap on large scenes.

Before anything is read, the size a raster declares is checked against its file
(:func:`check_declared_size`): a GeoTIFF written with ``SPARSE_OK`` can claim 200,000 x
200,000 pixels in 2 MB of block tables, and every later step would plan work and memory
for pixels that are not there.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from pyproj import CRS
from pyproj.exceptions import CRSError
from rasterio.errors import NotGeoreferencedWarning, RasterioError
from rasterio.windows import Window
from shapely import affinity, segmentize
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from sitewatch import limits
from sitewatch.errors import InputError
from sitewatch.geo import WGS84, normalise_lonlat, to_crs

# Points per footprint edge: enough for the curvature of a UTM scene edge in lon/lat to
# stay well under a pixel, few enough to keep footprints small in the database.
_EDGE_POINTS = 20
# The IMAGERY domain is where GDAL normalises vendor metadata (acquisition time, cloud
# cover, satellite id) from DigitalGlobe, Pleiades, Landsat MTL... sidecar files.
_IMAGERY_DOMAIN = "IMAGERY"


@dataclass(frozen=True)
class RasterProbe:
    """A raster file's georeferencing and band metadata; no pixel values."""

    path: Path
    driver: str
    crs: CRS
    transform: Affine
    width: int
    height: int
    count: int
    dtype: str
    descriptions: tuple[str | None, ...]
    colour_names: tuple[str, ...]
    tags: dict[str, str]
    footprint: BaseGeometry
    resolution_m: float
    is_cog: bool = False

    @property
    def native_bounds(self) -> tuple[float, float, float, float]:
        """The grid's envelope in its own CRS (minx, miny, maxx, maxy)."""
        return pixel_box_in_crs(self.transform, self.width, self.height).bounds


def probe_raster(path: Path) -> RasterProbe:
    """Georeferencing, bands and tags of ``path``; InputError if it cannot be used as imagery."""
    try:
        with warnings.catch_warnings():
            # A raster without georeferencing is reported below as one InputError line;
            # rasterio's own warning about it would only add noise to that message.
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            dataset = rasterio.open(path)
        with dataset:
            check_declared_size(dataset, path)
            if dataset.crs is None:
                raise InputError(
                    "has no coordinate reference system (not georeferenced); "
                    "assign one first, e.g. gdal_edit.py -a_srs EPSG:xxxx",
                    source=path,
                )
            if dataset.transform.is_identity:
                raise InputError("has a CRS but no geotransform (not georeferenced)", source=path)
            _read_last_blocks(dataset, path)
            crs = _pyproj_crs(dataset.crs.to_wkt(), path)
            transform = dataset.transform
            tags = {**dataset.tags(), **dataset.tags(ns=_IMAGERY_DOMAIN)}
            return RasterProbe(
                path=path,
                driver=dataset.driver,
                crs=crs,
                transform=transform,
                width=dataset.width,
                height=dataset.height,
                count=dataset.count,
                dtype=dataset.dtypes[0],
                descriptions=tuple(dataset.descriptions),
                colour_names=tuple(ci.name for ci in dataset.colorinterp),
                tags=tags,
                footprint=grid_footprint(transform, dataset.width, dataset.height, crs, path),
                resolution_m=resolution_metres(transform, dataset.width, dataset.height, crs),
                # GDAL >= 3.1 marks files whose layout follows the COG rules.
                is_cog=dataset.tags(ns="IMAGE_STRUCTURE").get("LAYOUT", "").upper() == "COG",
            )
    except RasterioError as error:
        raise InputError(f"not a readable raster ({gdal_reason(error)})", source=path) from None


def check_declared_size(dataset: rasterio.DatasetReader, path: Path) -> None:
    """Refuse a raster whose declared size is absurd, before any pixel is read.

    Two rules (:mod:`sitewatch.limits`): a grid of more than ``MAX_RASTER_PIXELS``, and,
    for rasters declaring more than ``SPARSE_CHECK_BYTES``, more than
    ``MAX_DECLARED_BYTES_PER_FILE_BYTE`` bytes of pixels per byte of the files GDAL reads
    them from (a VRT counts its sources). No codec compresses real imagery anywhere near
    that ratio; a sparse file (blocks declared, never written) exceeds it by far.
    """
    pixels = dataset.width * dataset.height
    if pixels > limits.MAX_RASTER_PIXELS:
        raise InputError(
            f"declares {dataset.width} x {dataset.height} pixels ({pixels / 1e9:.1f} Gpx); "
            f"sitewatch reads rasters of at most {limits.MAX_RASTER_PIXELS / 1e9:.1f} Gpx",
            source=path,
        )
    sample_bytes = max(np.dtype(dtype).itemsize for dtype in dataset.dtypes)
    declared = pixels * dataset.count * sample_bytes
    if declared <= limits.SPARSE_CHECK_BYTES:
        return
    on_disk = sum(Path(name).stat().st_size for name in dataset.files if Path(name).is_file())
    if on_disk and declared > limits.MAX_DECLARED_BYTES_PER_FILE_BYTE * on_disk:
        raise InputError(
            f"declares {declared / 2**30:.1f} GiB of pixels ({dataset.width} x "
            f"{dataset.height} x {dataset.count} bands) in {on_disk / 2**20:.1f} MB of file: "
            f"more than {limits.MAX_DECLARED_BYTES_PER_FILE_BYTE}:1, so it is sparse or "
            "damaged, not imagery",
            source=path,
        )


def pixel_box_in_crs(transform: Affine, width: int, height: int) -> BaseGeometry:
    """The grid's outline in its CRS, densified so that it can be reprojected faithfully."""
    outline = segmentize(box(0, 0, width, height), max(width, height) / _EDGE_POINTS)
    return affinity.affine_transform(
        outline, [transform.a, transform.b, transform.d, transform.e, transform.c, transform.f]
    )


def grid_footprint(
    transform: Affine, width: int, height: int, crs: CRS, source: object
) -> BaseGeometry:
    """The lon/lat polygon covered by a grid: its densified outline reprojected to EPSG:4326."""
    # Simplifying by a nanodegree drops the densified points that stayed collinear (a grid
    # already in lon/lat) and keeps every bend a projected edge makes.
    # A grid across the antimeridian (UTM zone 60 or 1) is split there, not made world-wide.
    outline = to_crs(pixel_box_in_crs(transform, width, height), crs, WGS84).simplify(1e-9)
    footprint = normalise_lonlat(outline)
    if footprint.is_empty or not all(math.isfinite(v) for v in footprint.bounds):
        raise InputError(f"its extent cannot be expressed in lon/lat ({crs.name})", source=source)
    return footprint


def resolution_metres(transform: Affine, width: int, height: int, crs: CRS) -> float:
    """Ground size of a pixel at the grid centre: the side of a square of equal area.

    Degree grids get their pixel's geodesic extent at the scene centre (a 10 m Sentinel-2
    band resampled to EPSG:4326 near Paris is about 8.5 m by 12.9 m, i.e. ~10.5 m).
    """
    if crs.is_geographic:
        lon, lat = transform @ (width / 2, height / 2)
        geod = crs.get_geod() or WGS84.get_geod()
        assert geod is not None
        x_size = geod.inv(lon, lat, lon + transform.a, lat + transform.d)[2]
        y_size = geod.inv(lon, lat, lon + transform.b, lat + transform.e)[2]
    else:
        to_metres = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
        x_size = math.hypot(transform.a, transform.d) * to_metres
        y_size = math.hypot(transform.b, transform.e) * to_metres
    return math.sqrt(x_size * y_size)


def crs_label(crs: CRS) -> str:
    """``EPSG:nnnn`` when the CRS has an EPSG code, else its WKT2."""
    code = crs.to_epsg()
    return f"EPSG:{code}" if code is not None else crs.to_wkt()


def gdal_reason(error: BaseException) -> str:
    """The most specific message in a GDAL error chain (rasterio wraps the useful one)."""
    reason = str(error)
    cause = error.__cause__
    while cause is not None:
        if str(cause):
            reason = str(cause)
        cause = cause.__cause__
    return reason


def _read_last_blocks(dataset: rasterio.DatasetReader, path: Path) -> None:
    for band, (block_height, block_width) in enumerate(dataset.block_shapes, start=1):
        last_row = (dataset.height - 1) // block_height * block_height
        last_col = (dataset.width - 1) // block_width * block_width
        window = Window(
            last_col,
            last_row,
            min(block_width, dataset.width - last_col),
            min(block_height, dataset.height - last_row),
        )
        try:
            dataset.read(band, window=window)
        except RasterioError as error:
            raise InputError(
                f"truncated or corrupt: band {band} cannot be read ({gdal_reason(error)})",
                source=path,
            ) from None


def _pyproj_crs(wkt: str, path: Path) -> CRS:
    try:
        return CRS.from_wkt(wkt)
    except CRSError as error:
        raise InputError(f"has a CRS that PROJ cannot use ({error})", source=path) from None
