"""A tiny synthetic Sentinel-2-like catalog for scan tests: UTM 52N, 10 m, four bands.

Two BEFORE scenes (one with a white cloud block) and two AFTER scenes (with a bright
bare-soil block where BEFORE had vegetation), 256 x 256 px, written with rasterio and
ingested with :func:`sitewatch.imagery.ingest.add_scenes`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from pyproj import Transformer

from sitewatch.imagery.ingest import add_scenes
from sitewatch.workspace import Workspace

EPSG = 32652
ORIGIN = (400_000.0, 4_402_560.0)  # top-left, a multiple of the 640 m test tile
SIDE = 256
BANDS = ("B02", "B03", "B04", "B08")
CHANGE = (slice(100, 130), slice(140, 170))  # rows, cols of the injected change
CLOUD = (slice(20, 80), slice(20, 80))
TILE_SIZE_M = 640.0
BEFORE = "2019-04-01/2019-06-30"
AFTER = "2020-04-01/2020-06-30"


def ground(seed: int) -> np.ndarray:
    """Vegetated texture, reflectance x 10000 (band, y, x) float."""
    rng = np.random.default_rng(seed)
    field = rng.normal(0, 1, (SIDE // 8, SIDE // 8)).repeat(8, 0).repeat(8, 1)
    base = np.array([500.0, 800.0, 600.0, 3000.0])[:, None, None]
    return base * (1 + 0.15 * field[None])


def scene(base: np.ndarray, seed: int, *, change: bool = False, cloud: bool = False) -> np.ndarray:
    rng = np.random.default_rng(seed)
    image = base * rng.uniform(0.97, 1.03) + rng.normal(0, 25, base.shape)
    if change:
        image[(slice(None), *CHANGE)] = np.array([2200.0, 2400.0, 2900.0, 3100.0])[:, None, None]
    if cloud:
        image[(slice(None), *CLOUD)] = 6000.0
    return np.clip(image, 1, 10000).astype(np.uint16)


def write_scene(path: Path, data: np.ndarray) -> Path:
    profile = {
        "driver": "GTiff",
        "width": SIDE,
        "height": SIDE,
        "count": len(BANDS),
        "dtype": "uint16",
        "crs": f"EPSG:{EPSG}",
        "transform": Affine(10.0, 0, ORIGIN[0], 0, -10.0, ORIGIN[1]),
        "tiled": True,
        "blockxsize": 128,
        "blockysize": 128,
    }
    with rasterio.open(path, "w", **profile) as dest:
        for index, band in enumerate(BANDS, start=1):
            dest.set_band_description(index, band)
        dest.write(data)
    return path


def build_catalog(workspace: Workspace, folder: Path) -> None:
    """Write and ingest the four scenes."""
    folder.mkdir(parents=True, exist_ok=True)
    base = ground(1)
    scenes = [
        ("b1.tif", scene(base, 2, cloud=True), "2019-05-01T02:00:00Z"),
        ("b2.tif", scene(base, 3), "2019-05-11T02:00:00Z"),
        ("a1.tif", scene(base, 4, change=True), "2020-05-01T02:00:00Z"),
        ("a2.tif", scene(base, 5, change=True), "2020-05-21T02:00:00Z"),
    ]
    with workspace.session() as session:
        for name, data, when in scenes:
            add_scenes(session, [write_scene(folder / name, data)], datetime_text=when)


def lonlat(x: float, y: float) -> tuple[float, float]:
    transformer = Transformer.from_crs(EPSG, 4326, always_xy=True)
    return transformer.transform(x, y)


def inner_bbox() -> str:
    """A bbox AOI a little inside the scenes (so every tile has imagery)."""
    west, south = lonlat(ORIGIN[0] + 50, ORIGIN[1] - SIDE * 10 + 50)
    east, north = lonlat(ORIGIN[0] + SIDE * 10 - 50, ORIGIN[1] - 50)
    return f"bbox:{west:.6f},{south:.6f},{east:.6f},{north:.6f}"


def change_centre() -> tuple[float, float]:
    rows, cols = CHANGE
    x = ORIGIN[0] + 10 * (cols.start + cols.stop) / 2
    y = ORIGIN[1] - 10 * (rows.start + rows.stop) / 2
    return lonlat(x, y)
