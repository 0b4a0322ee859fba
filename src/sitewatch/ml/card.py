"""Model cards: the JSON the inference code reads, and a Markdown rendering for people."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sitewatch.files import atomic_output

LICENCE = (
    "Weights trained on OSCD (Onera Satellite Change Detection) labels, CC BY-NC-SA 4.0: "
    "non-commercial use, share alike. Contains modified Copernicus Sentinel data "
    "(2015-2018). Cite: R. Caye Daudt, B. Le Saux, A. Boulch, Y. Gousseau, 'Urban change "
    "detection for multispectral earth observation using convolutional neural networks', "
    "IGARSS 2018."
)


def _write_atomically(path: Path, text: str) -> None:
    with atomic_output(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


def _metrics_table(metrics: dict[str, Any]) -> list[str]:
    lines = ["| city | precision | recall | F1 | IoU |", "|---|---|---|---|---|"]
    rows = [*metrics["cities"].items(), ("**pooled**", metrics["pooled"])]
    for city, values in rows:
        cells = [
            f"{values[key]:.3f}" if values[key] is not None else "n/a"
            for key in ("precision", "recall", "f1", "iou")
        ]
        lines.append(f"| {city} | " + " | ".join(cells) + " |")
    return lines


def _validation_line(card: dict[str, Any]) -> str:
    held_out = card["data"]["validation_cities"]
    if held_out:
        return f"- Validated once on: {', '.join(held_out)} (never used for any choice)"
    return (
        "- No labelled city left out: the recipe was chosen and is measured by city-level "
        "cross-validation (below)"
    )


def _scores_section(card: dict[str, Any]) -> list[str]:
    """The validation table, or the out-of-fold table of the recipe's cross-validation."""
    if "validation" in card:
        return [
            "## Validation (change class, pixels, at the threshold above)",
            *_metrics_table(card["validation"]),
            "",
        ]
    folds = card["cross_validation"]
    return [
        "## Cross-validation (change class, pixels, out of fold)",
        f"Recipe `{folds['recipe']}`, five folds of two cities "
        f"({'; '.join(', '.join(fold) for fold in folds['folds'])}): every city scored by "
        f"a network trained on the other eight, at that network's own threshold "
        f"({folds['benchmark']}). The packaged network is the same recipe on all ten.",
        "",
        *_metrics_table(folds),
        "",
    ]


def render_markdown(card: dict[str, Any]) -> str:
    """The card as Markdown (same facts as the JSON)."""
    training = card["training"]
    lines = [
        f"# Model card: {card['name']}",
        "",
        card["summary"],
        "",
        "## Data and split",
        f"- Dataset: {card['data']['dataset']}",
        f"- Trained on: {', '.join(card['data']['train_cities'])} "
        f"(bottom {card['data']['holdout']['fraction']:.0%} of the rows of each held out "
        "for checkpoint and threshold selection)",
        _validation_line(card),
        "",
        "## Input",
        f"- Bands (in order): {' '.join(card['bands'])}; {card['data']['resampling']}",
        f"- Normalisation: {card['normalisation']}",
        "",
        "## Architecture",
        f"- {card['architecture']}",
        f"- Parameters: {card['parameters']:,}",
        f"- ONNX file: `{card['onnx']}` (opset {card['opset']}), sha256 `{card['sha256']}`",
        "",
        "## Training",
        f"- Wall time: {training['seconds'] / 60:.1f} min on {training['machine']}",
        f"- Epochs run: {training['epochs_run']} of {training['config']['epochs']} "
        f"({training['config']['steps_per_epoch']} steps of {training['config']['batch_size']} "
        f"crops of {training['config']['crop']} px); best epoch {training['best_epoch']}",
        f"- Augmentation and loss: {training['recipe']}",
        f"- Reproduce: `{training['command']}`",
        "",
        *[f"- Note: {note}" for note in card.get("notes", [])],
        "",
        "## Decision threshold",
        f"- P(change) >= {card['threshold']}: {card['threshold_choice']} "
        f"(held-out training F1 {training['holdout_f1']:.3f})",
        "",
        *_scores_section(card),
        "## Licence",
        card["licence"],
        "",
    ]
    return "\n".join(lines)


def write_model_card(directory: Path, stem: str, card: dict[str, Any]) -> None:
    """Write ``<stem>.json`` and ``<stem>.md`` in ``directory``."""
    _write_atomically(directory / f"{stem}.json", json.dumps(card, indent=2) + "\n")
    if "validation" in card or "cross_validation" in card:
        _write_atomically(directory / f"{stem}.md", render_markdown(card))
