"""The demo's detection step reports accuracy against known truth."""

from __future__ import annotations

from pathlib import Path

from sitewatch.demo.runner import run_demo
from tests.conftest import shared_data


def test_synthetic_demo_detects_the_known_change(tmp_path: Path) -> None:
    lines: dict[str, str] = {}
    result = run_demo(tmp_path / "demo", report=lambda step, detail: lines.setdefault(step, detail))
    assert "precision" in lines["accuracy"] and "recall" in lines["accuracy"]
    accuracy = result.detection["accuracy"]
    # Measured: precision 1.00, recall 0.97, F1 0.99 (irmad, default options).
    assert accuracy["precision"] >= 0.9 and accuracy["recall"] >= 0.9
    assert (result.outputs["change run"] / "change_mask.tif").is_file()


def test_real_demo_on_a_labelled_oscd_city_reports_accuracy(tmp_path: Path) -> None:
    rennes = shared_data("oscd", "images", "rennes")
    result = run_demo(tmp_path / "real", real=rennes)
    accuracy = result.detection["accuracy"]
    assert accuracy["f1"] is not None and accuracy["f1"] > 0.2
