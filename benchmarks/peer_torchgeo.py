"""The peer of the OSCD accuracy benchmark: TorchGeo's FC-Siam-diff trained like ``s2-10``.

Runs in its own environment (see ``benchmarks/peer-requirements.txt``), never in the
package's: TorchGeo needs torchvision and a newer torch than sitewatch's ``ml`` extra.

Everything that decides the comparison comes from sitewatch itself, so the two can not
drift: the training cities, the ten bands and their warp onto the 10 m grid
(:func:`sitewatch.ml.oscd.load_city`), the per-date per-band normalisation
(:func:`sitewatch.analysis.siamese.normalise_image`), the crop sampler and its
augmentations, the loss, the time-aware cosine schedule, the held-out rows of the
training cities that pick the checkpoint and the threshold (:mod:`sitewatch.ml.training`),
the hyper-parameters and the epoch x step budget (``training.config`` of the ``s2-10``
model card; its ``dropout`` belongs to sitewatch's network and does not apply here) and
the counting on the validation cities (:mod:`sitewatch.ml.evaluation`).
Only the network differs: ``torchgeo.models.FCSiamDiff``, a segmentation-models-pytorch
U-Net whose decoder sees the difference of the two dates' encoder features, with a
randomly initialised encoder (``encoder_weights=None``: nothing is downloaded, and the
sitewatch network starts from scratch too).

It trains on one thread (``SITEWATCH_PEER_THREADS``), like sitewatch's weights: a ResNet-18
step (8 pairs of 128 px crops) takes about 2.2 s on an idle core here, so the card's
30 x 50 step budget takes about an hour. ``--minutes`` is only a safety cap, set well above
that; the report says how many steps ran. ``benchmarks/detect_accuracy.py --peer-python``
starts this script so that both are measured in the same run. With ``--fold K`` it is the
peer of the cross-validation instead (benchmarks/detect_cv.py): trained without fold K's
two cities by sitewatch's recipe (``--recipe``, ``--epochs`` for a budget in steps) and
scored on them. Alone:
    /work/peer-venv/bin/python benchmarks/peer_torchgeo.py [--encoder resnet18]
"""

from __future__ import annotations

import os

THREADS = int(os.environ.get("SITEWATCH_PEER_THREADS", "1"))
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = str(THREADS)

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import time  # noqa: E402
from importlib import metadata  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402
from torchgeo.models import FCSiamDiff  # noqa: E402

from measure import machine, save_results  # noqa: E402
from sitewatch.analysis.arrays import finite_pixels  # noqa: E402
from sitewatch.analysis.metrics import pooled  # noqa: E402
from sitewatch.analysis.scores import ChangeScore  # noqa: E402
from sitewatch.analysis.siamese import band_statistics, load_model_card, normalise_image  # noqa: E402
from sitewatch.ml.crossval import RECIPES  # noqa: E402
from sitewatch.ml.evaluation import evaluate_method  # noqa: E402
from sitewatch.ml.oscd import TRAIN_CITIES, VALIDATION_CITIES, fold_cities  # noqa: E402
from sitewatch.ml.training import (  # noqa: E402
    HOLDOUT_FRACTION,
    TrainingConfig,
    load_training_scenes,
    train,
)

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "oscd"
RESULTS = ROOT / "benchmarks" / "results" / "peer_torchgeo.json"
WEIGHTS = "s2-10"
#: The smp U-Net encoders downsample five times: input sides must be multiples of 32.
ENCODER_STRIDE = 32


def _pad_to_stride(image: torch.Tensor) -> torch.Tensor:
    """Mirror-pad (n, c, y, x) at the bottom and right to a multiple of the encoder stride."""
    rows, cols = image.shape[-2:]
    pad_rows, pad_cols = -rows % ENCODER_STRIDE, -cols % ENCODER_STRIDE
    if not pad_rows and not pad_cols:
        return image
    return nn.functional.pad(image, (0, pad_cols, 0, pad_rows), mode="reflect")


class TwoDateFCSiamDiff(nn.Module):
    """TorchGeo's FC-Siam-diff behind sitewatch's ``forward(before, after) -> logit`` call.

    TorchGeo takes both dates stacked as (n, t=2, c, y, x); sitewatch's training and
    hold-out code call ``network(before, after)`` with (n, c, y, x) each, so this adapter
    is what lets that code run unchanged. Any size is accepted: inputs are padded to the
    encoder stride and the logit is cropped back.
    """

    def __init__(self, bands: int, encoder: str) -> None:
        super().__init__()
        self.peer = FCSiamDiff(
            encoder_name=encoder, encoder_weights=None, in_channels=bands, classes=1
        )

    def forward(self, before: torch.Tensor, after: torch.Tensor) -> torch.Tensor:
        rows, cols = before.shape[-2:]
        pair = torch.stack([_pad_to_stride(before), _pad_to_stride(after)], dim=1)
        return self.peer(pair)[..., :rows, :cols]


