"""What the scan's vegetation-phase and open-water tests cost per tile, against the same
tiles without them.

Issue 15 asks that the scan's throughput stay within 20 % of what it was before the
issue's changes. Wall-clock km2/min on this shared machine moves by more than that with
the load (benchmarks/results/scan_throughput_halo_check.json), so the cost of the one
new step is measured as CPU time (``time.process_time``, all threads of this process)
of :func:`sitewatch.scan.tasks.scan_tile` over the same tiles, with and without the
rules (both tests since session 10: the open-water test joined the vegetation one),
alternating in one process so that both see the same load and caches. The floor is the
tiles' window reads alone (:func:`sitewatch.scan.tasks.read_pair`), measured in the
same run: what no change of the detection step can go below.

Input: the largest AOI of ``benchmarks/scan_throughput.py --quick`` (OSCD beirut's two
dates repeated into a 2048 px raster, 18.5 km AOI, 20 tiles of 5.12 km), built the same
way by that script's functions. Beirut is on the sea, so the open-water test has water
to find.

Run: .venv/bin/python benchmarks/scan_vegetation_cost.py
Writes benchmarks/results/scan_vegetation_cost.json and prints a table.
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import dataclasses  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from measure import machine, save_results  # noqa: E402
from scan_throughput import _request, build, ingest  # noqa: E402
from sitewatch.scan.runner import prepare_scan  # noqa: E402
from sitewatch.scan.tasks import read_pair, scan_tile  # noqa: E402
from sitewatch.workspace import open_workspace  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "scan_vegetation_cost.json"
SIDE = 2048
AOI_KM = SIDE * 10 / 1000 - 2
PAIRS = 6


def cpu_seconds(work) -> tuple[float, object]:
    started = time.process_time()
    result = work()
    return time.process_time() - started, result


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="scan-vegetation-"))
    try:
        before, after = build(folder, SIDE)
        ingest(folder / "ws", before, after)
        with open_workspace(folder / "ws") as workspace:
            plan = prepare_scan(workspace, _request(AOI_KM, None))
        tasks = [plan.task_for(tile, tile.lonlat_outline()) for tile in plan.tiles]
        with_test = plan.settings
        without = dataclasses.replace(with_test, vegetation_rule=None, water_rule=None)
        bands = list(with_test.band_names)
        runs = {"with the test": with_test, "without": without}
        seconds: dict[str, list[float]] = {"with the test": [], "without": [], "reads": []}
        candidates: dict[str, int] = {}
        left_out = water_pixels = 0
        scan_tile(tasks[0], with_test)  # warm-up: imports, GDAL caches, allocator
        for pair in range(PAIRS):
            order = list(runs) if pair % 2 == 0 else list(reversed(runs))
            for name in order:
                spent, results = cpu_seconds(
                    lambda settings=runs[name]: [scan_tile(task, settings) for task in tasks]
                )
                seconds[name].append(spent)
                candidates[name] = sum(len(result.candidates) for result in results)
                if name == "with the test":
                    left_out = sum(result.vegetation_objects for result in results)
                    water_pixels = sum(result.water_pixels for result in results)
            spent, _ = cpu_seconds(lambda: [read_pair(task, bands) for task in tasks])
            seconds["reads"].append(spent)
            print(
                f"pair {pair + 1}: "
                + ", ".join(f"{name} {values[-1]:.2f} s" for name, values in seconds.items()),
                flush=True,
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    ratios = [
        test / plain
        for test, plain in zip(seconds["with the test"], seconds["without"], strict=True)
    ]
    report = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(load_average=os.getloadavg()),
        "input": f"scan_throughput.py --quick raster, {AOI_KM:.1f} km AOI, {len(tasks)} tiles",
        "cpu_seconds": seconds,
        "with_over_without_by_pair": [round(ratio, 3) for ratio in ratios],
        "median_ratio": round(statistics.median(ratios), 3),
        "median_cpu_per_tile_s": {
            name: round(statistics.median(values) / len(tasks), 4)
            for name, values in seconds.items()
        },
        "candidates": candidates,
        "vegetation_objects_left_out": left_out,
        "water_pixels_left_out": water_pixels,
        "rules": {
            "vegetation": with_test.vegetation_rule and with_test.vegetation_rule.as_dict(),
            "water": with_test.water_rule and with_test.water_rule.as_dict(),
        },
    }
    save_results(RESULTS, report)
    print(f"\n  {'run':<16}{'CPU s per tile (median)':>26}{'candidates':>12}")
    for name, value in report["median_cpu_per_tile_s"].items():
        print(f"  {name:<16}{value:>26.4f}{candidates.get(name, ''):>12}")
    print(f"  with / without, median of {PAIRS} pairs: {report['median_ratio']:.3f}")


if __name__ == "__main__":
    main()
