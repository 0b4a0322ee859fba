"""Real OSCD scenes and small per-band folders written from them for the detect tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.windows import Window

from tests.conftest import shared_data

BANDS = ("B02", "B03", "B04", "B08")


def oscd_city(city: str) -> Path:
    return shared_data("oscd", "images", city)


def band_file(folder: Path, band: str) -> Path:
    (match,) = sorted(folder.glob(f"*_{band}.tif"))
    return match


def write_bands(folder: Path, bands: dict[str, np.ndarray], crs: object, transform: Affine) -> Path:
    """One GeoTIFF per band named like Sentinel-2 files (``..._B02.tif``)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in bands.items():
        profile = {
            "driver": "GTiff",
            "width": data.shape[1],
            "height": data.shape[0],
            "count": 1,
            "dtype": data.dtype.name,
            "crs": crs,
            "transform": transform,
        }
        with rasterio.open(folder / f"T00XXX_{name}.tif", "w", **profile) as dst:
            dst.write(data, 1)
    return folder


def crop_of(
    city: str, folder: str, size: int = 160
) -> tuple[dict[str, np.ndarray], object, Affine]:
    """The top-left ``size`` px of a city's 10 m bands: arrays, CRS, transform."""
    arrays = {}
    for band in BANDS:
        with rasterio.open(band_file(oscd_city(city) / folder, band)) as source:
            window = Window(0, 0, size, size)
            arrays[band] = source.read(1, window=window)
            crs, transform = source.crs, source.window_transform(window)
    return arrays, crs, transform