@dataclasses.dataclass
class PeerMethod:
    """The trained peer as a sitewatch change method, so :func:`evaluate_method` counts it.

    Scoring mirrors :meth:`sitewatch.analysis.siamese.SiameseChange.score`: statistics on
    the pixels valid on both dates, normalisation per date, P(change), 0 where invalid.
    """

    network: TwoDateFCSiamDiff
    threshold: float
    weights: str = WEIGHTS

    @torch.no_grad()
    def score(self, before: np.ndarray, after: np.ndarray) -> ChangeScore:
        usable = finite_pixels(before) & finite_pixels(after)
        first = normalise_image(before, band_statistics(before, usable))
        second = normalise_image(after, band_statistics(after, usable))
        logit = self.network(torch.from_numpy(first)[None], torch.from_numpy(second)[None])
        probability = torch.sigmoid(logit)[0, 0].numpy()
        probability[~usable] = 0
        return ChangeScore(
            score=probability,
            direction=np.zeros(probability.shape, dtype=np.int8),
            valid=usable,
        )


def card_config() -> TrainingConfig:
    """The ``s2-10`` model card's training configuration (the budget both must share)."""
    stored = load_model_card(WEIGHTS)["training"]["config"]
    known = {item.name for item in dataclasses.fields(TrainingConfig)}
    return TrainingConfig(**{key: value for key, value in stored.items() if key in known})


def _versions() -> dict[str, str]:
    return {
        name: metadata.version(name)
        for name in ("torch", "torchgeo", "segmentation-models-pytorch")
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoder", default="resnet18", help="smp encoder of FCSiamDiff")
    parser.add_argument(
        "--minutes", type=float, default=150.0, help="training wall-time safety cap"
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--fold",
        type=int,
        help="train without this cross-validation fold's cities and score them "
        "(benchmarks/detect_cv.py); default: the old training/validation split",
    )
    parser.add_argument("--recipe", default="long", help="sitewatch recipe of a --fold run")
    parser.add_argument(
        "--epochs",
        type=int,
        help="epochs of 50 steps instead of the recipe's (a compute budget in steps, "
        "which a loaded machine cannot shorten as a wall-time cap would)",
    )
    options = parser.parse_args()
    if not DATA.exists():
        raise SystemExit(f"OSCD data not found at {DATA}")
    torch.set_num_threads(THREADS)
    if options.fold:
        config = RECIPES[options.recipe]
        train_cities, scored_cities = fold_cities(options.fold)
    else:
        config = card_config()
        train_cities, scored_cities = TRAIN_CITIES, VALIDATION_CITIES
    if options.epochs:
        config = dataclasses.replace(config, epochs=options.epochs)
    own_card = load_model_card(WEIGHTS)
    scenes = load_training_scenes(WEIGHTS, train_cities, root=str(DATA))
    network = TwoDateFCSiamDiff(scenes[0].before.shape[0], options.encoder)
    result = train(
        scenes,
        dataclasses.replace(config, minutes=options.minutes, threads=THREADS),
        progress=lambda line: print(line, flush=True),
        network=network,
    )
    trained = {
        "threshold": result.threshold,
        "holdout_f1": result.holdout_f1,
        "best_epoch": result.best_epoch,
        "epochs_run": result.epochs_run,
        "steps_run": result.epochs_run * config.steps_per_epoch,
        "seconds": result.seconds,
        "history": result.history,
    }
    method = PeerMethod(network=network, threshold=result.threshold)
    started = time.monotonic()
    counts = evaluate_method(method, scored_cities, DATA)
    inference_seconds = time.monotonic() - started
    rows = {**counts, "pooled": pooled(counts.values())}
    parameters = sum(parameter.numel() for parameter in network.parameters())
    report = {
        "peer": "torchgeo.models.FCSiamDiff",
        "encoder": options.encoder,
        "encoder_weights": None,
        "parameters": parameters,
        "bands": list(own_card["bands"]),
        "fold": options.fold,
        "train_cities": list(train_cities),
        "validation_cities": list(scored_cities),
        "counts": {city: value.as_dict() for city, value in counts.items()},
        "holdout": {"fraction": HOLDOUT_FRACTION, "rule": "bottom rows of each train city"},
        "config": dataclasses.asdict(config),
        "minutes_cap": options.minutes,
        "threshold": trained["threshold"],
        "training": {key: value for key, value in trained.items() if key != "history"},
        "sitewatch_s2_10": {
            "onnx_sha256": own_card["sha256"],
            "parameters": own_card["parameters"],
            "training_seconds": own_card["training"]["seconds"],
            "epochs_run": own_card["training"]["epochs_run"],
            "pooled": own_card["validation"]["pooled"],
        },
        "validation": {city: value.as_dict() for city, value in rows.items()},
        "validation_inference_seconds": round(inference_seconds, 1),
        "machine": machine(
            torch_threads=torch.get_num_threads(), load_average_at_end=os.getloadavg()
        ),
        "versions": _versions(),
        "history": trained["history"],
    }
    print(
        f"FCSiamDiff/{options.encoder}: {parameters:,} parameters, "
        f"{trained['epochs_run']} epochs in {trained['seconds']:.0f} s, "
        f"best epoch {trained['best_epoch']}, threshold {trained['threshold']:.3f}"
    )
    print(f"{'city':10} {'precision':>9} {'recall':>7} {'F1':>6} {'IoU':>6}")
    for city, value in rows.items():
        print(
            f"{city:10} {value.precision:9.3f} {value.recall:7.3f} {value.f1:6.3f} {value.iou:6.3f}"
        )
    save_results(options.out, report)


if __name__ == "__main__":
    main()
