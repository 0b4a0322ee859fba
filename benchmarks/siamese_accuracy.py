"""Accuracy of the siamese change method on the OSCD validation cities, beside CVA and
IR-MAD, and its single-core throughput.

Accuracy: change-class precision, recall, F1 and IoU per city and pooled (summed
counts) on pisa, rennes and saclay_e, which no training choice looked at. siamese is
thresholded at its model card's threshold (chosen on held-out training rows); CVA and
IR-MAD (same ten bands, reflectance, CVA after IR-MAD relative normalisation of the second
date) at Otsu's threshold of their significance -log10(1 - score).

Throughput: the s2-10 weights with one onnxruntime thread on rennes bands tiled to at
least 25 Mpx, counting megapixels of one date (both dates, all ten bands, go in). Wall
time and process CPU time are both reported: on a machine shared with other jobs the
wall-clock figure understates what one core does, the CPU-time figure does not.

Run: .venv/bin/python benchmarks/siamese_accuracy.py
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from measure import machine, save_results  # noqa: E402
from sitewatch.analysis.methods import get_method  # noqa: E402
from sitewatch.analysis.metrics import ConfusionCounts, confusion, pooled  # noqa: E402
from sitewatch.analysis.normalize import normalise  # noqa: E402
from sitewatch.analysis.siamese import RGB_BANDS, S2_10_BANDS, SiameseChange  # noqa: E402
from sitewatch.analysis.threshold import otsu, significance  # noqa: E402
from sitewatch.ml.oscd import VALIDATION_CITIES, load_city  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "oscd"
RESULTS = ROOT / "benchmarks" / "results" / "siamese_accuracy.json"
TARGET_MPX = 25.0
REPEATS = 3


def _statistical(name: str, before: np.ndarray, after: np.ndarray) -> np.ndarray:
    if name == "cva":
        after = normalise(before, after).image
    result = get_method(name).score(before, after)
    spread = significance(result.score)
    return (spread > otsu(spread, result.valid)) & result.valid


def accuracy() -> dict[str, dict[str, ConfusionCounts]]:
    siamese = {"siamese s2-10": SiameseChange(S2_10_BANDS), "siamese rgb": SiameseChange(RGB_BANDS)}
    counts: dict[str, dict[str, ConfusionCounts]] = {}
    rgb = [S2_10_BANDS.index(band) for band in RGB_BANDS]
    for city in VALIDATION_CITIES:
        before, after, label = load_city(city, S2_10_BANDS, DATA)
        for name, method in siamese.items():
            picked = slice(None) if method.weights == "s2-10" else rgb
            score = method.score(before[picked], after[picked]).score
            counts.setdefault(name, {})[city] = confusion(score >= method.threshold, label)
        for name in ("cva", "irmad"):
            counts.setdefault(f"{name} (otsu)", {})[city] = confusion(
                _statistical(name, before, after), label
            )
    return counts


def throughput() -> dict[str, float]:
    before, after, _ = load_city("rennes", S2_10_BANDS, DATA)
    _, rows, cols = before.shape
    factor = int(np.ceil(np.sqrt(TARGET_MPX * 1e6 / (rows * cols))))
    before = np.ascontiguousarray(np.tile(before, (1, factor, factor)))
    after = np.ascontiguousarray(np.tile(after, (1, factor, factor)))
    megapixels = before.shape[1] * before.shape[2] / 1e6
    method = SiameseChange(S2_10_BANDS, threads=1)
    method.score(before[:, :256, :256], after[:, :256, :256])  # session start-up
    timings, cpu_timings = [], []
    for _ in range(REPEATS):
        start, cpu_start = time.perf_counter(), time.process_time()
        method.score(before, after)
        timings.append(time.perf_counter() - start)
        cpu_timings.append(time.process_time() - cpu_start)
    best, best_cpu = min(timings), min(cpu_timings)
    return {
        "megapixels": megapixels,
        "seconds": best,
        "cpu_seconds": best_cpu,
        "mpx_per_s_per_core": megapixels / best,
        "mpx_per_cpu_second": megapixels / best_cpu,
        "load_average_1min": os.getloadavg()[0],
        "tile": method.tile,
        "margin": method.margin,
        "repeats": REPEATS,
    }


def main() -> None:
    if not DATA.exists():
        raise SystemExit(f"OSCD data not found at {DATA}")
    counts = accuracy()
    print(f"{'method':16} {'city':10} {'precision':>9} {'recall':>7} {'F1':>6} {'IoU':>6}")
    report_accuracy = {}
    for method, cities in counts.items():
        rows = {**cities, "pooled": pooled(cities.values())}
        report_accuracy[method] = {city: value.as_dict() for city, value in rows.items()}
        for city, value in rows.items():
            print(
                f"{method:16} {city:10} {value.precision:9.3f} {value.recall:7.3f} "
                f"{value.f1:6.3f} {value.iou:6.3f}"
            )
    speed = throughput()
    print(
        f"siamese s2-10 throughput: {speed['mpx_per_s_per_core']:.2f} Mpx/s per core "
        f"({speed['megapixels']:.1f} Mpx in {speed['seconds']:.2f} s, 1 ORT thread); "
        f"{speed['mpx_per_cpu_second']:.2f} Mpx per CPU second "
        f"(load average {speed['load_average_1min']:.1f} on {os.cpu_count()} cores)"
    )
    report = {
        "cities": list(VALIDATION_CITIES),
        "accuracy": report_accuracy,
        "throughput": speed,
        "target": {"pooled_f1": 0.45, "mpx_per_s_per_core": 2.0},
        "machine": machine(),
    }
    save_results(RESULTS, report)


if __name__ == "__main__":
    main()
