from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from sitewatch.analysis.coregister import Shift, correct_shift, estimate_shift
from sitewatch.errors import InputError
from tests.analysis.conftest import load_oscd_pair


def shifted(image: np.ndarray, dy: float, dx: float) -> np.ndarray:
    return ndimage.shift(image, (0, dy, dx), order=3, mode="reflect").astype(np.float32)


def test_identical_images_have_no_shift_and_full_peak(texture: np.ndarray) -> None:
    shift = estimate_shift(texture, texture)
    assert (shift.dy, shift.dx) == (0.0, 0.0)
    assert shift.peak == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize(("dy", "dx"), [(2.3, -1.7), (-0.4, 0.25), (5.0, 3.6)])
def test_subpixel_shift_is_found_to_a_tenth_of_a_pixel(
    texture: np.ndarray, dy: float, dx: float
) -> None:
    shift = estimate_shift(texture, shifted(texture, dy, dx))
    assert shift.dy == pytest.approx(dy, abs=0.1)
    assert shift.dx == pytest.approx(dx, abs=0.1)


def test_corrected_copy_is_realigned_to_a_tenth_of_a_pixel(texture: np.ndarray) -> None:
    moving = shifted(texture, 2.3, -1.7)
    realigned = correct_shift(moving, estimate_shift(texture, moving), order=3)
    residual = estimate_shift(texture, realigned)
    assert residual.pixels < 0.1
    # moving back up and right uncovers the last rows and the first column: nodata
    assert np.isnan(realigned[:, -2:, :]).all()
    assert np.isnan(realigned[:, :, :1]).all()
    inner = (slice(None), slice(10, -10), slice(10, -10))
    assert np.abs(realigned[inner] - texture[inner]).max() < 0.01


def test_residual_in_metres() -> None:
    assert Shift(dy=0.3, dx=0.4, peak=1.0).metres(10.0) == pytest.approx(5.0)
    assert Shift(dy=1.0, dx=1.0, peak=1.0).metres((20.0, 10.0)) == pytest.approx(np.hypot(20, 10))


def test_nodata_is_tolerated_and_kept_out_of_the_correction(texture: np.ndarray) -> None:
    moving = shifted(texture, 1.5, 0.5)
    moving[:, 40:60, 50:90] = np.nan
    shift = estimate_shift(texture, moving)
    assert shift.dy == pytest.approx(1.5, abs=0.15)
    corrected = correct_shift(moving, shift)
    assert np.isnan(corrected[:, 45, 60]).all()


def test_differing_grids_are_an_input_error(texture: np.ndarray) -> None:
    with pytest.raises(InputError, match="differ in grid shape"):
        estimate_shift(texture, texture[:, :-3, :])


def test_all_nodata_is_an_input_error(texture: np.ndarray) -> None:
    with pytest.raises(InputError, match="no valid pixel"):
        estimate_shift(texture, np.full_like(texture, np.nan))


def test_oscd_rennes_dates_are_coregistered_within_half_a_pixel() -> None:
    before, after, _ = load_oscd_pair("rennes")
    shift = estimate_shift(before, after)
    assert shift.pixels < 0.5
    assert shift.peak > 0.3
