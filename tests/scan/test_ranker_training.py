"""The tile ranker's training tiles, gathered through the scan engine."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sitewatch.ml.ranker_fit import precision_at
from sitewatch.scan import ranker, ranker_training
from tests.conftest import shared_data

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def test_one_training_city_through_the_engine_grid() -> None:
    root = shared_data("oscd")
    rows = list(ranker_training.training_tiles(root, ("bercy",)))
    values = np.array([features for _, features, _, _ in rows])
    labels = np.array([pixels for _, _, _, pixels in rows]) >= ranker_training.MIN_CHANGE_PX
    assert len(rows) == 54 and int(labels.sum()) == 5
    assert {city for _, _, city, _ in rows} == {"bercy"}
    assert np.isfinite(values).all()
    model = ranker.load_ranker()
    # bercy is a training city: in sample, the model must at least match `changed`.
    # `changed` was 0.2 while the cloud test masked 22 % of bercy's change pixels (new
    # roofs); with the grouped cloud test it masks none and `changed` reaches 0.4.
    ranked = precision_at(model.logit(values), labels, 5)
    by_changed = precision_at(values[:, 0], labels, 5)
    assert ranked == pytest.approx(0.4) and by_changed == pytest.approx(0.4)


def test_importing_the_trainer_leaves_the_thread_settings_alone() -> None:
    """Only ``python -m sitewatch.scan.ranker_training`` makes BLAS single-threaded: a
    process that merely imports the trainer (a test, a benchmark) keeps its own settings."""
    env = {key: value for key, value in os.environ.items() if key not in THREAD_VARIABLES}
    code = (
        "import os, sitewatch.scan.ranker_training, sitewatch.ml.ranker_fit\n"
        f"print([os.environ.get(name) for name in {THREAD_VARIABLES!r}])"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=True,
    )
    assert shown.stdout.strip() == "[None, None, None]"
