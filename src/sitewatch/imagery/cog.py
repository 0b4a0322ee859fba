"""Writing products: Cloud-Optimised GeoTIFFs, and files that appear whole or not at all.

Every raster sitewatch writes is a COG (tiled, compressed, with overviews) so that a viewer,
QGIS or a web map can read a corner or a zoomed-out view without the whole file, locally or
from object storage. Files are written under a temporary name in the target folder and
renamed at the end: a crash or a bad input never leaves a half-written product behind.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.shutil
from affine import Affine
from pyproj import CRS
from rasterio.crs import CRS as RasterioCRS
from rasterio.errors import NotGeoreferencedWarning

from sitewatch.files import atomic_output

COG_BLOCK_SIZE = 256
#: Lossless ZSTD at level 1 with the predictor: files within 1 % of DEFLATE's size, written
#: 2.3 times faster (4 Mpx float32 score: 0.43 s vs 1.0 s). GDAL >= 2.3, QGIS and
#: geotiff.js read it.
COG_COMPRESSION = {"COMPRESS": "ZSTD", "LEVEL": 1, "PREDICTOR": "YES"}
# Overviews stop once the smallest level fits in about this many pixels on its long side.
SMALLEST_OVERVIEW = 64


def overview_count(height: int, width: int) -> int:
    """How many 2x overview levels a raster gets: at least one, so every COG has overviews."""
    return max(1, math.floor(math.log2(max(height, width) / SMALLEST_OVERVIEW)))


def cog_options(height: int, width: int, overview_resampling: str) -> dict[str, Any]:
    """Creation options of every sitewatch COG (tiled, ZSTD, predictor, overviews)."""
    return {
        "BLOCKSIZE": COG_BLOCK_SIZE,
        **COG_COMPRESSION,
        "OVERVIEW_COUNT": overview_count(height, width),
        "OVERVIEW_RESAMPLING": overview_resampling,
    }


def copy_to_cog(source: Path, path: Path, *, overview_resampling: str = "AVERAGE") -> Path:
    """Make ``path`` a COG of the raster file ``source``, atomically, streaming.

    GDAL's COG driver builds the overviews and copies the blocks from the file on disk, so
    memory stays at GDAL's block cache whatever the raster size: this is how products
    larger than memory are written (write them by windows into a tiled GeoTIFF first).
    Georeferencing, nodata, band descriptions and tags are carried over from ``source``.
    """
    with rasterio.open(source) as dataset:
        options = cog_options(dataset.height, dataset.width, overview_resampling)
    with atomic_output(path, make_folder=True) as temporary, warnings.catch_warnings():
        # Pixel-space products have no CRS on purpose.
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        rasterio.shutil.copy(source, temporary, driver="COG", **options)
    return path


def write_cog(
    path: Path,
    data: np.ndarray,
    *,
    crs: CRS | str,
    transform: Affine,
    nodata: float | None = None,
    band_names: Sequence[str] | None = None,
    tags: Mapping[str, Any] | None = None,
    overview_resampling: str = "AVERAGE",
) -> Path:
    """Write ``data`` (band, y, x) as a compressed COG with overviews, atomically.

    ``band_names`` become the band descriptions; ``tags`` go to the file's metadata (a
    ``TIFFTAG_DATETIME`` tag becomes the TIFF DateTime field). Use
    ``overview_resampling="NEAREST"`` for masks and classes. The array goes through a
    tiled GeoTIFF on disk and :func:`copy_to_cog`, the one way sitewatch makes COGs.
    """
    if data.ndim != 3:
        raise ValueError(f"expected a (band, y, x) array, got shape {data.shape}")
    count, height, width = data.shape
    profile = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": count,
        "dtype": data.dtype.name,
        "crs": RasterioCRS.from_user_input(crs),
        "transform": transform,
        "nodata": nodata,
        "tiled": True,
        "blockxsize": COG_BLOCK_SIZE,
        "blockysize": COG_BLOCK_SIZE,
    }
    tiled = path.with_name(f".{path.name}.{os.getpid()}.tiled.tif")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with rasterio.open(tiled, "w", **profile) as dst:
            dst.write(data)
            for index, name in enumerate(band_names or (), start=1):
                dst.set_band_description(index, name)
            if tags:
                dst.update_tags(**{key: str(value) for key, value in tags.items()})
        copy_to_cog(tiled, path, overview_resampling=overview_resampling)
    finally:
        tiled.unlink(missing_ok=True)
    return path
