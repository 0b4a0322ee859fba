"""What the benchmark scripts share: peak memory, OSCD bands, big rasters of real texture.

The scripts import it as a sibling module (``python benchmarks/NAME.py`` puts this folder
on ``sys.path``).
"""

from __future__ import annotations

import json
import os
import platform
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from affine import Affine
from rasterio.windows import Window


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM), in MB: what the machine really gave it."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def machine(**extra: Any) -> dict[str, Any]:
    """What the results of a run were measured on (plus ``extra`` facts of that run)."""
    return {
        "python": platform.python_version(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        **extra,
    }


def save_results(path: Path, report: dict[str, Any]) -> None:
    """Write a run's JSON report whole or not at all (a temporary file, then a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(report, indent=2) + "\n")
    temporary.replace(path)
    print(f"saved {path}")


class AnonymousPeak:
    """Peak anonymous resident memory (RssAnon) of this process, sampled every 20 ms.

    VmHWM also counts pages of memory-mapped files (inputs, a file-backed mask), which
    the kernel writes back and drops under pressure; RssAnon is what must stay in RAM.
    The kernel keeps no high-water mark of it, hence the sampling thread (a peak shorter
    than 20 ms can be missed). Use as a context manager; read ``megabytes`` after.
    """

    def __init__(self, interval_s: float = 0.02) -> None:
        self.interval_s = interval_s
        self.megabytes = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while True:
            for line in Path("/proc/self/status").read_text().splitlines():
                if line.startswith("RssAnon:"):
                    self.megabytes = max(self.megabytes, int(line.split()[1]) / 1024)
            if self._stop.wait(self.interval_s):
                return

    def __enter__(self) -> AnonymousPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def read_oscd_bands(folder: Path, bands: Sequence[str]) -> np.ndarray:
    """The per-band files of one OSCD date, stacked (band, y, x) in their stored dtype."""
    stacked = []
    for band in bands:
        (path,) = sorted(folder.glob(f"*_{band}.tif"))
        with rasterio.open(path) as source:
            stacked.append(source.read(1))
    return np.stack(stacked)


def write_repeated(
    path: Path,
    tile: np.ndarray,
    band_names: Sequence[str],
    side: int,
    *,
    crs: str,
    transform: Affine,
    block: int = 1024,
) -> None:
    """A ``side`` x ``side`` tiled GeoTIFF of ``tile`` (band, y, x) repeated, block by block.

    Repeating real imagery keeps its texture and change structure while the memory used
    stays one block, whatever the raster size.
    """
    profile = {
        "driver": "GTiff",
        "width": side,
        "height": side,
        "count": len(band_names),
        "dtype": tile.dtype.name,
        "crs": crs,
        "transform": transform,
        "tiled": True,
        "blockxsize": 512,
        "blockysize": 512,
        "compress": "deflate",
        "predictor": 2,
        "BIGTIFF": "YES",
    }
    with rasterio.open(path, "w", **profile) as dest:
        for index, name in enumerate(band_names, start=1):
            dest.set_band_description(index, name)
        for row in range(0, side, block):
            for col in range(0, side, block):
                rows, cols = min(block, side - row), min(block, side - col)
                ys = (np.arange(row, row + rows) % tile.shape[1])[:, None]
                xs = (np.arange(col, col + cols) % tile.shape[2])[None, :]
                dest.write(tile[:, ys, xs], window=Window(col, row, cols, rows))


def detect_pair_mask(oscd: Path, city: str, out: Path, options: Any) -> np.ndarray:
    """``change_mask.tif`` of ``detect_pair`` (``options``: its ``DetectionOptions``) on an
    OSCD city's two dates, written to ``out``: 1 change, 0 none, 255 not compared. It is on
    the 10 m grid of ``imgs_1``, the grid of the city's labels."""
    from sitewatch.detect.pair import detect_pair

    folder = oscd / "images" / city
    detect_pair(folder / "imgs_1", folder / "imgs_2", out, options=options)
    with rasterio.open(out / "change_mask.tif") as mask_file:
        return mask_file.read(1)
