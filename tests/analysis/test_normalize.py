from __future__ import annotations

import numpy as np
import pytest

from sitewatch.analysis.methods import get_method
from sitewatch.analysis.metrics import confusion
from sitewatch.analysis.normalize import histogram_match, normalise, orthogonal_regression
from sitewatch.errors import InputError
from tests.analysis.conftest import pair_with_block


def test_orthogonal_regression_is_symmetric_and_unbiased() -> None:
    rng = np.random.default_rng(0)
    truth = rng.uniform(0, 1, 5000)
    x = truth + rng.normal(0, 0.05, truth.size)
    y = 2.0 * truth + 0.5 + rng.normal(0, 0.1, truth.size)
    gain, offset = orthogonal_regression(x, y)
    inverse_gain, _ = orthogonal_regression(y, x)
    assert gain * inverse_gain == pytest.approx(1.0)
    # ordinary least squares would give ~1.94 here (errors in x attenuate the slope)
    assert gain == pytest.approx(2.0, abs=0.03)
    assert offset == pytest.approx(0.5, abs=0.03)


def test_gain_and_offset_are_normalised_away() -> None:
    reference, target, _ = pair_with_block(step=0.0)
    result = normalise(reference, target)
    assert result.method == "irmad-orthogonal"
    np.testing.assert_allclose(result.gains, 1 / 1.3, rtol=0.01)
    np.testing.assert_allclose(result.offsets, -0.05 / 1.3, atol=0.003)
    residual = result.image - reference
    assert np.abs(residual).mean() < 0.004  # noise of 0.003 / 1.3, nothing systematic
    assert abs(residual.mean()) < 5e-4
    # after normalisation CVA sees no change beyond chance (uniform scores)
    score = get_method("cva").score(reference, result.image).score
    assert np.mean(score > 0.999) < 0.005


def test_changed_block_does_not_bias_the_fit_and_is_found_by_cva() -> None:
    reference, target, truth = pair_with_block(step=0.1)
    result = normalise(reference, target)
    np.testing.assert_allclose(result.gains, 1 / 1.3, rtol=0.01)
    score = get_method("cva").score(reference, result.image).score
    assert confusion(score > 0.999, truth).f1 >= 0.9


def test_histogram_matching_is_the_fallback_without_stable_pixels() -> None:
    reference, target, _ = pair_with_block(step=0.0)
    result = normalise(reference, target, min_pixels=10**9)
    assert result.method == "histogram" and np.isnan(result.gains).all()
    np.testing.assert_allclose(
        np.quantile(result.image, [0.1, 0.5, 0.9], axis=(1, 2)),
        np.quantile(reference, [0.1, 0.5, 0.9], axis=(1, 2)),
        atol=2e-3,
    )


def test_histogram_match_keeps_nodata() -> None:
    reference, target, _ = pair_with_block(step=0.0)
    target[:, 5, 5] = np.nan
    matched = histogram_match(reference, target)
    assert np.isnan(matched[:, 5, 5]).all() and np.isfinite(matched[:, 6, 6]).all()


def test_bad_input_is_an_input_error() -> None:
    reference, target, _ = pair_with_block()
    with pytest.raises(InputError, match="differ in shape"):
        normalise(reference, target[:3])
    with pytest.raises(InputError, match="no pixel is valid"):
        normalise(reference, np.full_like(target, np.nan))
