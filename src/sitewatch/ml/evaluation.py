"""Accuracy of the packaged (or any) siamese weights on OSCD cities, with onnxruntime only.

Scores are thresholded at the model card's threshold (chosen on held-out training data),
and counted with :mod:`sitewatch.analysis.metrics`; pooled scores come from summed counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sitewatch.analysis.metrics import ConfusionCounts, confusion, pooled
from sitewatch.analysis.siamese import WEIGHT_BANDS, SiameseChange
from sitewatch.ml.oscd import VALIDATION_CITIES, load_city


def evaluate_method(
    method: SiameseChange,
    cities: Sequence[str] = VALIDATION_CITIES,
    root: str | Path | None = None,
    scores_dir: Path | None = None,
) -> dict[str, ConfusionCounts]:
    """Change-class confusion counts per city at the method's threshold.

    With ``scores_dir``, each city's score map is also saved there as ``<city>.npy``
    (float16), so later studies can reuse exactly these predictions.
    """
    counts = {}
    for city in cities:
        before, after, label = load_city(city, WEIGHT_BANDS[method.weights], root)
        if label is None:
            continue
        result = method.score(before, after)
        if scores_dir is not None:
            np.save(scores_dir / f"{city}.npy", result.score.astype(np.float16))
        counts[city] = confusion(result.score >= method.threshold, label, ignore=~result.valid)
    return counts


def evaluate_weights(
    weights: str = "s2-10",
    cities: Sequence[str] = VALIDATION_CITIES,
    root: str | Path | None = None,
    model_dir: Path | None = None,
    threads: int = 1,
) -> dict[str, Any]:
    """Per-city and pooled precision, recall, F1 and IoU of one weight set (JSON-ready)."""
    method = SiameseChange(bands=WEIGHT_BANDS[weights], threads=threads, model_dir=model_dir)
    counts = evaluate_method(method, cities, root)
    return {
        "weights": method.weights,
        "model": str(method.model_path),
        "threshold": method.threshold,
        "cities": {city: count.as_dict() for city, count in counts.items()},
        "pooled": pooled(counts.values()).as_dict(),
    }
