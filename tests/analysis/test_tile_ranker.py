"""The tile ranker's change features of a scored tile, on synthetic arrays."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sitewatch.analysis import tile_ranker
from sitewatch.errors import InputError

BANDS = ["B02", "B03", "B04", "B08"]
SIZE = 32
#: Reflectance x 10000 of blue, green, red, NIR.
MEADOW = (400.0, 700.0, 500.0, 3000.0)  # NDVI 2500 / 3500
CONCRETE = (1800.0, 1900.0, 2000.0, 2500.0)  # NDVI 500 / 4500
WATER = (600.0, 800.0, 500.0, 300.0)  # NDWI 500 / 1100


def scene(cover: tuple[float, ...]) -> np.ndarray:
    return np.stack([np.full((SIZE, SIZE), value, np.float32) for value in cover])


def features(before, after, changed, *, usable=None, direction=None, objects=1) -> dict:
    usable = np.ones((SIZE, SIZE), bool) if usable is None else usable
    direction = np.where(changed, 1, 0).astype(np.int8) if direction is None else direction
    significance = np.where(changed, 6.0, 1.0).astype(np.float32)
    values = tile_ranker.change_features(
        before, after, BANDS, usable, significance, changed, direction, objects, 10.0
    )
    return dict(zip(tile_ranker.FEATURE_NAMES, values, strict=True))


def construction_tile() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A meadow where an 8 x 8 px block became concrete."""
    before, after = scene(MEADOW), scene(MEADOW)
    changed = np.zeros((SIZE, SIZE), bool)
    changed[8:16, 8:16] = True
    after[:, changed] = np.array(CONCRETE, np.float32)[:, None]
    return before, after, changed


def test_features_of_a_block_of_new_concrete_in_a_meadow() -> None:
    before, after, changed = construction_tile()
    found = features(before, after, changed)
    share = 64 / SIZE**2
    assert found["log_changed"] == pytest.approx(math.log10(share + 1e-3))
    assert found["sig_mean"] == pytest.approx(share * 6 + (1 - share) * 1)
    assert found["bright_ratio_changed"] == pytest.approx(math.log(1900 / 533.3333), rel=1e-5)
    ndvi_meadow, ndvi_concrete = 2500 / 3500, 500 / 4500
    assert found["ndvi_after_changed"] == pytest.approx(ndvi_concrete, rel=1e-5)
    assert found["ndvi_drop_changed"] == pytest.approx(ndvi_meadow - ndvi_concrete, rel=1e-5)
    assert found["gain_share_changed"] == 1.0
    assert found["ndvi_after_tile"] == pytest.approx(
        share * ndvi_concrete + (1 - share) * ndvi_meadow, rel=1e-5
    )
    # concrete is not vegetation and is a gain: both shares are the changed share
    assert found["log_lowveg_changed"] == pytest.approx(found["log_changed"])
    assert found["log_construct_changed"] == pytest.approx(found["log_changed"])
    assert found["log_mean_object_area"] == pytest.approx(math.log10(1 + 64))
    assert found["edge_ratio"] == 0.0  # a flat meadow has no edges: no ratio to take
    assert found["water_after"] == 0.0


def test_a_tile_without_change_has_the_floor_values() -> None:
    before = scene(MEADOW)
    found = features(before, before.copy(), np.zeros((SIZE, SIZE), bool))
    assert found["log_changed"] == pytest.approx(-3.0)
    assert found["log_construct_changed"] == pytest.approx(-3.0)
    for name in ("bright_ratio_changed", "ndvi_drop_changed", "gain_share_changed"):
        assert found[name] == 0.0
    assert found["edge_ratio"] == 0.0  # a flat tile has no edges on either date


def test_edge_ratio_doubles_with_a_second_step() -> None:
    before = scene(MEADOW)
    before[:3, :, 10:] += 100  # one step in brightness along each row
    after = before.copy()
    after[:3, :, 20:] += 100  # a second, equal step
    found = features(before, after, np.zeros((SIZE, SIZE), bool))
    assert found["edge_ratio"] == pytest.approx(math.log(2))


def test_water_share_counts_only_usable_pixels() -> None:
    before = scene(MEADOW)
    after = scene(MEADOW)
    after[:, :8, :] = np.array(WATER, np.float32)[:, None, None]
    usable = np.ones((SIZE, SIZE), bool)
    usable[:4] = False
    found = features(before, after, np.zeros((SIZE, SIZE), bool), usable=usable)
    assert found["water_after"] == pytest.approx(4 * SIZE / (28 * SIZE))


def test_features_do_not_depend_on_the_reflectance_scale() -> None:
    before, after, changed = construction_tile()
    in_units = features(before, after, changed)
    in_reflectance = features(before * 1e-4, after * 1e-4, changed)
    for name in tile_ranker.FEATURE_NAMES:
        assert in_reflectance[name] == pytest.approx(in_units[name], rel=1e-4, abs=1e-6)


def test_features_need_the_visible_and_nir_bands() -> None:
    before, after, changed = construction_tile()
    with pytest.raises(InputError, match="B08"):
        tile_ranker.change_features(
            before[:3], after[:3], BANDS[:3], changed | True, after[0], changed, changed, 1, 10
        )
    assert tile_ranker.supports("cva", ["B08", "B04", "B03", "B02", "B11"])
    assert not tile_ranker.supports("irmad", BANDS)
    assert not tile_ranker.supports("cva", ["B02", "B03", "B04"])
