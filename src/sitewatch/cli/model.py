"""``sitewatch model train|eval``: reproduce and measure the siamese change weights."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from sitewatch.analysis.siamese import WEIGHT_BANDS, models_dir
from sitewatch.cli.common import SitewatchGroup, console, print_json
from sitewatch.cli.options import json_option
from sitewatch.errors import InputError, SitewatchError
from sitewatch.ml.oscd import VALIDATION_CITIES

app = typer.Typer(
    cls=SitewatchGroup,
    help="The learned change detector (siamese): train and evaluate its weights.",
    no_args_is_help=True,
)

_BANDS_HELP = "Weight set: s2-10 (ten 10 m + 20 m Sentinel-2 bands) or rgb."
_DATA_HELP = "OSCD folder (default: $SITEWATCH_OSCD, else ../shared/data/oscd)."


def _weights(value: str) -> str:
    if value not in WEIGHT_BANDS:
        raise InputError(f"unknown weight set {value!r}; use s2-10 or rgb", item="--bands")
    return value


@app.command()
def train(
    bands: str = typer.Option("s2-10", "--bands", help=_BANDS_HELP),
    out: Path = typer.Option(None, "--out", "-o", help="Output folder (default: packaged)."),
    epochs: int | None = typer.Option(None, "--epochs", min=1, help="Epochs (default per set)."),
    minutes: float | None = typer.Option(None, "--minutes", min=0.1, help="Wall-time cap."),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
    data: Path | None = typer.Option(None, "--data", help=_DATA_HELP),
) -> None:
    """Train weights on the labelled OSCD cities, export ONNX and write the model card."""
    weights = _weights(bands)
    try:
        from sitewatch.ml.workflow import reproduce_weights
    except ImportError as error:
        raise SitewatchError(
            f"training needs torch ({error.name} is missing): pip install 'sitewatch[ml]'"
        ) from None
    card = reproduce_weights(
        weights,
        out or models_dir(),
        epochs=epochs,
        minutes=minutes,
        seed=seed,
        root=data,
        progress=console.print,
    )
    if "validation" in card:
        measured = f"validation pooled F1 {card['validation']['pooled']['f1']:.3f}"
    else:
        measured = "trained on every labelled city: its recipe's accuracy is cross-validated by "
        measured += "benchmarks/detect_cv.py"
    console.print(
        f"wrote {card['onnx']} (threshold {card['threshold']}); {measured}, "
        f"training {card['training']['seconds'] / 60:.1f} min"
    )


@app.command("eval")
def evaluate(
    model: Path | None = typer.Option(
        None, "--model", help="Folder holding the .onnx and its card (default: packaged)."
    ),
    bands: str = typer.Option("s2-10", "--bands", help=_BANDS_HELP),
    cities: list[str] = typer.Option(
        list(VALIDATION_CITIES), "--cities", help="OSCD cities (repeat the option)."
    ),
    data: Path | None = typer.Option(None, "--data", help=_DATA_HELP),
    threads: int = typer.Option(1, "--threads", min=1, help="onnxruntime threads."),
    as_json: bool = json_option("Print the metrics as JSON."),
) -> None:
    """Precision, recall, F1 and IoU of the change class per city and pooled (no torch).

    On the packaged s2-10 weights this measures fit: they trained on every labelled city.
    """
    from sitewatch.ml.evaluation import evaluate_weights

    folder = model.parent if model is not None and model.suffix == ".onnx" else model
    result = evaluate_weights(_weights(bands), cities, root=data, model_dir=folder, threads=threads)
    if as_json:
        print_json(result)
        return
    table = Table(title=f"siamese {result['weights']} @ threshold {result['threshold']}")
    for column in ("city", "precision", "recall", "F1", "IoU"):
        table.add_column(column, justify="left" if column == "city" else "right")
    for city, values in [*result["cities"].items(), ("pooled", result["pooled"])]:
        cells = [
            "n/a" if values[key] is None else f"{values[key]:.3f}"
            for key in ("precision", "recall", "f1", "iou")
        ]
        table.add_row(city, *cells)
    console.print(table)
