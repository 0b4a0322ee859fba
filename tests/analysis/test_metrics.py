from __future__ import annotations

import math

import numpy as np
import pytest

from sitewatch.analysis.metrics import ConfusionCounts, confusion, pooled
from sitewatch.errors import InputError

PREDICTED = np.array([[1, 1, 0, 0], [1, 0, 0, 0]], dtype=bool)
TRUTH = np.array([[1, 0, 1, 0], [1, 0, 0, 0]], dtype=bool)


def test_counts_and_scores_match_a_hand_computation() -> None:
    counts = confusion(PREDICTED, TRUTH)
    assert counts == ConfusionCounts(
        true_positive=2, false_positive=1, false_negative=1, true_negative=4
    )
    assert counts.precision == pytest.approx(2 / 3)
    assert counts.recall == pytest.approx(2 / 3)
    assert counts.f1 == pytest.approx(2 / 3)
    assert counts.iou == pytest.approx(2 / 4)


def test_ignore_mask_and_nan_pixels_are_left_out() -> None:
    ignore = np.zeros(TRUTH.shape, dtype=bool)
    ignore[0, 1] = True  # the false positive
    truth = TRUTH.astype(np.float32)
    truth[0, 2] = np.nan  # the false negative
    counts = confusion(PREDICTED, truth, ignore)
    assert counts == ConfusionCounts(2, 0, 0, 4)
    assert counts.f1 == 1.0


def test_integer_labels_count_nonzero_as_change() -> None:
    assert confusion(PREDICTED.astype(np.uint8) * 255, TRUTH.astype(int)).true_positive == 2


def test_undefined_scores_are_nan_not_errors() -> None:
    counts = confusion(np.zeros((2, 2), bool), np.zeros((2, 2), bool))
    assert counts.true_negative == 4
    assert math.isnan(counts.precision) and math.isnan(counts.f1)
    assert counts.as_dict()["f1"] is None and counts.as_dict()["true_negative"] == 4


def test_pooled_counts_weigh_every_pixel_equally() -> None:
    city_a = ConfusionCounts(
        true_positive=90, false_positive=10, false_negative=0, true_negative=900
    )
    city_b = ConfusionCounts(
        true_positive=0, false_positive=0, false_negative=10, true_negative=990
    )
    total = pooled([city_a, city_b])
    assert total == city_a + city_b == ConfusionCounts(90, 10, 10, 1890)
    assert total.f1 == pytest.approx(180 / 200)
    assert pooled([]) == ConfusionCounts()


def test_bad_input_is_an_input_error() -> None:
    with pytest.raises(InputError, match="differ in shape"):
        confusion(PREDICTED, TRUTH[:, :3])
    with pytest.raises(InputError, match="ignore mask"):
        confusion(PREDICTED, TRUTH, np.zeros((3, 3), bool))
    with pytest.raises(InputError, match="dtype"):
        confusion(PREDICTED.astype(str), TRUTH)
