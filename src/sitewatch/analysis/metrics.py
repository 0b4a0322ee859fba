"""Accuracy of a change mask against reference labels, for the change class.

Change is rare (0.3 % to 4 % of OSCD pixels), so overall accuracy says nothing: we count
the confusion of the change class and derive precision, recall, F1 and IoU from it.
Counts add up, so scores pooled over several cities are computed from summed counts
(each pixel weighs the same), not by averaging per-city F1s.

NaN safety: pixels that are NaN in a float prediction or truth, or set in ``ignore``,
are left out of the counts; a ratio whose denominator is zero is NaN, not an error.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

import numpy as np

from sitewatch.errors import InputError


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else float("nan")


@dataclass(frozen=True)
class ConfusionCounts:
    """Pixel counts of the change class: true/false positives and negatives."""

    true_positive: int = 0
    false_positive: int = 0
    false_negative: int = 0
    true_negative: int = 0

    def __add__(self, other: ConfusionCounts) -> ConfusionCounts:
        return ConfusionCounts(
            self.true_positive + other.true_positive,
            self.false_positive + other.false_positive,
            self.false_negative + other.false_negative,
            self.true_negative + other.true_negative,
        )

    @property
    def precision(self) -> float:
        return _ratio(self.true_positive, self.true_positive + self.false_positive)

    @property
    def recall(self) -> float:
        return _ratio(self.true_positive, self.true_positive + self.false_negative)

    @property
    def f1(self) -> float:
        hits = 2 * self.true_positive
        return _ratio(hits, hits + self.false_positive + self.false_negative)

    @property
    def iou(self) -> float:
        union = self.true_positive + self.false_positive + self.false_negative
        return _ratio(self.true_positive, union)

    def as_dict(self) -> dict[str, float]:
        """Counts and scores, ready for JSON (NaN scores become None)."""
        scores = {
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "iou": self.iou,
        }
        cleaned = {name: (None if np.isnan(value) else value) for name, value in scores.items()}
        return {**asdict(self), **cleaned}


def _as_classes(array: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(is change, is known) of a bool, integer or float map (NaN = unknown)."""
    values = np.asarray(array)
    if np.issubdtype(values.dtype, np.floating):
        known = ~np.isnan(values)
        return (values != 0) & known, known
    if values.dtype == bool or np.issubdtype(values.dtype, np.integer):
        return values.astype(bool), np.ones(values.shape, dtype=bool)
    raise InputError(f"expected a bool, integer or float map, got dtype {values.dtype}", item=name)


def confusion(
    predicted: np.ndarray, truth: np.ndarray, ignore: np.ndarray | None = None
) -> ConfusionCounts:
    """Confusion counts of ``predicted`` change against ``truth`` (nonzero = change)."""
    if np.shape(predicted) != np.shape(truth):
        raise InputError(
            f"prediction {np.shape(predicted)} and truth {np.shape(truth)} differ in shape",
            item="truth",
        )
    change, known_prediction = _as_classes(predicted, "predicted")
    actual, known_truth = _as_classes(truth, "truth")
    counted = known_prediction & known_truth
    if ignore is not None:
        if np.shape(ignore) != np.shape(truth):
            raise InputError(f"ignore mask {np.shape(ignore)} differs from truth", item="ignore")
        counted &= ~np.asarray(ignore, dtype=bool)
    positive = change & counted
    negative = ~change & counted
    return ConfusionCounts(
        true_positive=int(np.count_nonzero(positive & actual)),
        false_positive=int(np.count_nonzero(positive & ~actual)),
        false_negative=int(np.count_nonzero(negative & actual)),
        true_negative=int(np.count_nonzero(negative & ~actual)),
    )


def pooled(counts: Iterable[ConfusionCounts]) -> ConfusionCounts:
    """Counts summed over several areas (e.g. cities): the basis of pooled scores."""
    return sum(counts, ConfusionCounts())
