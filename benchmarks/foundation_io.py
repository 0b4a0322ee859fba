"""Ingest and site-stack I/O on real imagery, each beside its physical floor.

1. Ingest: every OSCD city's two dates (48 Sentinel-2 scenes, 13 band files each) through
   :func:`sitewatch.imagery.ingest.add_scenes`, against the floor of only reading and
   SHA-256-hashing the same bytes (hashing every byte is what makes re-adding a no-op and
   evidence checkable, so no ingest can be cheaper).
2. Site stacks: a large tiled GeoTIFF mosaicked from real OSCD 10 m bands (4 bands,
   ``MOSAIC_SIZE`` squared pixels) is catalogued once; :func:`load_site_stack` then reads
   sites of 1, 4 and 16 km across. Each read runs in a fresh process so its peak resident
   memory (VmHWM) is its own. The floor is a plain rasterio read of the same window of the
   same file; the naive peer reads whole bands, as a tool without windowed reads does.

Run: .venv/bin/python benchmarks/foundation_io.py   (about two minutes, ~1 GB in /tmp)
"""

from __future__ import annotations

import hashlib
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
from rasterio.windows import from_bounds

from measure import peak_rss_mb, read_oscd_bands, write_repeated

ROOT = Path(__file__).resolve().parents[1]
OSCD = ROOT.parent / "shared" / "data" / "oscd" / "images"
RESULTS = ROOT / "benchmarks" / "results" / "foundation_io.json"
MOSAIC_SIZE = 16384
MOSAIC_BANDS = ("B02", "B03", "B04", "B08")
SITE_SIZES_M = (1000.0, 4000.0, 16000.0)
# Lower-left corner of the mosaic in EPSG:32631 (near Paris), metres.
ORIGIN_X, ORIGIN_Y = 420000.0, 5_300_000.0


def bench_ingest(work: Path) -> dict[str, float]:
    from sitewatch.imagery.ingest import add_scenes
    from sitewatch.workspace import init_workspace

    folders = sorted(p for p in OSCD.glob("*/imgs_[12]") if p.is_dir())
    files = [f for folder in folders for f in sorted(folder.glob("*.tif"))]
    size = sum(f.stat().st_size for f in files)

    start = time.perf_counter()
    for file in files:
        digest = hashlib.sha256()
        with file.open("rb") as handle:
            for chunk in iter(lambda h=handle: h.read(1 << 20), b""):
                digest.update(chunk)
    floor = time.perf_counter() - start

    with init_workspace(work / "ingest-ws") as workspace:
        start = time.perf_counter()
        with workspace.session() as session:
            outcomes = add_scenes(session, folders)
        elapsed = time.perf_counter() - start
        start = time.perf_counter()
        with workspace.session() as session:
            again = add_scenes(session, folders)
        readd = time.perf_counter() - start
    assert all(outcome.status == "present" for outcome in again)
    return {
        "scenes": len(outcomes),
        "files": len(files),
        "megabytes": size / 1e6,
        "ingest_s": elapsed,
        "ingest_scenes_per_s": len(outcomes) / elapsed,
        "floor_hash_only_s": floor,
        "ingest_over_floor": elapsed / floor,
        "readd_noop_s": readd,
    }


def build_mosaic(path: Path) -> None:
    """A 4-band tiled GeoTIFF of real OSCD texture, written block by block."""
    tile = read_oscd_bands(OSCD / "paris" / "imgs_1", MOSAIC_BANDS)
    transform = rasterio.transform.from_origin(ORIGIN_X, ORIGIN_Y + MOSAIC_SIZE * 10.0, 10.0, 10.0)
    write_repeated(
        path, tile, MOSAIC_BANDS, MOSAIC_SIZE, crs="EPSG:32631", transform=transform, block=2048
    )


def child_stack(workspace: str, site_id: str) -> dict[str, float]:
    from sitewatch.imagery.stack import load_site_stack
    from sitewatch.workspace import open_workspace

    with open_workspace(workspace) as ws:
        start = time.perf_counter()
        stack = load_site_stack(ws, site_id)
        elapsed = time.perf_counter() - start
    return {"seconds": elapsed, "pixels": int(stack.sizes["y"] * stack.sizes["x"])}


def child_window(mosaic: str, size_m: float) -> dict[str, float]:
    centre_x, centre_y = _site_centre()
    with rasterio.open(mosaic) as source:
        half = size_m / 2
        window = from_bounds(
            centre_x - half, centre_y - half, centre_x + half, centre_y + half, source.transform
        )
        start = time.perf_counter()
        data = source.read(window=window.round_offsets().round_lengths())
        elapsed = time.perf_counter() - start
    return {"seconds": elapsed, "pixels": int(data.shape[1] * data.shape[2])}


