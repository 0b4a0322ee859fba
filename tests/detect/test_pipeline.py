"""The shared pipeline on arrays: tiling does not change the result."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from affine import Affine
from pyproj import CRS

from sitewatch.detect.pipeline import DetectionOptions, run_detection
from sitewatch.detect.sources import ArrayPair, Grid
from sitewatch.errors import InputError
from tests.analysis.conftest import pair_with_block


def _source() -> ArrayPair:
    before, after, _ = pair_with_block()
    before[:, :5, :7] = np.nan  # some nodata, so tiles differ in what they hold
    grid = Grid(
        width=before.shape[2],
        height=before.shape[1],
        crs=CRS.from_epsg(32631),
        transform=Affine(10, 0, 500000, 0, -10, 5000000),
        pixel_size_m=10.0,
    )
    return ArrayPair(before, after, grid, ["blue", "green", "red", "nir"])


@pytest.mark.parametrize("method", ["irmad", "cva"])
def test_tiled_run_equals_one_tile_run(tmp_path: Path, method: str) -> None:
    (tmp_path / "whole").mkdir()
    (tmp_path / "tiled").mkdir()
    whole = run_detection(
        _source(), DetectionOptions(method=method, tile_size=4096), tmp_path / "whole"
    )
    # 40 px tiles and strips: the path large rasters take (regions cross strip borders).
    tiled = run_detection(
        _source(),
        DetectionOptions(method=method, tile_size=40, in_memory_pixels=1000),
        tmp_path / "tiled",
    )
    np.testing.assert_allclose(tiled.read_score(), whole.read_score(), atol=1e-5, equal_nan=True)
    assert tiled.threshold == pytest.approx(whole.threshold, abs=1e-6)
    whole_mask = whole.read_mask()
    assert np.array_equal(tiled.read_mask(), whole_mask)
    assert tiled.summary["object_count"] == whole.summary["object_count"] >= 1
    assert sorted(item.pixel_count for item in tiled.objects) == sorted(
        item.pixel_count for item in whole.objects
    )
    assert sum(item.area_m2 for item in tiled.objects) == pytest.approx(
        sum(item.area_m2 for item in whole.objects)
    )
    # The brighter block of pair_with_block (60:90, 80:120) is found.
    assert whole_mask[60:90, 80:120].mean() > 0.9 and whole_mask[:5, :7].max() == 255


def test_unknown_method_is_the_registry_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown change method 'nosuch'"):
        run_detection(_source(), DetectionOptions(method="nosuch"), tmp_path)


def test_the_service_refuses_a_threshold_that_is_no_probability() -> None:
    """The range lived only in cli/detect.py; the web routes build the same options."""
    with pytest.raises(InputError, match=r"^--threshold: 1\.5 is out of range"):
        DetectionOptions(threshold=1.5)
