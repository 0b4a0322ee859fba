"""What the benchmark scripts share: peak memory, and big rasters made from real tiles.

The scripts import it as a sibling module (``python benchmarks/NAME.py`` puts this folder
on ``sys.path``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from rasterio.io import DatasetWriter
from rasterio.windows import Window


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM), in MB: what the machine really gave it."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def write_repeated(dest: DatasetWriter, tile: np.ndarray, block: int) -> None:
    """Fill ``dest`` with ``tile`` (band, y, x) repeated, one ``block``-sized window at a time.

    Repeating real imagery keeps its texture and change structure while the memory used
    stays one block, whatever the raster size.
    """
    for row in range(0, dest.height, block):
        for col in range(0, dest.width, block):
            rows, cols = min(block, dest.height - row), min(block, dest.width - col)
            ys = (np.arange(row, row + rows) % tile.shape[1])[:, None]
            xs = (np.arange(col, col + cols) % tile.shape[2])[None, :]
            dest.write(tile[:, ys, xs], window=Window(col, row, cols, rows))
