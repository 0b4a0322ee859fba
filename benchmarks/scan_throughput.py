"""Scan throughput (km2/min, Mpx/s) with 1 and 2 Dask workers, peak memory against AOI
size, and the projected time for all of North Korea at 10 m.

Scan issue, acceptance: North Korea (120,540 km2, 1.2 Gpx per date at 10 m), two dates,
in <= 10 minutes on a 2-core machine; 2 workers >= 1.7x faster than 1; peak memory flat
in the AOI size (three sizes).

Input: OSCD beirut's two dates, 10 m bands B02 B03 B04 B08, repeated with the same tiling
on both dates into two 4-band uint16 tiled GeoTIFFs of SIDE x SIDE px (EPSG:32652, 10 m,
on the scan grid's lattice, as Sentinel-2 is in its own UTM zone), ingested as one BEFORE
and one AFTER scene of a temporary workspace. The change structure is real; the extent is
synthetic.

Each measurement is a fresh process (client) with a fresh LocalCluster of single-threaded
worker processes, made as ``sitewatch scan`` makes it (``cluster.dask_client``), so peak
resident memory (VmHWM) is that run's own: the client's and the
largest worker's. A scan is the whole ``run_scan``: planning, per-tile composites (window
reads, cloud test), per-tile fit and scoring with the engine's default method (cva),
threshold, clean-up, polygons, storing tiles and candidates (quicklook chips are drawn
when a candidate is opened, not by the scan). Two
floors: the same cluster doing only the tiles' window reads (:func:`read_pair`), and
"plain processes": the same tasks (:func:`scan_tile` on every tile) in 1 or 2 bare worker
processes, a contiguous stripe each, with the Dask workers' allocator settings and nothing
else (no scheduler, no client, no database), which is what two cores give this work; the
gap between its 2-vs-1 ratio and the scan's is what Dask and the storing client cost.
Mpx/s counts date-pair pixels (1 km2 = 0.01 Mpx at 10 m).
Times exclude cluster start-up and the workers' first import of the task code.

Tiles: the engine's default (512 px, 5.12 km) at every AOI size, and the former default
(256 px, 2.56 km) on the largest AOI, whose tasks are short enough (~40 ms of a worker's
time) for Dask's fixed cost per task, paid in the client process, to show.

Run: .venv/bin/python benchmarks/scan_throughput.py [--quick]
(--quick: 20 km raster, AOIs of 5/10/20 km; default: 82 km raster (8192 px, 67 Mpx per date),
AOIs of 18/39/80 km, about 15 minutes).
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402
import importlib  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from affine import Affine  # noqa: E402
from pyproj import Transformer  # noqa: E402

from measure import (  # noqa: E402
    machine,
    peak_rss_mb,
    read_oscd_bands,
    save_results,
    write_repeated,
)
from sitewatch.analysis.methods import DEFAULT_SCAN_METHOD  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CITY = ROOT.parent / "shared" / "data" / "oscd" / "images" / "beirut"
RESULTS = ROOT / "benchmarks" / "results" / "scan_throughput.json"
BANDS = ("B02", "B03", "B04", "B08")
EPSG = 32652
ORIGIN = (400_000.0, 4_420_000.0)  # top-left, metres, a multiple of 10 m
PRK_KM2 = 120_540.0
#: The former default tile (256 px), measured on the largest AOI for comparison.
SMALL_TILE_M = 2560.0
#: Interleaved 1- and 2-worker runs on the largest AOI (the acceptance numbers).
REPEATS = 5


def build(folder: Path, side: int) -> tuple[Path, Path]:
    """The BEFORE and AFTER rasters (same tiling of beirut's two dates)."""
    before = read_oscd_bands(CITY / "imgs_1", BANDS)
    after = read_oscd_bands(CITY / "imgs_2", BANDS)
    rows, cols = (min(a, b) for a, b in zip(before.shape[1:], after.shape[1:], strict=True))
    transform = Affine(10.0, 0, ORIGIN[0], 0, -10.0, ORIGIN[1])
    paths = []
    for name, data, day in (("before", before, "20190501"), ("after", after, "20200501")):
        path = folder / f"S2_{name}_{day}.tif"
        write_repeated(
            path, data[:, :rows, :cols], BANDS, side, crs=f"EPSG:{EPSG}", transform=transform
        )
        paths.append(path)
    return paths[0], paths[1]


def ingest(workspace_dir: Path, before: Path, after: Path) -> None:
    from sitewatch.imagery.ingest import add_scenes
    from sitewatch.workspace import init_workspace

    with init_workspace(workspace_dir) as workspace, workspace.session() as session:
        add_scenes(session, [before], datetime_text="2019-05-01T02:00:00Z")
        add_scenes(session, [after], datetime_text="2020-05-01T02:00:00Z")


def aoi(km: float) -> str:
    """A km x km square (UTM) at the raster's centre-ish, as a lon/lat bbox spec."""
    to_lonlat = Transformer.from_crs(EPSG, 4326, always_xy=True)
    left, top = ORIGIN[0] + 1000, ORIGIN[1] - 1000
    corners = [(left, top - km * 1000), (left + km * 1000, top)]
    (west, south), (east, north) = (to_lonlat.transform(x, y) for x, y in corners)
    return f"bbox:{west:.6f},{south:.6f},{east:.6f},{north:.6f}"


def _request(km: float, tile_m: float | None) -> Any:
    from sitewatch.scan.plan import ScanRequest

    return ScanRequest(
        aoi=aoi(km),
        before="2019-01-01/2019-12-31",
        after="2020-01-01/2020-12-31",
        tile_size_m=tile_m,
    )


def _scan_stripe(tasks: list, settings: Any) -> tuple[float, float, int]:
    """A plain process's share: every tile of its stripe scanned; returns when it started
    and ended (monotonic clock, shared by the processes) and the candidates found."""
    from sitewatch.scan.tasks import scan_tile

    started = time.monotonic()
    found = sum(len(scan_tile(task, settings).candidates) for task in tasks)
    return started, time.monotonic(), found


def run_plain(workspace_dir: Path, km: float, workers: int, tile_m: float | None) -> dict:
    """The scan's tasks in ``workers`` bare processes (see the module docstring)."""
    from sitewatch.scan import cluster, runner
    from sitewatch.workspace import open_workspace

    with open_workspace(workspace_dir) as workspace:
        plan = runner.prepare_scan(workspace, _request(km, tile_m))
    tasks = [plan.task_for(tile, tile.lonlat_outline()) for tile in plan.tiles]
    share = -(-len(tasks) // workers)
    stripes = [
        (tasks[start : start + share], plan.settings) for start in range(0, len(tasks), share)
    ]
    os.environ["MALLOC_MMAP_THRESHOLD_"] = str(cluster.WORKER_MMAP_THRESHOLD)
    os.environ["MALLOC_TRIM_THRESHOLD_"] = str(cluster.WORKER_TRIM_THRESHOLD)
    context = multiprocessing.get_context("spawn")
    # Each process imports the task code before its stripe (as the Dask workers do before
    # the timed scan); the time runs from the first stripe's start to the last one's end.
    with context.Pool(workers, importlib.import_module, ("sitewatch.scan.tasks",)) as pool:
        spans = pool.starmap(_scan_stripe, stripes, chunksize=1)
    seconds = max(end for _, end, _ in spans) - min(start for start, _, _ in spans)
    return _row("plain processes", plan, km, workers, seconds, sum(n for *_, n in spans), {})


def run_one(
    workspace_dir: Path, km: float, workers: int, floor: bool, tile_m: float | None
) -> dict:
    """One measurement (called in a fresh process): see the module docstring."""
    from sitewatch.db.models import Scan
    from sitewatch.scan.cluster import dask_client
    from sitewatch.scan.runner import prepare_scan, run_scan
    from sitewatch.scan.tasks import read_pair
    from sitewatch.workspace import open_workspace

    request = _request(km, tile_m)
    with (
        open_workspace(workspace_dir) as workspace,
        dask_client(None, workers) as client,
    ):
        plan = prepare_scan(workspace, request)
        with workspace.session() as session:
            stale = session.get(Scan, plan.scan_id)
            if stale is not None:
                session.delete(stale)
        # Steady state is what a country-sized scan sees: workers import the task code once.
        client.run(importlib.import_module, "sitewatch.scan.tasks")
        started = time.perf_counter()
        if floor:
            tasks = [plan.task_for(tile, tile.lonlat_outline()) for tile in plan.tiles]
            bands = list(plan.settings.band_names)
            futures = client.map(lambda task: read_pair(task, bands)[0].shape[0], tasks, pure=False)
            client.gather(futures)
            candidates = None
        else:
            outcome = run_scan(workspace, plan, client)
            candidates = outcome.summary["candidates"]
        seconds = time.perf_counter() - started
        worker_peaks = client.run(peak_rss_mb)
    return _row("read floor" if floor else "scan", plan, km, workers, seconds, candidates,
                worker_peaks)  # fmt: skip


def _row(
    mode: str,
    plan: Any,
    km: float,
    workers: int,
    seconds: float,
    candidates: int | None,
    worker_peaks: dict,
) -> dict:
    tiles = len(plan.tiles)
    km2 = tiles * (plan.tiles[0].size_m / 1000) ** 2
    return {
        "mode": mode,
        "aoi_km": km,
        "tile_m": plan.tiles[0].size_m,
        "workers": workers,
        "tiles": tiles,
        "km2": round(km2, 2),
        "seconds": round(seconds, 2),
        "km2_per_min": round(km2 / seconds * 60, 1),
        "mpx_per_s": round(km2 * 0.01 / seconds, 3),
        "candidates": candidates,
        "client_peak_rss_mb": round(peak_rss_mb(), 1),
        "worker_peak_rss_mb": round(max(worker_peaks.values()), 1) if worker_peaks else None,
    }


def measure(
    workspace_dir: Path,
    km: float,
    workers: int,
    floor: bool = False,
    tile_m: float | None = None,
    plain: bool = False,
) -> dict:
    command = [sys.executable, __file__, "--run-one", str(workspace_dir), str(km), str(workers)]
    if floor:
        command.append("--floor")
    if plain:
        command.append("--plain")
    if tile_m:
        command += ["--tile-m", str(tile_m)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--run-one", nargs=3, metavar=("WORKSPACE", "KM", "WORKERS"))
    parser.add_argument("--floor", action="store_true")
    parser.add_argument("--plain", action="store_true")
    parser.add_argument("--tile-m", type=float, default=None)
    args = parser.parse_args()
    if args.run_one:
        workspace_dir, km, workers = args.run_one
        if args.plain:
            row = run_plain(Path(workspace_dir), float(km), int(workers), args.tile_m)
        else:
            row = run_one(Path(workspace_dir), float(km), int(workers), args.floor, args.tile_m)
        print(json.dumps(row))
        return
    side = 2048 if args.quick else 8192
    sizes = [side * 10 / 1000 / 4 - 2, side * 10 / 1000 / 2 - 2, side * 10 / 1000 - 2]
    folder = Path(tempfile.mkdtemp(prefix="scan-bench-"))
    try:
        started = time.perf_counter()
        before, after = build(folder, side)
        ingest(folder / "ws", before, after)
        print(
            f"built and ingested {side} x {side} px pair in {time.perf_counter() - started:.0f} s"
        )
        rows = []
        runs = [(km, workers, False, None, False) for km in sizes[:-1] for workers in (1, 2)]
        # The largest AOI, which the acceptance numbers come from, is measured REPEATS
        # times, 1 and 2 workers alternating: on this virtual machine two runs minutes
        # apart gave 1.34x and 1.74x, so one pair is not a measurement.
        # Each repeat also runs the same tiles in plain processes (the hardware's ratio).
        runs += [
            (sizes[-1], workers, False, None, plain)
            for _ in range(REPEATS)
            for plain in (False, True)
            for workers in (1, 2)
        ]
        runs += [(sizes[-1], workers, False, SMALL_TILE_M, False) for workers in (1, 2)]
        runs += [(sizes[-1], workers, True, None, False) for workers in (1, 2)]
        for km, workers, floor, tile_m, plain in runs:
            rows.append(measure(folder / "ws", km, workers, floor, tile_m, plain))
            print(rows[-1], flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    report(rows, side, args.quick)


def report(rows: list[dict], side: int, quick: bool) -> None:
    print(f"\n{'mode':15} {'AOI':>6} {'tile':>5} {'workers':>7} {'tiles':>5} {'km2':>8} {'s':>7} "
          f"{'km2/min':>8} {'Mpx/s':>6} {'client MB':>9} {'worker MB':>9}")  # fmt: skip
    for row in rows:
        worker_mb = row["worker_peak_rss_mb"]
        print(
            f"{row['mode']:15} {row['aoi_km']:>5.1f}k {row['tile_m'] / 1000:>4.2f}k "
            f"{row['workers']:>7} {row['tiles']:>5} "
            f"{row['km2']:>8.1f} {row['seconds']:>7.1f} {row['km2_per_min']:>8.1f} "
            f"{row['mpx_per_s']:>6.2f} {row['client_peak_rss_mb']:>9.0f} "
            f"{'-' if worker_mb is None else f'{worker_mb:.0f}':>9}"
        )
    largest = max(row["aoi_km"] for row in rows)
    default_tile = max(row["tile_m"] for row in rows)
    summary: dict[str, dict] = {}
    for tile_m in sorted({row["tile_m"] for row in rows}, reverse=True):
        seconds, speedups = _pairs(rows, "scan", largest, tile_m)
        speedup = float(statistics.median(speedups))
        km2 = next(r["km2"] for r in rows if r["aoi_km"] == largest and r["tile_m"] == tile_m)
        projected_min = PRK_KM2 / (km2 / statistics.median(seconds[2]) * 60)
        label = "default" if tile_m == default_tile else "former default"
        print(
            f"\n{tile_m / 1000:.2f} km tiles ({label}), largest AOI: 2 workers vs 1 "
            f"{speedup:.2f}x (median of {', '.join(f'{x:.2f}' for x in speedups)}); "
            f"North Korea ({PRK_KM2:,.0f} km2, 10 m, two dates) projected with 2 workers "
            f"(median time): {projected_min:.1f} min"
        )
        summary[f"{tile_m:.0f}"] = {
            "speedups_2_vs_1": [round(x, 2) for x in speedups],
            "speedup_2_vs_1_median": round(speedup, 2),
            "projected_prk_minutes_2_workers": round(projected_min, 1),
        }
        _, plain = _pairs(rows, "plain processes", largest, tile_m)
        if plain:
            print(
                f"  the same tiles in plain processes (no Dask, no client): 2 vs 1 "
                f"{statistics.median(plain):.2f}x (median of "
                f"{', '.join(f'{x:.2f}' for x in plain)})"
            )
            summary[f"{tile_m:.0f}"] |= {
                "plain_processes_speedups_2_vs_1": [round(x, 2) for x in plain],
                "plain_processes_speedup_2_vs_1_median": round(statistics.median(plain), 2),
            }
    save_results(
        RESULTS,
        {
            "benchmark": "scan_throughput",
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine(load_average_at_end=os.getloadavg()),
            "quick": quick,
            "method": DEFAULT_SCAN_METHOD,
            "raster_side_px": side,
            "default_tile_m": default_tile,
            "rows": rows,
            "by_tile_size_on_largest_aoi": summary,
        },
    )


def _pairs(
    rows: list[dict], mode: str, km: float, tile_m: float
) -> tuple[dict[int, list[float]], list[float]]:
    """Seconds by worker count of ``mode`` runs, and the 1-vs-2 ratio of each pair (runs
    alternate 1 and 2 workers)."""
    seconds = {
        workers: [
            r["seconds"]
            for r in rows
            if r["mode"] == mode
            and r["aoi_km"] == km
            and r["tile_m"] == tile_m
            and r["workers"] == workers
        ]
        for workers in (1, 2)
    }
    return seconds, [one / two for one, two in zip(seconds[1], seconds[2], strict=True)]


if __name__ == "__main__":
    main()
