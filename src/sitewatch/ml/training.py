"""Training of the Siamese change network on the OSCD training cities (CPU, torch).

Nothing here looks at the validation cities (pisa, rennes, saclay_e). The checkpoint and
the decision threshold are chosen on a held-out block of the *training* cities: the
bottom :data:`HOLDOUT_FRACTION` of the rows of each training city is never cropped for
training; after each epoch the network scores those blocks (with context rows above, so
the block edge sees real surroundings) and the epoch with the best pooled F1 (at its best
threshold) is kept, with that threshold.

Inputs are normalised exactly as at inference, by
:func:`sitewatch.analysis.siamese.normalise_image` on whole-scene statistics. Each crop is
augmented: random position (half of them centred on a change pixel, because change is
1-4 % of pixels), flips, 90 degree rotations, swapping the dates (change is symmetric),
and a per-date, per-band gain and offset jitter in normalised units (radiometric
differences the normalisation does not remove entirely). Loss: binary cross-entropy with
a positive-class weight plus soft Dice, both standard for rare-class segmentation.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from sitewatch.analysis.methods import get_method
from sitewatch.analysis.normalize import normalise
from sitewatch.analysis.siamese import STRIDE, WEIGHT_BANDS, band_statistics, normalise_image
from sitewatch.analysis.threshold import significance
from sitewatch.errors import InputError
from sitewatch.ml.model import SiameseDiffUNet
from sitewatch.ml.oscd import TRAIN_CITIES, load_city

HOLDOUT_FRACTION = 0.2
#: Rows above a held-out block fed to the network as context when scoring it.
HOLDOUT_CONTEXT = 64


@dataclass(frozen=True)
class TrainingConfig:
    """Everything that determines the trained weights (with the data and the seed)."""

    weights: str = "s2-10"
    epochs: int = 40
    minutes: float = 14.0
    steps_per_epoch: int = 50
    batch_size: int = 8
    crop: int = 96
    learning_rate: float = 3e-3
    weight_decay: float = 1e-4
    dropout: float = 0.0
    positive_weight: float = 3.0
    change_centred: float = 0.5
    gain_jitter: float = 0.1
    offset_jitter: float = 0.1
    seed: int = 0
    threads: int = 2
    #: Maps of the pair fed beside the images (:data:`PAIR_INPUTS`); "" for none.
    pair_input: str = ""


@dataclass
class Scene:
    """A normalised training city: inputs (band, y, x) for both dates and its label."""

    name: str
    before: np.ndarray
    after: np.ndarray
    label: np.ndarray
    #: (channels, y, x) maps of the pair (:data:`PAIR_INPUTS`), or None.
    pair: np.ndarray | None = None
    train_rows: int = field(init=False)

    def __post_init__(self) -> None:
        rows = self.label.shape[0]
        self.train_rows = rows - round(rows * HOLDOUT_FRACTION)


@dataclass
class TrainingResult:
    network: nn.Module
    threshold: float
    holdout_f1: float
    best_epoch: int
    epochs_run: int
    seconds: float
    history: list[dict[str, float]]


def cva_significance_map(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """(1, y, x) CVA significance of a whole scene on its four 10 m bands, as ``detect``
    computes it (after IR-MAD normalisation of the second date), divided by 4 (0.9999, the
    scan's threshold, becomes 1); 0 where either date has no data."""
    ten_metre = [WEIGHT_BANDS["s2-10"].index(band) for band in ("B02", "B03", "B04", "B08")]
    first, second = before[ten_metre], after[ten_metre]
    second = normalise(first, second).image
    score = significance(get_method("cva").score(first, second).score)
    return np.nan_to_num(score / 4.0, nan=0.0).astype(np.float32)[None]


#: Pair maps a recipe can feed the network beside the images: name -> maker.
PAIR_INPUTS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "cva": cva_significance_map,
}


def prepare_scene(
    name: str, before: np.ndarray, after: np.ndarray, label: np.ndarray, pair_input: str = ""
) -> Scene:
    """Normalise both dates of a city exactly as inference does (and make its pair maps)."""
    return Scene(
        name=name,
        before=normalise_image(before, band_statistics(before)),
        after=normalise_image(after, band_statistics(after)),
        label=label.astype(np.float32),
        pair=PAIR_INPUTS[pair_input](before, after) if pair_input else None,
    )


