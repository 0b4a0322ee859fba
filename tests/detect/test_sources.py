from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.enums import Resampling
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window

from sitewatch.analysis.coregister import Shift
from sitewatch.detect.sources import BandFile, FilePair, shifted_window

TRANSFORM = Affine(10, 0, 500_000, 0, -10, 5_000_000)


def textured_band(path: Path) -> None:
    rows, cols = np.mgrid[0:80, 0:90]
    values = (1000 + 300 * np.sin(rows / 3.0) * np.cos(cols / 4.0) + rows * 7).astype(np.uint16)
    values[30:34, 40:45] = 0  # a nodata hole (the Sentinel-2 L1C convention)
    profile = {
        "driver": "GTiff",
        "width": 90,
        "height": 80,
        "count": 1,
        "dtype": "uint16",
        "crs": "EPSG:32632",
        "transform": TRANSFORM,
    }
    with rasterio.open(path, "w", **profile) as dataset:
        dataset.write(values, 1)


@pytest.mark.parametrize("dy, dx", [(0.02, -0.54), (1.3, 0.7), (-2.25, 0.0), (0.5, -1.5)])
@pytest.mark.parametrize("window", [Window(0, 0, 90, 80), Window(20, 10, 37, 41)])
def test_shifted_window_equals_gdal_bilinear_warp(
    tmp_path: Path, dy: float, dx: float, window: Window
) -> None:
    path = tmp_path / "band.tif"
    textured_band(path)
    with rasterio.open(path) as dataset:
        warped = WarpedVRT(
            dataset,
            crs=dataset.crs,
            transform=TRANSFORM @ Affine.translation(dx, dy),
            width=dataset.width,
            height=dataset.height,
            resampling=Resampling.bilinear,
            src_nodata=0,
            nodata=np.nan,
            dtype="float32",
        )
        with warped:
            expected = warped.read(1, window=window)
        found = shifted_window(dataset, 1, window, 0.0, Shift(dy, dx, 1.0))
    assert found.shape == expected.shape
    # Same pixels compared (raster borders and the hole's rim included), same values.
    np.testing.assert_array_equal(np.isfinite(found), np.isfinite(expected))
    np.testing.assert_allclose(found, expected, rtol=1e-5, equal_nan=True)


def test_reads_past_the_grid_edge_stop_at_it_shifted_or_not(tmp_path: Path) -> None:
    path = tmp_path / "band.tif"
    textured_band(path)
    band = BandFile(path, 1, "B08")
    with FilePair(path, path, [band], [band]) as pair:
        before, after = pair.read(slice(40, 1064), slice(0, 1024))
        assert before.shape == after.shape == (1, 40, 90)
        np.testing.assert_array_equal(before, after)
        assert pair.correct(Shift(0.25, -0.5, 1.0))
        before, after = pair.read(slice(40, 1064), slice(0, 1024))
        assert before.shape == after.shape == (1, 40, 90)
        assert np.isfinite(after[0, :-1, 1:]).mean() > 0.9
