"""The shared pipeline on arrays: tiling does not change the result."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from affine import Affine
from pyproj import CRS

from sitewatch.analysis.water import WaterRule
from sitewatch.detect.pipeline import DetectionOptions, run_detection
from sitewatch.detect.sources import ArrayPair, Grid
from sitewatch.errors import InputError
from tests.analysis.conftest import pair_with_block, textured_image


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


FIELD = (slice(20, 50), slice(20, 60))  # vegetation, then bare soil: a harvest
SITE = (slice(90, 110), slice(120, 150))  # vegetation, then concrete: construction


def _sentinel2_pair(band_names: list[str]) -> ArrayPair:
    """Sentinel-2 reflectance (B02 B03 B04 B08) with a harvested field and a new site."""
    before = textured_image((4, 160, 200), seed=5)
    after = before + np.random.default_rng(6).normal(0, 0.003, before.shape).astype(np.float32)
    green = np.array([0.04, 0.07, 0.04, 0.40], dtype=np.float32)[:, None, None]
    before[(slice(None), *FIELD)] = green
    before[(slice(None), *SITE)] = green
    after[(slice(None), *FIELD)] = np.array([0.08, 0.11, 0.15, 0.25])[:, None, None]
    after[(slice(None), *SITE)] = np.array([0.20, 0.22, 0.25, 0.27])[:, None, None]
    return ArrayPair(before, after, _source().grid, band_names, reflectance_scale=1.0)


@pytest.mark.parametrize("keep", [False, True])
def test_vegetation_phase_change_is_left_out_unless_kept(tmp_path: Path, keep: bool) -> None:
    result = run_detection(
        _sentinel2_pair(["B02", "B03", "B04", "B08"]),
        DetectionOptions(keep_vegetation=keep),
        tmp_path,
    )
    mask = result.read_mask()
    assert mask[SITE].mean() > 0.9
    assert mask[FIELD].mean() > 0.9 if keep else mask[FIELD].max() == 0
    classes = {item.change_class for item in result.objects}
    assert classes == ({"structural", "vegetation"} if keep else {"structural"})
    step = result.steps["vegetation"]
    assert step["applied"] and step["vegetation_objects"] >= 1
    assert "left out" in result.summary["vegetation_filter"] or keep


def test_without_red_and_nir_the_filter_is_skipped_and_says_so(tmp_path: Path) -> None:
    result = run_detection(
        _sentinel2_pair(["B02", "B03", "B04", "B05"]), DetectionOptions(), tmp_path
    )
    assert result.summary["vegetation_filter"] == "skipped: needs bands B04 and B08"
    assert result.read_mask()[FIELD].mean() > 0.9  # nothing was filtered
    assert {item.change_class for item in result.objects} == {None}


LAKE = (slice(20, 50), slice(150, 190))  # open water on both dates, turbid after
PIER = (slice(120, 140), slice(20, 60))  # open water, then concrete


def _harbour_pair(band_names: list[str]) -> ArrayPair:
    """Sentinel-2 reflectance (B02 B03 B04 B08) with a lake turning turbid and a new pier."""
    before = textured_image((4, 160, 200), seed=8)
    after = before + np.random.default_rng(9).normal(0, 0.003, before.shape).astype(np.float32)
    clear_water = np.array([0.06, 0.08, 0.04, 0.02], dtype=np.float32)[:, None, None]
    before[(slice(None), *LAKE)] = clear_water
    before[(slice(None), *PIER)] = clear_water
    after[(slice(None), *LAKE)] = np.array([0.12, 0.16, 0.13, 0.05])[:, None, None]
    after[(slice(None), *PIER)] = np.array([0.20, 0.22, 0.25, 0.27])[:, None, None]
    return ArrayPair(before, after, _source().grid, band_names, reflectance_scale=1.0)


@pytest.mark.parametrize("keep", [False, True])
def test_change_on_water_of_both_dates_is_left_out_unless_kept(tmp_path: Path, keep: bool) -> None:
    result = run_detection(
        _harbour_pair(["B02", "B03", "B04", "B08"]),
        DetectionOptions(method="cva", keep_water=keep, water_rule=WaterRule(ndwi=0.2)),
        tmp_path,
    )
    mask = result.read_mask()
    assert mask[PIER].mean() > 0.9  # water became land: always stays
    assert mask[LAKE].mean() > 0.9 if keep else mask[LAKE].max() == 0
    step = result.steps["water"]
    lake_pixels = 30 * 40
    assert step["applied"] and lake_pixels * 0.9 <= step["water_pixels"] <= lake_pixels
    assert result.summary["water_mask"] == (
        f"{step['water_pixels']} changed px of open water on both dates "
        + ("kept" if keep else "left out")
    )


def test_without_green_and_nir_the_water_test_is_skipped_and_says_so(tmp_path: Path) -> None:
    result = run_detection(
        _harbour_pair(["B02", "B03", "B04", "B05"]), DetectionOptions(method="cva"), tmp_path
    )
    assert result.summary["water_mask"] == "skipped: needs bands B03 and B08"
    assert result.read_mask()[LAKE].mean() > 0.9