def load_training_scenes(
    weights: str,
    cities: Sequence[str] = TRAIN_CITIES,
    root: str | None = None,
    pair_input: str = "",
) -> list[Scene]:
    scenes = []
    for city in cities:
        before, after, label = load_city(city, WEIGHT_BANDS[weights], root)
        if label is None:
            raise InputError(f"training city {city} has no labels", item="cities")
        scenes.append(prepare_scene(city, before, after, label, pair_input))
    return scenes


def _sample_crop(
    scene: Scene, config: TrainingConfig, rng: np.random.Generator
) -> tuple[np.ndarray, ...]:
    """(before, after, label[, pair]) of one augmented crop."""
    size = config.crop
    rows, cols = scene.train_rows, scene.label.shape[1]
    changed = None
    if rng.random() < config.change_centred:
        candidates = np.flatnonzero(scene.label[:rows].ravel())
        if candidates.size:
            changed = divmod(int(rng.choice(candidates)), cols)
    if changed is None:
        y0, x0 = rng.integers(0, rows - size + 1), rng.integers(0, cols - size + 1)
    else:
        y0 = int(np.clip(changed[0] - rng.integers(0, size), 0, rows - size))
        x0 = int(np.clip(changed[1] - rng.integers(0, size), 0, cols - size))
    window = (slice(y0, y0 + size), slice(x0, x0 + size))
    first = scene.before[(slice(None), *window)]
    second = scene.after[(slice(None), *window)]
    label = scene.label[window][None]
    pair = () if scene.pair is None else (scene.pair[(slice(None), *window)],)
    if rng.random() < 0.5:
        first, second = second, first  # pair maps are symmetric in the dates
    turns = int(rng.integers(0, 4))
    flip = rng.random() < 0.5
    out = []
    for array in (first, second, label, *pair):
        array = np.rot90(array, turns, axes=(1, 2))
        out.append(np.ascontiguousarray(array[:, :, ::-1] if flip else array))
    bands = first.shape[0]
    for date in (0, 1):
        gain = 1 + config.gain_jitter * rng.standard_normal((bands, 1, 1))
        offset = config.offset_jitter * rng.standard_normal((bands, 1, 1))
        out[date] = (out[date] * gain + offset).astype(np.float32)
    return tuple(out)


def _batch(
    scenes: list[Scene], weights: np.ndarray, config: TrainingConfig, rng: np.random.Generator
) -> tuple[torch.Tensor, ...]:
    picks = rng.choice(len(scenes), size=config.batch_size, p=weights)
    crops = [_sample_crop(scenes[index], config, rng) for index in picks]
    return tuple(torch.from_numpy(np.stack(parts)) for parts in zip(*crops, strict=True))


def change_loss(logits: torch.Tensor, target: torch.Tensor, positive_weight: float) -> torch.Tensor:
    """BCE with a weighted change class + soft Dice of the change class."""
    bce = nn.functional.binary_cross_entropy_with_logits(
        logits, target, pos_weight=torch.tensor(positive_weight)
    )
    probability = torch.sigmoid(logits)
    overlap = (probability * target).sum()
    dice = 1 - (2 * overlap + 1) / (probability.sum() + target.sum() + 1)
    return bce + dice


@torch.no_grad()
def scene_probability(network: nn.Module, scene: Scene, start: int = 0) -> np.ndarray:
    """P(change) of the scene's rows from ``start`` (a multiple of the stride) on, in one
    pass of the network in its current mode (padded to the stride, padding cut off)."""
    rows, cols = scene.label.shape
    pad = ((0, 0), (0, -(rows - start) % STRIDE), (0, -cols % STRIDE))
    arrays = [scene.before, scene.after] + ([] if scene.pair is None else [scene.pair])
    inputs = [
        torch.from_numpy(np.pad(array[:, start:], pad, mode="symmetric")[None]) for array in arrays
    ]
    probability = torch.sigmoid(network(*inputs))[0, 0].numpy()
    return probability[: rows - start, :cols]


def _holdout_probabilities(
    network: nn.Module, scenes: list[Scene]
) -> tuple[np.ndarray, np.ndarray]:
    """P(change) and labels over all held-out pixels of the training cities."""
    network.eval()
    scores, labels = [], []
    for scene in scenes:
        start = max(0, scene.train_rows - HOLDOUT_CONTEXT) // STRIDE * STRIDE
        probability = scene_probability(network, scene, start)
        scores.append(probability[scene.train_rows - start :].ravel())
        labels.append(scene.label[scene.train_rows :].ravel() > 0)
    network.train()
    return np.concatenate(scores), np.concatenate(labels)


