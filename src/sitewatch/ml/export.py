"""Export of a trained network to ONNX with free height and width (needs torch)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import torch

from sitewatch.analysis.siamese import STRIDE
from sitewatch.ml.model import ProbabilityModel, SiameseDiffUNet

OPSET = 17


def export_onnx(network: SiameseDiffUNet, bands: int, path: Path) -> Path:
    """Write ``network`` + sigmoid as ONNX: inputs ``before``/``after`` (1, band, y, x),
    output ``probability`` (1, 1, y, x); y and x are dynamic (multiples of 8).

    Written to a temporary name and renamed, so a failed export leaves nothing behind.
    """
    model = ProbabilityModel(network).eval()
    example = torch.zeros(1, bands, 8 * STRIDE, 8 * STRIDE)
    axes = {2: "rows", 3: "cols"}
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(suffix=".onnx", dir=path.parent)
    os.close(handle)
    try:
        torch.onnx.export(
            model,
            (example, example),
            temporary,
            input_names=["before", "after"],
            output_names=["probability"],
            dynamic_axes={"before": axes, "after": axes, "probability": axes},
            opset_version=OPSET,
            dynamo=False,
        )
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return path
