"""City-level cross-validation of a siamese training recipe over the ten labelled OSCD cities.

Issue 15's protocol: the validation cities were looked at too often to choose anything on,
so every choice (recipe, method, default) is now made on out-of-fold predictions. The
cities of fold ``k`` (:data:`sitewatch.ml.oscd.CV_FOLDS`) are scored only by a network
trained on the other eight, whose checkpoint and threshold come from the held-out rows
of those eight (:mod:`sitewatch.ml.training`), exported to ONNX and run by the same
:class:`~sitewatch.analysis.siamese.SiameseChange` that detection runs. Pooled counts over
the ten cities' out-of-fold predictions are the number reported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sitewatch.analysis.metrics import ConfusionCounts, confusion
from sitewatch.analysis.siamese import MODEL_FILES, WEIGHT_BANDS, SiameseChange
from sitewatch.ml.card import write_model_card
from sitewatch.ml.evaluation import evaluate_method
from sitewatch.ml.export import export_onnx
from sitewatch.ml.oscd import fold_cities, load_city
from sitewatch.ml.training import (
    TrainingConfig,
    TrainingResult,
    load_training_scenes,
    prepare_scene,
    scene_probability,
    train,
)

#: The recipe of the ``s2-10`` weights shipped before issue 15: 30 epochs of 50 steps
#: (1,500 steps of 8 crops of 128 px) on one thread, regularised (dropout, weight decay,
#: stronger radiometric jitter) because that beat the plain recipe on held-out rows.
CARD_RECIPE = TrainingConfig(
    epochs=30,
    minutes=25.0,
    crop=128,
    weight_decay=1e-3,
    dropout=0.1,
    gain_jitter=0.15,
    offset_jitter=0.15,
    threads=1,
)
#: The recipes compared by cross-validation, each fixed before its first run.
#: ``card``: :data:`CARD_RECIPE`.
#: ``long``: the same with three times the steps (4,500); the card's best epoch was 22 of
#: 30 with the held-out F1 still rising, and a step costs 0.16 s on one core, so the
#: 30-minute budget per fold allows it. Nothing else differs, so the comparison says
#: what the longer schedule alone is worth.
#: ``cva-input``: ``long`` with CVA's significance fed beside the images
#: (:func:`sitewatch.ml.training.cva_significance_map`, the model's ``pair_channels``).
#: Out of fold the network fails on the one city unlike the others (abudhabi, F1 0.005,
#: 0.16 at the best threshold in hindsight) where CVA, fitted on each scene, scores 0.29:
#: the scene-relative classical evidence is what its features do not carry to a new city.
#: Scored in torch over each whole city (one pass, no windows; the detection path has no
#: pair maps yet), so its row compares with the network alone of the other recipes.
LONG_RECIPE = replace(CARD_RECIPE, epochs=90, minutes=29.0)
RECIPES: dict[str, TrainingConfig] = {
    "card": CARD_RECIPE,
    "long": LONG_RECIPE,
    "cva-input": replace(LONG_RECIPE, pair_input="cva"),
}


@dataclass(frozen=True)
class FoldOutcome:
    """What one fold's network did on the two cities it never saw."""

    fold: int
    recipe: str
    train_cities: tuple[str, ...]
    test_cities: tuple[str, ...]
    threshold: float
    holdout_f1: float
    best_epoch: int
    epochs_run: int
    training_seconds: float
    counts: dict[str, ConfusionCounts]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, counts as per-city dictionaries."""
        facts = asdict(self)
        facts["counts"] = {city: count.as_dict() for city, count in self.counts.items()}
        return facts


def cross_validate_fold(
    fold: int,
    recipe: str,
    work_dir: Path,
    *,
    root: str | Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> FoldOutcome:
    """Train ``recipe`` without fold ``fold``'s cities, then score those cities.

    ``work_dir`` receives the fold's ONNX network, a card holding its threshold and the
    scored cities' P(change) maps (``<city>.npy``, float16), for later studies on the
    same out-of-fold predictions.
    """
    config = RECIPES[recipe]
    train_cities, scored = fold_cities(fold)
    scenes = load_training_scenes(config.weights, train_cities, root, config.pair_input)
    result = train(scenes, config, progress)
    work_dir.mkdir(parents=True, exist_ok=True)
    if config.pair_input:
        counts = _score_in_torch(result, scored, config, root, work_dir)
    else:
        counts = _score_exported(result, scored, config, root, work_dir, fold, recipe)
    return FoldOutcome(
        fold=fold,
        recipe=recipe,
        train_cities=train_cities,
        test_cities=scored,
        threshold=result.threshold,
        holdout_f1=result.holdout_f1,
        best_epoch=result.best_epoch,
        epochs_run=result.epochs_run,
        training_seconds=result.seconds,
        counts=counts,
    )


def _score_exported(
    result: TrainingResult,
    scored: tuple[str, ...],
    config: TrainingConfig,
    root: str | Path | None,
    work_dir: Path,
    fold: int,
    recipe: str,
) -> dict[str, ConfusionCounts]:
    """The fold's cities scored by its network exported to ONNX and run by detection's
    :class:`SiameseChange`; their P maps saved as ``<city>.npy``."""
    stem = MODEL_FILES[config.weights]
    onnx_path = export_onnx(
        result.network, len(WEIGHT_BANDS[config.weights]), work_dir / f"{stem}.onnx"
    )
    card = {"onnx": onnx_path.name, "threshold": result.threshold, "fold": fold, "recipe": recipe}
    write_model_card(work_dir, stem, card)
    method = SiameseChange(bands=WEIGHT_BANDS[config.weights], model_dir=work_dir)
    return evaluate_method(method, scored, root, scores_dir=work_dir)


def _score_in_torch(
    result: TrainingResult,
    scored: tuple[str, ...],
    config: TrainingConfig,
    root: str | Path | None,
    work_dir: Path,
) -> dict[str, ConfusionCounts]:
    """The fold's cities scored by its torch network in one pass each, at its threshold
    (recipes with pair maps, which detection cannot run yet); P maps saved as for
    :func:`_score_exported`, and the weights as ``network.pt``, so the fold network can be
    exported and run through detection once it can feed pair maps, without retraining."""
    torch.save(result.network.state_dict(), work_dir / "network.pt")
    counts = {}
    for city in scored:
        before, after, label = load_city(city, WEIGHT_BANDS[config.weights], root)
        scene = prepare_scene(city, before, after, label, config.pair_input)
        probability = scene_probability(result.network, scene)
        np.save(work_dir / f"{city}.npy", probability.astype(np.float16))
        valid = np.isfinite(before).all(0) & np.isfinite(after).all(0)
        counts[city] = confusion(probability >= result.threshold, label, ignore=~valid)
    return counts
