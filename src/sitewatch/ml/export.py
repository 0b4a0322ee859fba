"""Export of a trained network to ONNX with free height and width (needs torch)."""

from __future__ import annotations

import os
import tempfile
import warnings
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
        with warnings.catch_warnings():
            # The TorchScript exporter is deprecated in favour of torch.export, which needs
            # the extra onnxscript package; this small static graph exports fine with it.
            warnings.simplefilter("ignore", DeprecationWarning)
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
        os.chmod(temporary, 0o644)  # mkstemp creates 0600; package data must be readable
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return path
