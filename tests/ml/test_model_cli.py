"""``sitewatch model eval|train`` through the Typer app (the lead mounts it as ``model``)."""

from __future__ import annotations

import json
import sys

import pytest
from typer.testing import CliRunner

from sitewatch.cli.model import app
from tests.conftest import shared_data


def test_eval_prints_per_city_and_pooled_metrics_as_json() -> None:
    data = shared_data("oscd")
    result = CliRunner().invoke(app, ["eval", "--cities", "rennes", "--data", str(data), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["weights"] == "s2-10"
    assert set(report["cities"]) == {"rennes"}
    rennes = report["cities"]["rennes"]
    assert rennes["true_positive"] + rennes["false_negative"] == 4932  # labelled change
    assert report["pooled"]["f1"] == pytest.approx(rennes["f1"])


def test_eval_table_names_the_weights_and_threshold() -> None:
    data = shared_data("oscd")
    result = CliRunner().invoke(
        app, ["eval", "--bands", "rgb", "--cities", "rennes", "--data", str(data)]
    )
    assert result.exit_code == 0, result.output
    assert "siamese rgb @ threshold" in result.output
    assert "pooled" in result.output


def test_unknown_weight_set_is_one_line_error() -> None:
    result = CliRunner().invoke(app, ["eval", "--bands", "hyperspectral"])
    assert result.exit_code == 2
    assert result.output.strip() == (
        "error: --bands: unknown weight set 'hyperspectral'; use s2-10 or rgb"
    )


def test_train_without_torch_says_to_install_the_ml_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delitem(sys.modules, "sitewatch.ml.workflow", raising=False)
    monkeypatch.setitem(sys.modules, "torch", None)  # what an absent package looks like
    result = CliRunner().invoke(app, ["train", "--bands", "rgb"])
    assert result.exit_code == 1
    assert "pip install 'sitewatch[ml]'" in result.output
    assert len(result.output.strip().splitlines()) == 1
