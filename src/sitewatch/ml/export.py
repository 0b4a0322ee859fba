"""Export of a trained network to ONNX with free height and width (needs torch)."""

from __future__ import annotations

import warnings
from pathlib import Path

import torch

from sitewatch.analysis.siamese import STRIDE
from sitewatch.files import atomic_output
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
    with atomic_output(path, make_folder=True) as temporary, warnings.catch_warnings():
        # The TorchScript exporter is deprecated in favour of torch.export, which needs
        # the extra onnxscript package; this small static graph exports fine with it.
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            model,
            (example, example),
            str(temporary),
            input_names=["before", "after"],
            output_names=["probability"],
            dynamic_axes={"before": axes, "after": axes, "probability": axes},
            opset_version=OPSET,
            dynamo=False,
        )
    return path
