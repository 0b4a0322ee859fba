"""Fitting and choosing the tile ranker: the logistic fit and the ranking measure."""

from __future__ import annotations

import numpy as np
import pytest

from sitewatch.ml import ranker_fit


def test_the_fit_recovers_a_planted_signal() -> None:
    rng = np.random.default_rng(7)
    values = rng.normal(size=(4000, 3)) * [1.0, 2.0, 0.5] + [0.0, 1.0, -1.0]
    planted = np.array([1.5, -1.0, 0.0])  # per standard deviation
    logit = ((values - values.mean(0)) / values.std(0)) @ planted - 0.5
    labels = rng.random(4000) < 1 / (1 + np.exp(-logit))
    model = ranker_fit.fit_logistic(values, labels, 1e-6, ("a", "b", "c"))
    assert model.coefficients == pytest.approx(planted, abs=0.15)
    assert model.intercept == pytest.approx(-0.5, abs=0.15)
    weaker = ranker_fit.fit_logistic(values, labels, 1.0, ("a", "b", "c"))
    assert np.abs(weaker.coefficients).sum() < np.abs(model.coefficients).sum() / 2


def test_precision_counts_ties_by_their_share() -> None:
    scores = np.array([3.0, 2.0, 2.0, 2.0, 2.0, 1.0])
    labels = np.array([True, True, False, False, False, True])
    assert ranker_fit.precision_at(scores, labels, 1) == 1.0
    # rank 2 and 3 come from a group of four with one change: half a tile each is 0.25
    assert ranker_fit.precision_at(scores, labels, 3) == pytest.approx((1 + 2 * 0.25) / 3)