def best_threshold(scores: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """(threshold, F1) maximising the change-class F1 over thresholds 0.05..0.95."""
    best = (0.5, 0.0)
    positives = int(labels.sum())
    for threshold in np.arange(0.05, 0.96, 0.025):
        predicted = scores >= threshold
        hits = int(np.count_nonzero(predicted & labels))
        denominator = int(predicted.sum()) + positives
        f1 = 2 * hits / denominator if denominator else 0.0
        if f1 > best[1]:
            best = (float(round(threshold, 3)), f1)
    return best


def _set_learning_rate(
    optimiser: torch.optim.Optimizer,
    config: TrainingConfig,
    step_fraction: float,
    started: float,
    budget: float,
) -> None:
    """Cosine decay over whichever runs out first, the steps or the wall-time budget.

    On a loaded machine the time cap can stop training before the last epoch; tying the
    decay to elapsed time too means a capped run still ends at a low learning rate
    instead of being cut off mid-schedule. Uncapped runs follow the step schedule.
    """
    progress = min(1.0, max(step_fraction, (time.monotonic() - started) / budget))
    for group in optimiser.param_groups:
        group["lr"] = config.learning_rate * 0.5 * (1 + math.cos(math.pi * progress))


def train(
    scenes: list[Scene],
    config: TrainingConfig,
    progress: Callable[[str], None] | None = None,
    network: nn.Module | None = None,
) -> TrainingResult:
    """Train from ``scenes``; stop after ``config.epochs`` or ``config.minutes``.

    ``network`` defaults to sitewatch's :class:`SiameseDiffUNet`; a benchmark passes another
    two-date network (called as ``network(first, second)`` -> logits) so that a peer model
    gets exactly the same sampler, loss, schedule and checkpoint rule.
    """
    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    rng = np.random.default_rng(config.seed)
    # Cities are drawn in proportion to their trainable area.
    area = np.array([scene.train_rows * scene.label.shape[1] for scene in scenes], dtype=float)
    city_weights = area / area.sum()
    if network is None:
        pair = scenes[0].pair
        network = SiameseDiffUNet(
            scenes[0].before.shape[0],
            dropout=config.dropout,
            pair_channels=0 if pair is None else pair.shape[0],
        )
    optimiser = torch.optim.AdamW(
        network.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    total_steps = config.epochs * config.steps_per_epoch
    started = time.monotonic()
    budget = config.minutes * 60
    best_state, best_f1, best_epoch, best_thresh = None, -1.0, 0, 0.5
    history: list[dict[str, float]] = []
    epoch = 0
    for epoch in range(1, config.epochs + 1):
        losses = []
        for step in range((epoch - 1) * config.steps_per_epoch, epoch * config.steps_per_epoch):
            _set_learning_rate(optimiser, config, step / total_steps, started, budget)
            first, second, label, *pair = _batch(scenes, city_weights, config, rng)
            loss = change_loss(network(first, second, *pair), label, config.positive_weight)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            losses.append(float(loss.detach()))
        threshold, f1 = best_threshold(*_holdout_probabilities(network, scenes))
        elapsed = time.monotonic() - started
        history.append(
            {
                "epoch": epoch,
                "loss": float(np.mean(losses)),
                "holdout_f1": f1,
                "threshold": threshold,
                "seconds": elapsed,
            }
        )
        if progress:
            progress(
                f"epoch {epoch}: loss {np.mean(losses):.4f} holdout F1 {f1:.3f} "
                f"@ {threshold:.3f} ({elapsed:.0f} s)"
            )
        if f1 > best_f1:
            best_state, best_f1 = copy.deepcopy(network.state_dict()), f1
            best_epoch, best_thresh = epoch, threshold
        per_epoch = elapsed / epoch
        if elapsed + per_epoch > budget:
            break
    if best_state is not None:
        network.load_state_dict(best_state)
    network.eval()
    return TrainingResult(
        network=network,
        threshold=best_thresh,
        holdout_f1=best_f1,
        best_epoch=best_epoch,
        epochs_run=epoch,
        seconds=time.monotonic() - started,
        history=history,
    )
