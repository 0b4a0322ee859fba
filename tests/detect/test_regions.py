"""Strip-wise clean-up and regions give what the whole raster gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from pyproj import CRS
from scipy import ndimage

from sitewatch import analysis
from sitewatch.analysis.vegetation import STRUCTURAL, VEGETATION, VegetationRule
from sitewatch.detect.object_table import ObjectTable
from sitewatch.detect.pipeline import _clean_in_strips
from sitewatch.detect.regions import (
    MASK_NODATA,
    MASK_VEGETATION,
    LeftOut,
    VegetationFilter,
    change_objects,
)
from sitewatch.detect.sources import Grid, open_tiled

GRID = Grid(
    width=90,
    height=70,
    crs=CRS.from_epsg(32631),
    transform=Affine(10, 0, 500000, 0, -10, 5000000),
    pixel_size_m=10.0,
)


def _random_mask() -> np.ndarray:
    """Blobs of many sizes (some long and winding), a nodata corner."""
    rng = np.random.default_rng(7)
    noise = ndimage.gaussian_filter(rng.normal(size=(GRID.height, GRID.width)), 1.5)
    mask = (noise > 0.08).astype(np.uint8)
    mask[:6, :9] = MASK_NODATA
    return mask


def _objects(
    tmp_path: Path,
    mask: np.ndarray,
    strip: int,
    min_pixels: int,
    vegetation: VegetationFilter | None = None,
):
    return _objects_and_left_out(tmp_path, mask, strip, min_pixels, vegetation)[0]


def _objects_and_left_out(
    tmp_path: Path,
    mask: np.ndarray,
    strip: int,
    min_pixels: int,
    vegetation: VegetationFilter | None = None,
):
    tmp_path.mkdir()
    score = np.linspace(0, 1, mask.size, dtype=np.float32).reshape(mask.shape)
    direction = np.where(score > 0.5, 1, -1).astype(np.int8)
    with open_tiled(tmp_path / "s.tif", GRID, "float32", float("nan")) as out:
        out.write(score, 1)
    with open_tiled(tmp_path / "d.tif", GRID, "int8", None) as out:
        out.write(direction, 1)
    table = ObjectTable(tmp_path / "objects.features")
    paths = (tmp_path / "s.tif", tmp_path / "d.tif", tmp_path / "m.tif")
    objects, left_out = change_objects(mask, min_pixels, GRID, strip, *paths, table, vegetation)
    return list(objects), left_out


def test_clean_in_strips_equals_whole_raster_clean() -> None:
    mask = _random_mask()
    expected = analysis.clean(mask == 1, opening=1, closing=2)
    expected = np.where(mask == MASK_NODATA, MASK_NODATA, expected).astype(np.uint8)
    for strip in (5, 13, 70):
        cleaned = mask.copy()
        _clean_in_strips(cleaned, 1, 2, strip)
        np.testing.assert_array_equal(cleaned, expected)


def test_regions_in_strips_equal_whole_raster_regions(tmp_path: Path) -> None:
    mask = _random_mask()
    whole_mask = mask.copy()
    whole = _objects(tmp_path / "whole", whole_mask, GRID.height, min_pixels=6)
    strips_mask = mask.copy()
    strips = _objects(tmp_path / "strips", strips_mask, 6, min_pixels=6)
    expected = analysis.remove_small_objects(mask == 1, 6)
    assert np.array_equal(whole_mask == 1, expected)
    assert np.array_equal(strips_mask, whole_mask)
    assert len(strips) == len(whole) > 10
    # Regions taller than a strip (6 rows of 10 m, in degrees of latitude) exist, so the
    # join across strip borders is exercised.
    assert max(item.geometry.bounds[3] - item.geometry.bounds[1] for item in whole) > 6 * 10 / 1e5
    for found, truth in zip(strips, whole, strict=True):
        assert found.pixel_count == truth.pixel_count
        assert found.max_score == truth.max_score
        assert found.mean_score == pytest.approx(truth.mean_score, abs=1e-6)
        assert found.direction == truth.direction
        assert found.area_m2 == pytest.approx(truth.area_m2, rel=1e-9)
        assert found.geometry.equals_exact(truth.geometry, tolerance=1e-9)


def _marked_mask() -> np.ndarray:
    """The random mask with the left half of its changed pixels marked vegetation-phase,
    so objects straddling the middle column have shares between 0 and 1."""
    mask = _random_mask()
    left = np.zeros(mask.shape, dtype=bool)
    left[:, : GRID.width // 2] = True
    mask[(mask == 1) & left] = MASK_VEGETATION
    return mask


@pytest.mark.parametrize("keep", [False, True])
def test_vegetation_classes_in_strips_equal_whole_raster(tmp_path: Path, keep: bool) -> None:
    rule = VegetationRule(vegetated=0.4, floor=0.2, share=0.5)
    vegetation = VegetationFilter(rule, keep=keep)
    whole_mask, strips_mask = _marked_mask(), _marked_mask()
    whole, whole_out = _objects_and_left_out(
        tmp_path / "whole", whole_mask, GRID.height, 6, vegetation
    )
    strips, strips_out = _objects_and_left_out(tmp_path / "strips", strips_mask, 6, 6, vegetation)
    assert strips_out == whole_out and whole_out.objects > 0
    with rasterio.open(tmp_path / "whole" / "m.tif") as product:
        written = product.read(1)
    assert set(np.unique(written)) <= {0, 1, MASK_NODATA}  # the product holds no marks
    assert len(strips) == len(whole)
    for found, truth in zip(strips, whole, strict=True):
        assert found.change_class == truth.change_class
        assert found.vegetation_share == pytest.approx(truth.vegetation_share)
    classes = {item.change_class for item in whole}
    assert classes == ({STRUCTURAL, VEGETATION} if keep else {STRUCTURAL})
    assert all((i.vegetation_share >= 0.5) == (i.change_class == VEGETATION) for i in whole)
    if keep:
        assert whole_out.pixels == sum(i.pixel_count for i in whole if i.change_class == VEGETATION)
    else:
        # Left out means cleared from the mask: what remains is the structural objects.
        assert int(np.count_nonzero(written == 1)) == sum(item.pixel_count for item in whole)


def test_without_a_vegetation_test_objects_carry_no_class(tmp_path: Path) -> None:
    objects, left_out = _objects_and_left_out(tmp_path / "none", _random_mask(), 6, 6)
    assert left_out == LeftOut()
    assert {item.change_class for item in objects} == {None}