def child_full(mosaic: str) -> dict[str, float]:
    with rasterio.open(mosaic) as source:
        start = time.perf_counter()
        total = 0.0
        for band in range(1, source.count + 1):
            total += float(source.read(band).mean())
        elapsed = time.perf_counter() - start
    return {"seconds": elapsed, "pixels": MOSAIC_SIZE * MOSAIC_SIZE}


def _site_centre() -> tuple[float, float]:
    middle = MOSAIC_SIZE * 10.0 / 2
    return ORIGIN_X + middle, ORIGIN_Y + middle


def run_child(*args: str) -> dict[str, float]:
    output = subprocess.run(
        [sys.executable, __file__, "--child", *args], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def bench_stacks(work: Path) -> list[dict[str, float]]:
    from pyproj import Transformer
    from shapely.geometry import Point

    from sitewatch.catalog.records import SiteRecord
    from sitewatch.catalog.sites import import_sites
    from sitewatch.imagery.ingest import add_scenes
    from sitewatch.workspace import init_workspace

    mosaic = work / "mosaic_20170101.tif"
    build_mosaic(mosaic)
    to_lonlat = Transformer.from_crs("EPSG:32631", "EPSG:4326", always_xy=True)
    lon, lat = to_lonlat.transform(*_site_centre())
    workspace_dir = work / "stack-ws"
    with init_workspace(workspace_dir) as workspace, workspace.session() as session:
        add_scenes(session, [mosaic])
        import_sites(
            session,
            [
                SiteRecord(
                    id=f"site-{int(size)}",
                    name=f"site {int(size)} m",
                    geometry=Point(lon, lat),
                    uncertainty_m=size / 2,
                )
                for size in SITE_SIZES_M
            ],
        )
    rows = []
    for size in SITE_SIZES_M:
        stack = run_child("stack", str(workspace_dir), f"site-{int(size)}")
        floor = run_child("window", str(mosaic), str(size))
        rows.append(
            {
                "site_km": size / 1000,
                "pixels": stack["pixels"],
                "stack_s": stack["seconds"],
                "stack_peak_rss_mb": stack["peak_rss_mb"],
                "floor_window_s": floor["seconds"],
                "floor_peak_rss_mb": floor["peak_rss_mb"],
            }
        )
    full = run_child("full", str(mosaic))
    rows.append(
        {
            "site_km": MOSAIC_SIZE * 10 / 1000,
            "pixels": full["pixels"],
            "naive_full_band_reads_s": full["seconds"],
            "naive_peak_rss_mb": full["peak_rss_mb"],
        }
    )
    return rows


def main() -> None:
    if not OSCD.is_dir():
        sys.exit(f"OSCD imagery not found at {OSCD}")
    with tempfile.TemporaryDirectory(prefix="sitewatch-bench-") as tmp:
        work = Path(tmp)
        ingest = bench_ingest(work)
        stacks = bench_stacks(work)
    print("\nIngest (48 OSCD scenes, real Sentinel-2 band files)")
    print(f"{'scenes':>7} {'MB':>7} {'ingest s':>9} {'floor s':>8} {'x floor':>8} {'re-add s':>9}")
    print(
        f"{ingest['scenes']:>7} {ingest['megabytes']:>7.1f} {ingest['ingest_s']:>9.2f} "
        f"{ingest['floor_hash_only_s']:>8.2f} {ingest['ingest_over_floor']:>8.2f} "
        f"{ingest['readd_noop_s']:>9.2f}"
    )
    print(f"\nSite stacks from a {MOSAIC_SIZE}x{MOSAIC_SIZE}x4 real-texture mosaic")
    print(
        f"{'site km':>8} {'pixels':>10} {'stack s':>8} {'peak MB':>8} {'floor s':>8} {'peak MB':>8}"
    )
    for row in stacks:
        if "stack_s" in row:
            print(
                f"{row['site_km']:>8.0f} {row['pixels']:>10} {row['stack_s']:>8.3f} "
                f"{row['stack_peak_rss_mb']:>8.0f} {row['floor_window_s']:>8.3f} "
                f"{row['floor_peak_rss_mb']:>8.0f}"
            )
        else:
            print(
                f"naive: whole bands ({row['pixels']} px/band) "
                f"{row['naive_full_band_reads_s']:.2f} s, peak {row['naive_peak_rss_mb']:.0f} MB"
            )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                f"Python {platform.python_version()}",
                "ingest": ingest,
                "stacks": stacks,
            },
            indent=2,
        )
    )
    print(f"\nsaved {RESULTS}")


def child_main(kind: str, *args: str) -> None:
    runners = {"stack": child_stack, "window": child_window, "full": child_full}
    parsed = [float(a) if a.replace(".", "", 1).isdigit() else a for a in args]
    result = runners[kind](*parsed)
    result["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(result))


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child_main(sys.argv[2], *sys.argv[3:])
    else:
        main()
