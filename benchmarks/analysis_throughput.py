"""Single-core throughput of the CVA and IR-MAD change scores on real Sentinel-2 bands.

Target (change-detection issue): >= 20 Mpx/s per core, counting megapixels of one date
with all its bands. Real OSCD Rennes bands (B02 B03 B04 B08, reflectance 0..1) are tiled
to about 25 Mpx, so the statistics see real texture and the pass sees a scene-sized
array. Two floors put the figures in context: copying both dates (memory bandwidth) and
one reduction reading both dates.

BLAS and OpenMP are limited to one thread before numpy is imported: the target is per
core. Run: .venv/bin/python benchmarks/analysis_throughput.py
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import rasterio  # noqa: E402

from measure import machine, save_results  # noqa: E402
from sitewatch.analysis.arrays import (  # noqa: E402
    joint_valid,
    sample_pixels,
    subsample_indices,
)
from sitewatch.analysis.irmad import SAMPLE_SIZE, fit_irmad  # noqa: E402
from sitewatch.analysis.masks import reflectance_from_l1c  # noqa: E402
from sitewatch.analysis.methods import get_method  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CITY = ROOT.parent / "shared" / "data" / "oscd" / "images" / "rennes"
BANDS = ("B02", "B03", "B04", "B08")
TARGET_MPX = 25.0
REPEATS = 5
RESULTS = ROOT / "benchmarks" / "results" / "analysis_throughput.json"


def load_date(folder: str) -> np.ndarray:
    bands = []
    for band in BANDS:
        (path,) = sorted((CITY / folder).glob(f"*_{band}.tif"))
        with rasterio.open(path) as source:
            bands.append(source.read(1))
    return reflectance_from_l1c(np.stack(bands))


def tiled(image: np.ndarray, target_pixels: float) -> np.ndarray:
    """``image`` repeated in y and x until it holds at least ``target_pixels``."""
    _, rows, cols = image.shape
    factor = int(np.ceil(np.sqrt(target_pixels / (rows * cols))))
    return np.ascontiguousarray(np.tile(image, (1, factor, factor)))


def best_seconds(work: Callable[[], object]) -> float:
    timings = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        work()
        timings.append(time.perf_counter() - start)
    return min(timings)


def irmad_fit_only(before: np.ndarray, after: np.ndarray) -> object:
    """The fixed part of IR-MAD: validity, subsample and iterations (no full pass)."""
    sample = subsample_indices(joint_valid(before, after), SAMPLE_SIZE)
    return fit_irmad(sample_pixels(before, sample), sample_pixels(after, sample))


def main() -> None:
    if not CITY.exists():
        raise SystemExit(f"OSCD data not found at {CITY}")
    before = tiled(load_date("imgs_1"), TARGET_MPX * 1e6)
    after = tiled(load_date("imgs_2"), TARGET_MPX * 1e6)
    megapixels = before.shape[1] * before.shape[2] / 1e6
    cases: dict[str, Callable[[], object]] = {
        "floor: copy both dates": lambda: (before.copy(), after.copy()),
        "floor: read both dates (sum)": lambda: (before.sum(), after.sum()),
        "cva": lambda: get_method("cva").score(before, after),
        "irmad": lambda: get_method("irmad").score(before, after),
        "irmad part: validity + fit on sample": lambda: irmad_fit_only(before, after),
    }
    rows = []
    for name, work in cases.items():
        seconds = best_seconds(work)
        rows.append({"case": name, "seconds": seconds, "mpx_per_s": megapixels / seconds})
    print(
        f"{megapixels:.1f} Mpx x {len(BANDS)} bands per date, float32, 1 thread, best of {REPEATS}"
    )
    print(f"{'case':38} {'seconds':>8} {'Mpx/s':>8}")
    for row in rows:
        print(f"{row['case']:38} {row['seconds']:8.3f} {row['mpx_per_s']:8.1f}")
    report = {
        "megapixels": megapixels,
        "bands": list(BANDS),
        "shape": list(before.shape),
        "source": "OSCD rennes imgs_1/imgs_2 tiled",
        "threads": 1,
        "repeats": REPEATS,
        "target_mpx_per_s": 20.0,
        "machine": machine(numpy=np.__version__),
        "results": rows,
    }
    save_results(RESULTS, report)


if __name__ == "__main__":
    main()
