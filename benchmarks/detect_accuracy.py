"""Accuracy of ``sitewatch detect-pair`` on the OSCD validation cities, for every method.

This is the number a user gets: the whole command (masks, co-registration check,
normalisation, score, threshold, clean-up, minimum mapping unit) run on the raw per-band
folders, its ``change_mask.tif`` compared pixel by pixel with the OSCD labels (1 = no
change, 2 = change, on the 10 m grid of ``imgs_1``, which is the grid ``detect-pair``
writes on), plus the s2-10 network alone counted exactly as the peer is (its card's
threshold on its probabilities). Nothing here was tuned on these cities. The peer,
TorchGeo's FC-Siam-diff, needs torchvision and lives in its own environment: with
``--peer-python`` this run starts ``benchmarks/peer_torchgeo.py`` there (training on the
same cities, bands and epoch budget as the packaged ``s2-10`` weights, on its own core)
while sitewatch's methods are measured, waits for it, and prints both in one table.
Without it the table has no peer row.

Run (about an hour with the peer; the peer's set-up is in benchmarks/peer-requirements.txt):
    .venv/bin/python benchmarks/detect_accuracy.py --peer-python /work/peer-venv/bin/python
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import rasterio

from measure import detect_pair_mask
from sitewatch.analysis.metrics import ConfusionCounts, confusion, pooled
from sitewatch.detect.pipeline import DetectionOptions
from sitewatch.ml.evaluation import evaluate_weights

ROOT = Path(__file__).resolve().parents[1]
OSCD = ROOT.parent / "shared" / "data" / "oscd"
RESULTS = ROOT / "benchmarks" / "results" / "detect_accuracy.json"
PEER = ROOT / "benchmarks" / "results" / "peer_torchgeo.json"
PEER_SCRIPT = ROOT / "benchmarks" / "peer_torchgeo.py"
CITIES = ("pisa", "rennes", "saclay_e")
METHODS = ("cva", "irmad", "siamese")
MODEL_ONLY = "siamese s2-10, model only"


def city_counts(method: str, city: str, work: Path) -> tuple[ConfusionCounts, float]:
    started = time.perf_counter()
    mask = detect_pair_mask(OSCD, city, work / f"{method}-{city}", DetectionOptions(method=method))
    seconds = time.perf_counter() - started
    with rasterio.open(OSCD / "train_labels" / city / "cm" / f"{city}-cm.tif") as label_file:
        truth = label_file.read(1) == 2
    if truth.shape != mask.shape:
        raise SystemExit(f"{city}: mask {mask.shape} is not on the label grid {truth.shape}")
    return confusion(mask == 1, truth, ignore=mask == 255), seconds


def start_peer(python: Path, log: Path) -> subprocess.Popen[bytes]:
    """Start the peer's training and evaluation in its own environment, in the background."""
    with log.open("wb") as output:
        return subprocess.Popen(
            [str(python), str(PEER_SCRIPT), "--out", str(PEER)],
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )


def measure_methods() -> tuple[dict[str, dict[str, dict[str, float]]], dict[str, float]]:
    results: dict[str, dict[str, dict[str, float]]] = {}
    seconds: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="sitewatch-acc-") as tmp:
        for method in METHODS:
            counts = {}
            seconds[method] = 0.0
            for city in CITIES:
                counts[city], elapsed = city_counts(method, city, Path(tmp))
                seconds[method] += elapsed
            counts["pooled"] = pooled(counts.values())
            results[method] = {name: value.as_dict() for name, value in counts.items()}
    # The network alone, thresholded by its card, counted as the peer is (no normalisation
    # of AFTER, no clean-up, no minimum mapping unit): the like-for-like comparison.
    model_only = evaluate_weights("s2-10", CITIES, OSCD)
    results[MODEL_ONLY] = {**model_only["cities"], "pooled": model_only["pooled"]}
    return results, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer-python", type=Path, help="python of the peer's environment")
    options = parser.parse_args()
    if not OSCD.is_dir():
        sys.exit(f"OSCD data not found at {OSCD}")
    started = datetime.now(UTC)
    peer_process = None
    if options.peer_python is not None:
        log = RESULTS.with_name("peer_torchgeo.log")
        peer_process = start_peer(options.peer_python, log)
        print(f"peer training started (pid {peer_process.pid}, log {log})", flush=True)
    results, seconds = measure_methods()
    if peer_process is not None and peer_process.wait() != 0:
        sys.exit(f"the peer failed (exit {peer_process.returncode}); see its log")
    peer = json.loads(PEER.read_text()) if peer_process is not None else None
    rows = [(f"sitewatch {method}", results[method]) for method in (*METHODS, MODEL_ONLY)]
    if peer is not None:
        rows.append((f"peer FC-Siam-diff ({peer['encoder']})", peer["validation"]))
    header = f"{'method':<32}" + "".join(f"{city:>10}" for city in CITIES)
    print("\nChange-class F1 on the OSCD validation cities (pooled: P / R / F1 / IoU)")
    print(header + f"{'pooled P':>10}{'R':>7}{'F1':>7}{'IoU':>7}")
    for name, table in rows:
        cells = "".join(f"{table[city]['f1']:>10.3f}" for city in CITIES)
        pool = table["pooled"]
        print(
            f"{name:<32}{cells}{pool['precision']:>10.3f}{pool['recall']:>7.3f}"
            f"{pool['f1']:>7.3f}{pool['iou']:>7.3f}"
        )
    if peer is not None:
        print(
            f"(peer: trained {peer['training']['seconds']:.0f} s, "
            f"{peer['training']['steps_run']} steps, in this run, in its own environment; "
            f"see {PEER.name})"
        )
    RESULTS.write_text(
        json.dumps(
            {
                "date": started.isoformat(timespec="seconds"),
                "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                f"Python {platform.python_version()}",
                "cities": list(CITIES),
                "methods": results,
                "seconds_per_method": seconds,
                "peer": {"source": str(PEER.relative_to(ROOT)), "validation": peer["validation"]}
                if peer
                else None,
            },
            indent=2,
        )
    )
    print(f"saved {RESULTS}")


if __name__ == "__main__":
    main()
