"""City-level cross-validation: a fold that never sees its cities, and what it leaves behind
for later studies (a real, very short training)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch", reason="training needs the ml extra (torch)")

from sitewatch.ml import crossval
from tests.conftest import shared_data


def test_a_fold_scores_only_its_cities_and_keeps_its_scores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = shared_data("oscd")
    tiny = replace(crossval.CARD_RECIPE, epochs=1, steps_per_epoch=2, batch_size=2, crop=64)
    monkeypatch.setitem(crossval.RECIPES, "tiny", tiny)
    outcome = crossval.cross_validate_fold(2, "tiny", tmp_path, root=data)
    assert set(outcome.counts) == {"beihai", "paris"}
    assert "beihai" not in outcome.train_cities and "paris" not in outcome.train_cities
    beihai = outcome.counts["beihai"]
    assert beihai.true_positive + beihai.false_negative == 17318  # its labelled change
    scores = np.load(tmp_path / "beihai.npy")
    assert scores.dtype == np.float16 and scores.shape == (902, 772)
    assert (tmp_path / "siamese_s2_10.onnx").exists()
    paris = outcome.as_dict()["counts"]["paris"]
    assert paris["true_positive"] + paris["false_negative"] == 458


def test_a_pair_map_recipe_scores_its_cities_in_torch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = shared_data("oscd")
    tiny = replace(crossval.RECIPES["cva-input"], epochs=1, steps_per_epoch=2, batch_size=2)
    monkeypatch.setitem(crossval.RECIPES, "tiny-cva", replace(tiny, crop=64))
    outcome = crossval.cross_validate_fold(3, "tiny-cva", tmp_path, root=data)
    assert set(outcome.counts) == {"bercy", "pisa"}
    bercy = outcome.counts["bercy"]
    assert bercy.true_positive + bercy.false_negative == 1046  # its labelled change
    assert np.load(tmp_path / "bercy.npy").dtype == np.float16
    assert not (tmp_path / "siamese_s2_10.onnx").exists()  # detection cannot run it yet
    assert (tmp_path / "network.pt").exists()  # kept for when it can
