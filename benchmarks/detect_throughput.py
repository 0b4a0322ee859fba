"""Single-core throughput and peak memory of ``detect_pair`` on large real-texture pairs.

Change-detection issue, ``throughput``: megapixels per second per core of each method on at
least 100 Mpx built from real imagery, beside the floor of only reading the same pixels,
and peak memory. Targets: ``cva``/``irmad`` >= 20 Mpx/s per core, ``siamese`` >= 2 Mpx/s
per core, memory bounded (the run must not need the raster in memory).

Input: OSCD beirut (the largest city, 1180 x 1070 px, unlabelled), its two dates' 10 m
bands B02 B03 B04 B08 repeated with the same tiling on both dates into 4-band uint16 tiled
GeoTIFFs of 25, 50 and 100 Mpx (EPSG:32636, 10 m pixels), written block by block. The
change structure is real (every repeat holds beirut's real changes); only the extent is
synthetic. ``siamese`` runs with ``--bands B04 B03 B02`` (its ``rgb`` weights): its
``s2-10`` weights need six 20 m bands that would make the test files 2.5 times larger
without changing what is measured per pixel.

Each run is a fresh process with one thread (BLAS/OpenMP variables set before numpy is
imported; the siamese method's onnxruntime session uses 1 intra-op thread by default), so
its peak resident memory (VmHWM, which counts touched memory-mapped pages too) is its own;
so is its peak anonymous memory (RssAnon sampled every 20 ms: what must stay in RAM, without
the file-backed mask and mapped inputs the kernel can drop).
Mpx/s per core = megapixels of one date (all its bands) / seconds. "end-to-end" is the
whole ``detect_pair`` call: both reading passes, normalisation, scoring, threshold,
clean-up, objects, COG products, hashing the inputs for lineage. "scoring" is the
method's own compute from the timings the pipeline records in run.json (``steps.timings_s``):
``score_pixels`` for the statistical methods, ``method.score`` for learned ones.
The floor reads both dates once by the same 1024 px windows as float32 (the pipeline
reads them twice: a sample pass, then the scoring pass).

Run: .venv/bin/python benchmarks/detect_throughput.py [--before OLD_RESULTS.json]
[--methods cva,irmad] [--sides 5000,7072] (the whole plan: about 15 minutes, ~3 GB in
/tmp). ``--methods`` and ``--sides`` restrict the plan to those methods and sides (each
named method then runs at each named side), for quick before/after comparisons.
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import rasterio  # noqa: E402
from rasterio.windows import Window  # noqa: E402

from measure import AnonymousPeak, peak_rss_mb, read_oscd_bands, write_repeated  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CITY = ROOT.parent / "shared" / "data" / "oscd" / "images" / "beirut"
RESULTS = ROOT / "benchmarks" / "results" / "detect_throughput.json"
BANDS = ("B02", "B03", "B04", "B08")
#: Square sides: 25, 50 and 100 Mpx per date.
SIDES = (5000, 7072, 10000)
#: Bands per method (None: the default four 10 m bands).
METHODS = {"cva": None, "irmad": None, "siamese": ("B04", "B03", "B02")}
#: Methods run at each side: every method at 100 Mpx; the memory-vs-size curve with cva
#: (the streamed statistical path) and siamese (the learned path), to keep the run short.
PLAN = {5000: ("cva", "siamese"), 7072: ("cva",), 10000: ("cva", "irmad", "siamese")}
#: GDAL's block cache defaults to 5 % of RAM and would fill with blocks nobody re-reads;
#: capped in every child (floor included) so peak RSS shows what the code holds. 256 MB
#: holds one row of 1024 px windows of both dates at 10000 px width.
GDAL_CACHE_MB = 256
TILE = 1024
TARGETS = {"cva": 20.0, "irmad": 20.0, "siamese": 2.0}
# Upper-left corner of the test grid in EPSG:32636 (Beirut's UTM zone), metres.
ORIGIN_X, ORIGIN_Y = 300000.0, 3_750_000.0


def load_city_date(folder: str) -> np.ndarray:
    return read_oscd_bands(CITY / folder, BANDS)


def build_date(path: Path, tile: np.ndarray, side: int) -> None:
    """``tile`` repeated to ``side`` x ``side`` px, written 1024 px block by block."""
    transform = rasterio.transform.from_origin(ORIGIN_X, ORIGIN_Y, 10.0, 10.0)
    write_repeated(path, tile, BANDS, side, crs="EPSG:32636", transform=transform, block=TILE)


def child_detect(before: str, after: str, out: str, method: str) -> dict[str, object]:
    from sitewatch.detect.pair import detect_pair
    from sitewatch.detect.pipeline import DetectionOptions

    bands = METHODS[method]
    start = time.perf_counter()
    run = detect_pair(
        Path(before),
        Path(after),
        Path(out),
        options=DetectionOptions(method=method, tile_size=TILE),
        bands=list(bands) if bands else None,
    )
    seconds = time.perf_counter() - start
    timings = run.run["steps"].get("timings_s", {})
    return {
        "seconds": seconds,
        "timings_s": timings,
        "objects": run.summary["object_count"],
        "changed_share": run.summary["changed_share"],
    }


def child_floor(before: str, after: str) -> dict[str, object]:
    start = time.perf_counter()
    total = 0.0
    with rasterio.open(before) as first, rasterio.open(after) as second:
        for row in range(0, first.height, TILE):
            for col in range(0, first.width, TILE):
                window = Window(
                    col, row, min(TILE, first.width - col), min(TILE, first.height - row)
                )
                for dataset in (first, second):
                    for band in range(1, dataset.count + 1):
                        values = dataset.read(band, window=window, out_dtype="float32")
                        total += float(values[0, 0])
    return {"seconds": time.perf_counter() - start}


def run_child(*args: str) -> dict[str, object]:
    environment = {**os.environ, "GDAL_CACHEMAX": str(GDAL_CACHE_MB)}
    done = subprocess.run(
        [sys.executable, __file__, "--child", *args],
        check=True,
        capture_output=True,
        text=True,
        env=environment,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(
    before_path: str | None = None,
    methods: tuple[str, ...] | None = None,
    sides: tuple[int, ...] | None = None,
) -> None:
    """Build the pairs, run the plan, print the table, save the JSON.

    ``before_path``: a results JSON of the same benchmark on an earlier commit, embedded
    as ``before`` so the memory change is kept beside the new figures. ``methods`` and
    ``sides``: run only those (every method at every side) instead of :data:`PLAN`.
    """
    plan = {side: methods or PLAN[side] for side in sides} if sides else dict(PLAN)
    if methods and not sides:
        plan = {side: methods for side in SIDES}
    if not CITY.is_dir():
        sys.exit(f"OSCD imagery not found at {CITY}")
    city = {folder: load_city_date(folder) for folder in ("imgs_1", "imgs_2")}
    rows = []
    print(HEADER, flush=True)
    with tempfile.TemporaryDirectory(prefix="sitewatch-detect-bench-") as tmp:
        work = Path(tmp)
        for side, planned in plan.items():
            megapixels = side * side / 1e6
            before, after = work / f"before_{side}.tif", work / f"after_{side}.tif"
            build_date(before, city["imgs_1"], side)
            build_date(after, city["imgs_2"], side)
            floor = run_child("floor", str(before), str(after))
            rows.append(_row("floor: read both dates", megapixels, floor))
            print(_line(rows[-1]), flush=True)
            for method in planned:
                out = work / f"out_{method}_{side}"
                result = run_child("detect", str(before), str(after), str(out), method)
                rows.append(_row(method, megapixels, result))
                print(_line(rows[-1]), flush=True)
                shutil.rmtree(out)
            for file in (before, after):
                file.unlink()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, numpy {np.__version__}",
        "source": "OSCD beirut imgs_1 / imgs_2, B02 B03 B04 B08 repeated (same tiling both dates)",
        "sides_px": list(plan),
        "plan": {str(side): list(planned) for side, planned in plan.items()},
        "tile_size": TILE,
        "threads": 1,
        "gdal_cache_mb": GDAL_CACHE_MB,
        "siamese_bands": list(METHODS["siamese"] or ()),
        "targets_mpx_per_s_per_core": TARGETS,
        "results": rows,
    }
    if before_path:
        report["before"] = json.loads(Path(before_path).read_text())
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"saved {RESULTS.relative_to(ROOT)}")


HEADER = (
    f"{'case':24} {'Mpx':>6} {'end-to-end s':>12} {'Mpx/s/core':>10} "
    f"{'scoring Mpx/s/core':>18} {'peak RSS MB':>11} {'anon MB':>11} {'objects':>8}"
)


def _row(case: str, megapixels: float, result: dict[str, object]) -> dict[str, object]:
    seconds = float(result["seconds"])
    timings = result.get("timings_s") or {}
    scoring = timings.get("score") if isinstance(timings, dict) else None
    return {
        "case": case,
        "megapixels": megapixels,
        "seconds": seconds,
        "mpx_per_s_per_core": megapixels / seconds,
        "scoring_s": scoring,
        "scoring_mpx_per_s_per_core": megapixels / scoring if scoring else None,
        "timings_s": timings,
        "peak_rss_mb": result["peak_rss_mb"],
        "peak_anon_mb": result["peak_anon_mb"],
        "objects": result.get("objects"),
    }


def _line(row: dict[str, object]) -> str:
    scoring = row["scoring_mpx_per_s_per_core"]
    objects = row["objects"]
    return (
        f"{row['case']:24} {row['megapixels']:6.1f} {row['seconds']:12.2f} "
        f"{row['mpx_per_s_per_core']:10.1f} "
        f"{(f'{scoring:.1f}' if scoring else '-'):>18} {row['peak_rss_mb']:11.0f} "
        f"{row['peak_anon_mb']:11.0f} "
        f"{(objects if objects is not None else '-'):>8}"
    )


def child_main(kind: str, *args: str) -> None:
    with AnonymousPeak() as anonymous:
        result = child_detect(*args) if kind == "detect" else child_floor(*args)
    result["peak_rss_mb"] = peak_rss_mb()
    result["peak_anon_mb"] = anonymous.megabytes
    print(json.dumps(result))


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child_main(sys.argv[2], *sys.argv[3:])
    else:
        parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
        parser.add_argument("--before", help="results JSON of an earlier run to embed")
        parser.add_argument("--methods", help="comma-separated methods, e.g. cva,irmad")
        parser.add_argument("--sides", help="comma-separated square sides in px, e.g. 5000,7072")
        arguments = parser.parse_args()
        main(
            arguments.before,
            tuple(arguments.methods.split(",")) if arguments.methods else None,
            tuple(int(side) for side in arguments.sides.split(",")) if arguments.sides else None,
        )
