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
from sitewatch.ml.oscd import load_city
from tests.conftest import shared_data

BANDS = ("B02", "B03", "B04", "B08")


def scene() -> np.ndarray:
    """4 x 4 pixels: vegetation, a bright white pixel, a bright red roof, one nodata pixel."""
    image = np.empty((4, 4, 4), dtype=np.float32)
    image[:] = np.array([0.04, 0.07, 0.05, 0.30], dtype=np.float32)[:, None, None]
    image[:, 0, 0] = [0.45, 0.44, 0.46, 0.50]  # bright and white, but one pixel: a roof
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


def field(side: int = 96) -> np.ndarray:
    """``side`` x ``side`` pixels of vegetation (B02, B03, B04, B08)."""
    pixel = np.array([0.04, 0.07, 0.05, 0.30], dtype=np.float32)
    return np.repeat(np.repeat(pixel[:, None, None], side, 1), side, 2)


def with_cloud(image: np.ndarray, centre: tuple[int, int], radius: float, peak: float) -> None:
    """Add a soft white blob: brightness falls off as a Gaussian, as a cumulus does."""
    rows, cols = np.indices(image.shape[1:])
    weight = np.exp(-((rows - centre[0]) ** 2 + (cols - centre[1]) ** 2) / (2 * radius**2))
    image[:] = image * (1 - weight) + peak * weight


def test_small_bright_white_roof_is_not_cloud() -> None:
    image = field()
    image[:, 40:50, 40:50] = np.array([0.45, 0.44, 0.46, 0.50])[:, None, None]  # 1 ha roof
    assert not cloud_mask_l1c(image, BANDS).any()
    # The old per-pixel test flagged all 100 pixels; the roof is the same, only larger:
    image[:, 20:70, 20:70] = np.array([0.45, 0.44, 0.46, 0.50])[:, None, None]
    assert cloud_mask_l1c(image, BANDS)[45, 45]


def test_large_soft_bright_blob_is_cloud_edges_included() -> None:
    image = field()
    with_cloud(image, (48, 48), radius=12, peak=0.5)
    cloud = cloud_mask_l1c(image, BANDS)
    assert cloud[48, 48]
    # Its soft edge, below the brightness threshold, is widened into the mask ...
    edge = (48, 48 + 20)
    assert image[0][edge] < 0.22 and cloud[edge]
    # ... but the widening stops about ten pixels beyond the bright part.
    assert not cloud[0, 0] and not cloud[48, 95]


def test_large_dim_concrete_pad_without_a_thick_core_is_not_cloud() -> None:
    image = field()
    image[:, 10:60, 10:60] = np.array([0.26, 0.27, 0.28, 0.30])[:, None, None]  # 25 ha pad
    assert not cloud_mask_l1c(image, BANDS).any()


def test_red_heavy_bright_surface_is_not_cloud_whatever_its_size() -> None:
    image = field()
    image[:, :, :] = np.array([0.34, 0.40, 0.50, 0.55])[:, None, None]  # bare soil, roofs
    assert not cloud_mask_l1c(image, BANDS).any()


def test_cirrus_band_flags_thin_high_cloud_pixel_by_pixel() -> None:
    image = np.concatenate([scene(), np.full((1, 4, 4), 0.002, dtype=np.float32)])
    image[4, 2, 2] = 0.03
    cloud = cloud_mask_l1c(image, (*BANDS, "B10"))
    assert cloud[2, 2] and cloud.sum() == 1


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
    image = field()
    with_cloud(image, (48, 48), radius=12, peak=0.5)
    image[:, 0, 0] = np.nan
    cloud = cloud_mask_l1c(image, BANDS)
    clear = clear_mask(image, cloud)
    assert clear.sum() == 96 * 96 - 1 - cloud.sum()
    assert not clear[0, 0] and not clear[48, 48] and clear[0, 95]


def test_all_nodata_and_fully_clouded_are_input_errors() -> None:
    with pytest.raises(InputError, match="entirely nodata"):
        clear_mask(np.full((2, 3, 3), np.nan, dtype=np.float32))
    with pytest.raises(InputError, match="fully clouded"):
        clear_mask(scene(), np.ones((4, 4), dtype=bool))
    with pytest.raises(InputError, match="mask shape"):
        clear_mask(scene(), np.ones((3, 4), dtype=bool))


# Real Sentinel-2 L1C (OSCD training cities only; never the validation cities). The old
# per-pixel test flagged 25.0 % of Cupertino's and 22.1 % of Paris's labelled change
# pixels (new roofs, concrete); the grouped test 3.5 % and 0.0 %. Bounds leave headroom.
@pytest.mark.parametrize(("city", "bound"), [("cupertino", 0.06), ("paris", 0.01)])
def test_new_roofs_of_training_cities_are_not_masked_as_cloud(city: str, bound: float) -> None:
    before, after, change = load_city(city, BANDS, shared_data("oscd"))
    assert change is not None
    masked = cloud_mask_l1c(before, BANDS) | cloud_mask_l1c(after, BANDS)
    assert masked[change].mean() < bound


# Paris's second date holds the only opaque cumulus of the OSCD training and unlabelled
# cities. Boxes: s2cloudless's cloud blobs there (probability averaged over a 22 px disk
# above 0.4). Measured: 93 % and 82 % of each box flagged (the old test 27 % and 29 %).
PARIS_CLOUDS = [(slice(25, 64), slice(302, 355)), (slice(334, 383), slice(165, 234))]


def test_real_cumulus_on_paris_second_date_is_flagged_edges_included() -> None:
    before, after, _ = load_city("paris", BANDS, shared_data("oscd"))
    clouded, clear = cloud_mask_l1c(after, BANDS), cloud_mask_l1c(before, BANDS)
    for box in PARIS_CLOUDS:
        assert clouded[box].mean() > 0.7
        assert clear[box].mean() < 0.02
