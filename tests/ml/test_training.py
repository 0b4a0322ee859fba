"""Training smoke test: the loss falls on a tiny real crop and the export runs in ORT."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="training needs the ml extra (torch)")

from sitewatch.analysis.siamese import RGB_BANDS, band_statistics, normalise_image  # noqa: E402
from sitewatch.ml.export import export_onnx  # noqa: E402
from sitewatch.ml.model import SiameseDiffUNet  # noqa: E402
from sitewatch.ml.oscd import load_city  # noqa: E402
from sitewatch.ml.training import (  # noqa: E402
    TrainingConfig,
    best_threshold,
    change_loss,
    prepare_scene,
    train,
)
from tests.conftest import shared_data  # noqa: E402


@pytest.fixture(scope="module")
def crop() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    before, after, label = load_city("beihai", RGB_BANDS, shared_data("oscd"))
    window = (slice(None), slice(300, 428), slice(200, 328))
    return before[window], after[window], label[window[1:]]


def test_loss_decreases_on_a_fixed_batch(crop: tuple[np.ndarray, ...]) -> None:
    before, after, label = crop
    torch.manual_seed(0)
    torch.set_num_threads(1)  # tiny tensors: extra threads only add spin-waiting
    network = SiameseDiffUNet(3)
    optimiser = torch.optim.Adam(network.parameters(), lr=3e-3)
    first = torch.from_numpy(normalise_image(before, band_statistics(before))[None])
    second = torch.from_numpy(normalise_image(after, band_statistics(after))[None])
    target = torch.from_numpy(label[None, None].astype(np.float32))
    losses = []
    for _ in range(25):
        loss = change_loss(network(first, second), target, 3.0)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.9 * losses[0], losses  # measured: 1.72 -> 1.43


def test_train_selects_on_holdout_and_exports_to_onnx(
    crop: tuple[np.ndarray, ...], tmp_path: Path
) -> None:
    onnxruntime = pytest.importorskip("onnxruntime")
    scene = prepare_scene("beihai-crop", *crop)
    config = replace(
        TrainingConfig(), epochs=2, steps_per_epoch=3, batch_size=2, crop=48, threads=1
    )
    result = train([scene], config)
    assert result.epochs_run == 2 and 1 <= result.best_epoch <= 2
    assert 0.0 < result.threshold < 1.0
    path = export_onnx(result.network, 3, tmp_path / "tiny.onnx")
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    first, second = scene.before[None, :, :40, :56], scene.after[None, :, :40, :56]
    (onnx_probability,) = session.run(None, {"before": first, "after": second})
    with torch.no_grad():
        logits = result.network(torch.from_numpy(first), torch.from_numpy(second))
    assert onnx_probability.shape == (1, 1, 40, 56)
    np.testing.assert_allclose(onnx_probability, torch.sigmoid(logits).numpy(), atol=1e-5)


def test_best_threshold_finds_the_separating_value() -> None:
    scores = np.array([0.1, 0.2, 0.3, 0.8, 0.9], dtype=np.float32)
    labels = np.array([False, False, False, True, True])
    threshold, f1 = best_threshold(scores, labels)
    assert f1 == 1.0 and 0.3 < threshold <= 0.8


def test_pair_maps_reach_the_decoder_and_change_the_output() -> None:
    torch.manual_seed(0)
    network = SiameseDiffUNet(3, pair_channels=1).eval()
    image = torch.rand(1, 3, 32, 32)
    quiet, loud = torch.zeros(1, 1, 32, 32), torch.full((1, 1, 32, 32), 2.0)
    with torch.no_grad():
        first, second = network(image, image, quiet), network(image, image, loud)
    assert first.shape == (1, 1, 32, 32)
    assert not torch.allclose(first, second)  # same images, other pair evidence
