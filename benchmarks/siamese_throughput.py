"""Single-core throughput of the siamese method per tile size, beside its network-only floor,
and the peak memory of a detection run with it.

Input: OSCD rennes, the ten s2-10 bands (reflectance), both dates tiled to at least 25 Mpx
(the change structure is real, only the extent is synthetic); the rgb weights get B04 B03
B02 of the same arrays. One onnxruntime thread (BLAS/OpenMP variables set to 1 before
numpy loads). Mpx counts pixels of one date (both dates, all bands, go in).

- "end-to-end": ``SiameseChange(tile=T).score(before, after)``: statistics, per-window
  normalisation, padding, the network, direction and nodata maps, copies into the result.
- "network": only ``session.run`` on the same windows (inputs normalised beforehand,
  outside the clock): the floor the rest of the path is measured against.

Both are the best of ``REPEATS`` runs, in process CPU seconds (what one core did; on a
machine shared with other jobs, wall time also counts waiting for the core) and in wall
seconds. The memory part runs ``sitewatch`` detection (``detect_pair``, siamese, rgb
weights) in a fresh process on the 25 Mpx beirut pair that benchmarks/detect_throughput.py
builds, and reports its peak resident memory (VmHWM) beside the size of one date as
float32.

Run: .venv/bin/python benchmarks/siamese_throughput.py [throughput] [memory]  (about 10 minutes)
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import importlib.util  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from measure import machine, save_results  # noqa: E402
from sitewatch.analysis.siamese import (  # noqa: E402
    RGB_BANDS,
    S2_10_BANDS,
    STRIDE,
    SiameseChange,
    _session,
    band_statistics,
    normalise_image,
)
from sitewatch.ml.oscd import load_city  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "oscd"
RESULTS = ROOT / "benchmarks" / "results" / "siamese_throughput.json"
TARGET_MPX = 25.0
TILES = (512, 1024)
MARGIN = 32
REPEATS = 3
MEMORY_SIDE = 5000  # 25 Mpx per date


def tiled_pair() -> tuple[np.ndarray, np.ndarray]:
    before, after, _ = load_city("rennes", S2_10_BANDS, DATA)
    _, rows, cols = before.shape
    factor = int(np.ceil(np.sqrt(TARGET_MPX * 1e6 / (rows * cols))))
    return (
        np.ascontiguousarray(np.tile(before, (1, factor, factor))),
        np.ascontiguousarray(np.tile(after, (1, factor, factor))),
    )


def best_of(run: Callable[..., object], *args: object) -> tuple[float, float]:
    """Best (CPU seconds, wall seconds) of REPEATS calls of ``run(*args)``; a float it
    returns replaces the process CPU time (the network floor times only its session runs)."""
    cpu_times, wall_times = [], []
    for _ in range(REPEATS):
        start, cpu_start = time.perf_counter(), time.process_time()
        own = run(*args)
        wall_times.append(time.perf_counter() - start)
        cpu_times.append(own if isinstance(own, float) else time.process_time() - cpu_start)
    return min(cpu_times), min(wall_times)


def _network_input(image: np.ndarray, statistics: np.ndarray) -> np.ndarray:
    """Normalised and padded to the stride, as the method feeds the network."""
    _, rows, cols = image.shape
    pads = ((0, 0), (0, -rows % STRIDE), (0, -cols % STRIDE))
    return np.pad(normalise_image(image, statistics), pads, mode="symmetric")[None]


def network_floor(method: SiameseChange, before: np.ndarray, after: np.ndarray) -> float:
    """CPU seconds of ``session.run`` alone over the method's windows."""
    statistics = band_statistics(before), band_statistics(after)
    session = _session(str(method.model_path), method.threads)
    total = 0.0
    for window in method.windows(before.shape[1], before.shape[2]):
        read = (slice(None), *window.read)
        first = _network_input(before[read], statistics[0])
        second = _network_input(after[read], statistics[1])
        start = time.process_time()
        session.run(None, {"before": first, "after": second})
        total += time.process_time() - start
    return total


def throughput(before: np.ndarray, after: np.ndarray) -> list[dict[str, object]]:
    rows = []
    megapixels = before.shape[1] * before.shape[2] / 1e6
    for weights, bands in (("s2-10", S2_10_BANDS), ("rgb", RGB_BANDS)):
        picked = [S2_10_BANDS.index(band) for band in bands]
        first = before if weights == "s2-10" else np.ascontiguousarray(before[picked])
        second = after if weights == "s2-10" else np.ascontiguousarray(after[picked])
        for tile in TILES:
            method = SiameseChange(bands, threads=1, tile=tile, margin=MARGIN)
            method.score(first[:, :256, :256], second[:, :256, :256])  # session start-up
            cpu, wall = best_of(method.score, first, second)
            network_cpu, _ = best_of(network_floor, method, first, second)
            row = {
                "weights": weights,
                "tile": tile,
                "margin": MARGIN,
                "megapixels": round(megapixels, 2),
                "cpu_seconds": round(cpu, 2),
                "wall_seconds": round(wall, 2),
                "mpx_per_cpu_second": round(megapixels / cpu, 3),
                "mpx_per_s_per_core": round(megapixels / wall, 3),
                "network_cpu_seconds": round(network_cpu, 2),
                "network_mpx_per_cpu_second": round(megapixels / network_cpu, 3),
                "load_average_1min": round(os.getloadavg()[0], 2),
            }
            rows.append(row)
            print(
                f"{weights:6} tile {tile:5}: end-to-end {row['mpx_per_cpu_second']:.2f} Mpx/CPU-s "
                f"({row['mpx_per_s_per_core']:.2f} Mpx/s wall), network only "
                f"{row['network_mpx_per_cpu_second']:.2f} Mpx/CPU-s, "
                f"load {row['load_average_1min']}",
                flush=True,
            )
    return rows


def memory() -> dict[str, object]:
    """Peak RSS of a detection run with siamese (rgb) on a 25 Mpx pair, in a fresh process."""
    spec = importlib.util.spec_from_file_location(
        "detect_throughput", ROOT / "benchmarks" / "detect_throughput.py"
    )
    assert spec is not None and spec.loader is not None
    detect = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(detect)
    with tempfile.TemporaryDirectory(prefix="siamese-memory-") as folder:
        work = Path(folder)
        for name, date in (("before", "imgs_1"), ("after", "imgs_2")):
            detect.build_date(work / f"{name}.tif", detect.load_city_date(date), MEMORY_SIDE)
        result = detect.run_child(
            "detect",
            str(work / "before.tif"),
            str(work / "after.tif"),
            str(work / "out"),
            "siamese",
        )
    one_date_mb = MEMORY_SIDE**2 * 3 * 4 / 2**20
    return {
        "megapixels": MEMORY_SIDE**2 / 1e6,
        "peak_rss_mb": result["peak_rss_mb"],
        "one_date_float32_rgb_mb": round(one_date_mb, 1),
        "seconds": round(float(result["seconds"]), 2),
        "timings_s": result["timings_s"],
    }


def main(parts: set[str]) -> None:
    """Run the named parts (throughput, memory); each updates its key of the saved JSON."""
    if not DATA.exists():
        raise SystemExit(f"OSCD data not found at {DATA}")
    report = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    if "throughput" in parts:
        report["throughput"] = throughput(*tiled_pair())
    if "memory" in parts:
        report["memory"] = memory()
        print(f"detection with siamese (rgb), 25 Mpx: {report['memory']}")
    report["machine"] = machine()
    save_results(RESULTS, report)


if __name__ == "__main__":
    main(set(sys.argv[1:]) or {"throughput", "memory"})
