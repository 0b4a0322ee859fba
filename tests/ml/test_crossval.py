"""City-level cross-validation: folds that partition the cities, a fold that never sees its
cities, and what a fold leaves behind for later studies (a real, very short training)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch", reason="training needs the ml extra (torch)")

from sitewatch.errors import InputError
from sitewatch.ml import crossval
from sitewatch.ml.oscd import CV_FOLDS, LABELLED_CITIES
from tests.conftest import shared_data


def test_folds_partition_the_labelled_cities() -> None:
    scored = [city for fold in range(1, 6) for city in crossval.fold_cities(fold)[1]]
    assert sorted(scored) == sorted(LABELLED_CITIES) and len(set(scored)) == 10
    for fold in range(1, 6):
        trained, held_out = crossval.fold_cities(fold)
        assert not set(trained) & set(held_out) and len(trained) == 8
    assert CV_FOLDS[0] == ("abudhabi", "nantes")  # the folds written in the benchmark


def test_a_fold_outside_one_to_five_is_refused() -> None:
    with pytest.raises(InputError, match="fold"):
        crossval.fold_cities(6)


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
