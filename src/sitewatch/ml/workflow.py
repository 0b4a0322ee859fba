"""``sitewatch model train``: data -> training -> ONNX -> model card (torch).

Each weight set trains on the cities of :data:`TRAINING_CITIES`. The ``s2-10`` weights
use all ten labelled cities: their recipe was chosen by city-level cross-validation
(benchmarks/detect_cv.py), whose out-of-fold numbers go into the card, so no city is
left to validate on. The older ``rgb`` weights leave the three validation cities out and
score them exactly once, after every choice (checkpoint, threshold) has been made on
held-out training data; their numbers only go into the card.
"""

from __future__ import annotations

import platform
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import torch

from sitewatch.analysis.siamese import (
    CLIP,
    MODEL_FILES,
    WEIGHT_BANDS,
    file_sha256,
)
from sitewatch.files import check_output_folder
from sitewatch.ml.card import LICENCE, write_model_card
from sitewatch.ml.crossval import RECIPES
from sitewatch.ml.evaluation import evaluate_weights
from sitewatch.ml.export import OPSET, export_onnx
from sitewatch.ml.oscd import LABELLED_CITIES, TRAIN_CITIES
from sitewatch.ml.training import HOLDOUT_FRACTION, TrainingConfig, load_training_scenes, train

#: The cross-validated recipe the packaged ``s2-10`` weights are trained with.
S2_10_RECIPE = "long"
#: The recipe of each packaged weight set (what ``sitewatch model train`` reproduces).
#: rgb: 30 epochs of 50 steps on one thread, unchanged since it was trained.
DEFAULT_RECIPES = {
    "s2-10": RECIPES[S2_10_RECIPE],
    "rgb": TrainingConfig(epochs=30, minutes=12.0, threads=1),
}
#: The cities each weight set trains on; the labelled cities left out validate it.
TRAINING_CITIES = {"s2-10": LABELLED_CITIES, "rgb": TRAIN_CITIES}


def _machine() -> str:
    return f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads"


def reproduce_weights(
    weights: str,
    out_dir: Path,
    *,
    epochs: int | None = None,
    minutes: float | None = None,
    seed: int = 0,
    root: str | Path | None = None,
    progress: Callable[[str], None] | None = None,
    recipe: TrainingConfig | None = None,
) -> dict[str, Any]:
    """Train one weight set, export it to ``out_dir`` with its model card; the card.

    ``recipe`` replaces the weight set's default hyper-parameters (``epochs`` and
    ``minutes``, when given, and ``seed`` override it); the card records the full
    configuration used.
    """
    base = recipe or DEFAULT_RECIPES[weights]
    config = replace(
        base,
        weights=weights,
        epochs=epochs or base.epochs,
        minutes=minutes or base.minutes,
        seed=seed,
    )
    check_output_folder(out_dir, "--out")
    train_cities = TRAINING_CITIES[weights]
    held_out = tuple(city for city in LABELLED_CITIES if city not in train_cities)
    scenes = load_training_scenes(weights, train_cities, root=root)
    result = train(scenes, config, progress)
    stem = MODEL_FILES[weights]
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = export_onnx(result.network, len(WEIGHT_BANDS[weights]), out_dir / f"{stem}.onnx")
    card: dict[str, Any] = {
        "name": stem,
        "weights": weights,
        "summary": (
            "Siamese change detector for Sentinel-2 pairs: P(change) per 10 m pixel "
            "from two co-registered dates (urban change, OSCD definition)."
        ),
        "onnx": onnx_path.name,
        "sha256": file_sha256(onnx_path),
        "opset": OPSET,
        "bands": list(WEIGHT_BANDS[weights]),
        "normalisation": (
            "per date and per band: (x - median) / (IQR / 1.349) over the valid pixels of "
            f"the whole scene, clipped to +-{CLIP:g}, nodata -> 0; input is L1C reflectance "
            "0..1 (sitewatch.analysis.siamese.normalise_image)"
        ),
        "architecture": (
            "FC-Siam-diff U-Net: shared encoder (widths 8/16/32/64 at 1, 1/2, 1/4, 1/8 "
            "resolution, 3x3 conv + batch norm + ReLU), decoder on |f1 - f2| skips with "
            "nearest upsampling, sigmoid output"
        ),
        "parameters": sum(parameter.numel() for parameter in result.network.parameters()),
        "threshold": result.threshold,
        "threshold_choice": (
            "maximises pooled change-class F1 on the held-out rows of the training cities "
            "(grid 0.05..0.95 step 0.025)"
        ),
        "data": {
            "dataset": "OSCD (Onera Satellite Change Detection), Sentinel-2 L1C",
            "train_cities": list(train_cities),
            "validation_cities": list(held_out),
            "holdout": {"fraction": HOLDOUT_FRACTION, "rule": "bottom rows of each train city"},
            "resampling": "20 m bands warped bilinearly onto the 10 m grid of the first date",
        },
        "training": {
            "seconds": round(result.seconds, 1),
            "machine": _machine(),
            "epochs_run": result.epochs_run,
            "best_epoch": result.best_epoch,
            "holdout_f1": round(result.holdout_f1, 4),
            "config": asdict(config),
            "recipe": (
                "random crops (half centred on change), flips, rot90, date swap, per-date "
                "per-band gain/offset jitter; AdamW + cosine schedule; BCE (positive weight "
                f"{config.positive_weight:g}) + soft Dice; best epoch by held-out F1"
            ),
            "command": f"sitewatch model train --bands {weights} --seed {seed}",
            "history": result.history,
        },
        "licence": LICENCE,
    }
    if weights == "s2-10":
        card["cv_recipe"] = S2_10_RECIPE
    write_model_card(out_dir, stem, card)  # JSON first: evaluation reads the threshold
    if held_out:
        card["validation"] = evaluate_weights(weights, held_out, root=root, model_dir=out_dir)
        write_model_card(out_dir, stem, card)
    return card
