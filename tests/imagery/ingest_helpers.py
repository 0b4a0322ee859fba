"""Rasters for ingest tests: real OSCD scenes, and small files written to order."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import rasterio
from rasterio.crs import CRS
from rasterio.transform import Affine, from_origin

from tests.conftest import shared_data


def oscd_scene(city: str, number: int) -> Path:
    """``oscd/images/<city>/imgs_<number>``: a folder of 13 per-band Sentinel-2 files."""
    return shared_data("oscd", "images", city, f"imgs_{number}")


def oscd_band(city: str, number: int, band: str) -> Path:
    """The file of one band of an OSCD scene."""
    (path,) = oscd_scene(city, number).glob(f"*_{band}.tif")
    return path


def write_multiband(
    path: Path,
    band_files: Sequence[Path],
    *,
    descriptions: Sequence[str] | None = None,
    colour_interp: Sequence[str] | None = None,
    tags: dict[str, str] | None = None,
) -> Path:
    """A multi-band GeoTIFF stacking single-band files of one grid (e.g. OSCD 10 m bands)."""
    with rasterio.open(band_files[0]) as first:
        profile = first.profile | {"count": len(band_files), "driver": "GTiff"}
    with rasterio.open(path, "w", **profile) as out:
        for index, band_file in enumerate(band_files, start=1):
            with rasterio.open(band_file) as source:
                out.write(source.read(1), index)
            if descriptions:
                out.set_band_description(index, descriptions[index - 1])
        if colour_interp:
            out.colorinterp = [rasterio.enums.ColorInterp[name] for name in colour_interp]
        if tags:
            out.update_tags(**tags)
    return path


def write_small_tif(
    path: Path,
    *,
    crs: str | None = "EPSG:32631",
    transform: Affine | None = None,
    size: int = 32,
    count: int = 1,
    tags: dict[str, str] | None = None,
) -> Path:
    """A small uint16 GeoTIFF (a UTM 31N 10 m grid near Paris unless told otherwise)."""
    transform = transform or from_origin(448_000, 5_410_000, 10, 10)
    profile = {
        "driver": "GTiff",
        "width": size,
        "height": size,
        "count": count,
        "dtype": "uint16",
        "transform": transform,
        "crs": CRS.from_user_input(crs) if crs else None,
    }
    data = np.arange(size * size, dtype="uint16").reshape(size, size)
    with rasterio.open(path, "w", **profile) as out:
        for index in range(1, count + 1):
            out.write(data, index)
        if tags:
            out.update_tags(**tags)
    return path


def truncated_copy(source: Path, target: Path, keep: float = 0.6) -> Path:
    """The first ``keep`` fraction of ``source``'s bytes: an interrupted download."""
    data = source.read_bytes()
    target.write_bytes(data[: int(len(data) * keep)])
    return target


def write_sparse_tif(path: Path, *, size: int, count: int = 1) -> Path:
    """A size x size uint16 GeoTIFF whose blocks are never written (GDAL's SPARSE_OK):
    it declares ``size**2 * count * 2`` bytes of pixels in a file of block tables only."""
    profile = {
        "driver": "GTiff",
        "width": size,
        "height": size,
        "count": count,
        "dtype": "uint16",
        "transform": from_origin(448_000, 5_410_000, 10, 10),
        "crs": CRS.from_epsg(32631),
        "tiled": True,
        "blockxsize": 512,
        "blockysize": 512,
        "BIGTIFF": "YES",
        "SPARSE_OK": "TRUE",
    }
    with rasterio.Env(SPARSE_OK=True), rasterio.open(path, "w", **profile):
        pass
    return path
