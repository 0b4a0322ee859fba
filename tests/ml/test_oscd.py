"""OSCD loading: both dates and the label on the first date's 10 m grid."""

from __future__ import annotations

import numpy as np
import pytest

from sitewatch.analysis.siamese import S2_10_BANDS
from sitewatch.errors import InputError
from sitewatch.ml.oscd import CV_FOLDS, LABELLED_CITIES, fold_cities, load_city
from tests.conftest import shared_data


def test_smaller_second_date_is_aligned_on_the_first_date_grid() -> None:
    # hongkong imgs_2 is 693 x 538 against 695 x 540 (same footprint, larger pixels).
    before, after, label = load_city("hongkong", ("B02", "B11"), shared_data("oscd"))
    assert before.shape == after.shape == (2, 695, 540)
    assert label.shape == (695, 540) and label.dtype == bool
    assert np.isfinite(after).all()
    assert 0.03 < label.mean() < 0.04  # 13 379 changed pixels of 375 300
    # Aligned dates correlate strongly in SWIR (mostly unchanged ground).
    assert np.corrcoef(before[1].ravel(), after[1].ravel())[0, 1] > 0.6


def test_reflectance_is_scaled_and_20m_bands_are_upsampled() -> None:
    before, _, _ = load_city("bercy", S2_10_BANDS, shared_data("oscd"))
    assert before.shape == (10, 395, 360) and before.dtype == np.float32
    assert 0.02 < float(np.nanmedian(before[0])) < 0.5


def test_unknown_city_is_an_input_error() -> None:
    with pytest.raises(InputError, match="no OSCD city 'atlantis'"):
        load_city("atlantis", ("B02",), shared_data("oscd"))


def test_folds_partition_the_labelled_cities() -> None:
    scored = [city for fold in range(1, 6) for city in fold_cities(fold)[1]]
    assert sorted(scored) == sorted(LABELLED_CITIES) and len(set(scored)) == 10
    for fold in range(1, 6):
        trained, held_out = fold_cities(fold)
        assert not set(trained) & set(held_out) and len(trained) == 8
    assert CV_FOLDS[0] == ("abudhabi", "nantes")  # the folds written in the benchmark


def test_a_fold_outside_one_to_five_is_refused() -> None:
    with pytest.raises(InputError, match="fold"):
        fold_cities(6)
