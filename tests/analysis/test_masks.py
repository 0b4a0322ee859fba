from __future__ import annotations

import numpy as np
import pytest

from sitewatch.analysis.masks import (
    clear_mask,
    cloud_mask_from_classes,
    cloud_mask_l1c,
    reflectance_from_l1c,
    valid_mask,
)
from sitewatch.errors import InputError

BANDS = ("B02", "B03", "B04", "B08")


def scene() -> np.ndarray:
    """4 x 4 pixels: vegetation, a cloud, a bright red roof, and one nodata pixel."""
    image = np.empty((4, 4, 4), dtype=np.float32)
    image[:] = np.array([0.04, 0.07, 0.05, 0.30], dtype=np.float32)[:, None, None]
    image[:, 0, 0] = [0.45, 0.44, 0.46, 0.50]  # cloud: bright and white
    image[:, 1, 1] = [0.24, 0.30, 0.38, 0.40]  # bright but red-heavy roof: not cloud
    image[:, 3, 3] = np.nan
    return image


def test_reflectance_from_l1c_scales_and_marks_nodata() -> None:
    raw = np.array([[[0, 10000], [2500, 123]]], dtype=np.uint16)
    reflectance = reflectance_from_l1c(raw)
    assert reflectance.dtype == np.float32
    assert np.isnan(reflectance[0, 0, 0])
    np.testing.assert_allclose(reflectance[0].ravel()[1:], [1.0, 0.25, 0.0123], rtol=1e-6)


def test_valid_mask_requires_every_band() -> None:
    image = scene()
    image[2, 0, 1] = np.nan
    mask = valid_mask(image)
    assert mask.sum() == 14
    assert not mask[0, 1] and not mask[3, 3]


def test_bright_white_pixels_are_cloud_and_red_roofs_are_not() -> None:
    cloud = cloud_mask_l1c(scene(), BANDS)
    expected = np.zeros((4, 4), dtype=bool)
    expected[0, 0] = True
    np.testing.assert_array_equal(cloud, expected)


def test_cirrus_band_flags_thin_high_cloud() -> None:
    image = np.concatenate([scene(), np.full((1, 4, 4), 0.002, dtype=np.float32)])
    image[4, 2, 2] = 0.03
    cloud = cloud_mask_l1c(image, (*BANDS, "B10"))
    assert cloud[2, 2] and cloud[0, 0] and cloud.sum() == 2


def test_x10000_values_are_refused_with_a_hint() -> None:
    with pytest.raises(InputError, match="reflectance_from_l1c"):
        cloud_mask_l1c(scene() * 10000, BANDS)


def test_band_names_must_match_the_bands() -> None:
    with pytest.raises(InputError, match="3 band names given for 4 bands"):
        cloud_mask_l1c(scene(), BANDS[:3])
    with pytest.raises(InputError, match="B02, B03 and B04"):
        cloud_mask_l1c(scene(), ("B08", "B03", "B04", "B11"))


def test_scene_classification_band_gives_the_cloud_mask() -> None:
    scl = np.array([[4, 8], [9, 5]], dtype=np.uint8)
    np.testing.assert_array_equal(cloud_mask_from_classes(scl), [[False, True], [True, False]])


def test_clear_mask_combines_nodata_and_cloud() -> None:
    image = scene()
    clear = clear_mask(image, cloud_mask_l1c(image, BANDS))
    assert clear.sum() == 14 and not clear[0, 0] and not clear[3, 3]


def test_all_nodata_and_fully_clouded_are_input_errors() -> None:
    with pytest.raises(InputError, match="entirely nodata"):
        clear_mask(np.full((2, 3, 3), np.nan, dtype=np.float32))
    with pytest.raises(InputError, match="fully clouded"):
        clear_mask(scene(), np.ones((4, 4), dtype=bool))
    with pytest.raises(InputError, match="mask shape"):
        clear_mask(scene(), np.ones((3, 4), dtype=bool))
