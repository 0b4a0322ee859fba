"""A tiny synthetic Sentinel-2-like catalog for scan tests: UTM 52N, 10 m, four bands.

Two BEFORE scenes (one with a white cloud block) and two AFTER scenes (with a bright
roof-like block where BEFORE had vegetation: NDVI 0.67 to 0.03, structural change),
256 x 256 px, written with rasterio and ingested with
:func:`sitewatch.imagery.ingest.add_scenes`. With ``harvest``, the AFTER scenes also hold a
field harvested to bare soil (NDVI 0.67 to 0.21: vegetation-phase change). With ``lake``,
every scene holds a lake, clear BEFORE and turbid AFTER (NDWI 0.60 and 0.52: change on
water of both dates).

:func:`build_like_catalog` is a second catalog for "find more like this": an exemplar
compound (a catalog site) and look-alikes of it planted in other tiles.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from affine import Affine
from pyproj import Transformer
from shapely.geometry import Polygon

from sitewatch.db.models import Site
from sitewatch.demo.synthetic import write_synthetic_pair
from sitewatch.imagery.ingest import add_scenes
from sitewatch.scan.plan import ScanRequest
from sitewatch.scan.runner import prepare_scan, run_scan
from sitewatch.workspace import Workspace

EPSG = 32652
ORIGIN = (400_000.0, 4_402_560.0)  # top-left, a multiple of the 640 m test tile
SIDE = 256
BANDS = ("B02", "B03", "B04", "B08")
CHANGE = (slice(100, 130), slice(140, 170))  # rows, cols of the injected change
CLOUD = (slice(20, 80), slice(20, 80))
HARVEST = (slice(170, 200), slice(60, 90))  # rows, cols of the harvested field
#: Bare soil after the harvest, reflectance x 10000 (B02, B03, B04, B08): NDVI 0.21.
SOIL = (900.0, 1200.0, 1500.0, 2300.0)
LAKE = (slice(200, 240), slice(150, 200))  # rows, cols of the lake
#: The lake BEFORE and AFTER, reflectance x 10000 (B02, B03, B04, B08): NDWI 0.60, 0.52.
CLEAR_WATER = (600.0, 800.0, 400.0, 200.0)
TURBID_WATER = (1200.0, 1600.0, 1300.0, 500.0)
TILE_SIZE_M = 640.0
BEFORE = "2019-04-01/2019-06-30"
AFTER = "2020-04-01/2020-06-30"


def ground(seed: int) -> np.ndarray:
    """Vegetated texture, reflectance x 10000 (band, y, x) float."""
    rng = np.random.default_rng(seed)
    field = rng.normal(0, 1, (SIDE // 8, SIDE // 8)).repeat(8, 0).repeat(8, 1)
    base = np.array([500.0, 800.0, 600.0, 3000.0])[:, None, None]
    return base * (1 + 0.15 * field[None])


def scene(
    base: np.ndarray,
    seed: int,
    *,
    change: bool = False,
    cloud: bool = False,
    harvest: bool = False,
    water: tuple[float, ...] | None = None,
) -> np.ndarray:
    rng = np.random.default_rng(seed)
    image = base * rng.uniform(0.97, 1.03) + rng.normal(0, 25, base.shape)
    if change:
        image[(slice(None), *CHANGE)] = np.array([2200.0, 2400.0, 2900.0, 3100.0])[:, None, None]
    if harvest:
        image[(slice(None), *HARVEST)] = np.array(SOIL)[:, None, None]
    if water is not None:
        image[(slice(None), *LAKE)] = np.array(water)[:, None, None]
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


def build_catalog(
    workspace: Workspace, folder: Path, *, harvest: bool = False, lake: bool = False
) -> None:
    """Write and ingest the four scenes (``harvest``: the AFTER ones with the field
    harvested; ``lake``: all with the lake, turbid in the AFTER ones)."""
    folder.mkdir(parents=True, exist_ok=True)
    base = ground(1)
    before_water = CLEAR_WATER if lake else None
    after = {"change": True, "harvest": harvest, "water": TURBID_WATER if lake else None}
    scenes = [
        ("b1.tif", scene(base, 2, cloud=True, water=before_water), "2019-05-01T02:00:00Z"),
        ("b2.tif", scene(base, 3, water=before_water), "2019-05-11T02:00:00Z"),
        ("a1.tif", scene(base, 4, **after), "2020-05-01T02:00:00Z"),
        ("a2.tif", scene(base, 5, **after), "2020-05-21T02:00:00Z"),
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


def scan_request(**changes: Any) -> ScanRequest:
    """The scan of the synthetic catalog: :func:`inner_bbox`, its two windows, the test
    tile size (``changes``: any other :class:`ScanRequest` field, or one of these)."""
    values = {
        "aoi": inner_bbox(),
        "before": BEFORE,
        "after": AFTER,
        "tile_size_m": TILE_SIZE_M,
    }
    return ScanRequest(**{**values, **changes})


def change_centre() -> tuple[float, float]:
    rows, cols = CHANGE
    x = ORIGIN[0] + 10 * (cols.start + cols.stop) / 2
    y = ORIGIN[1] - 10 * (rows.start + rows.stop) / 2
    return lonlat(x, y)


# ---------------------------------------------------------------- "find more like this"
#
# A built-up compound (bright roofs on a 6 px street grid, a concrete-like spectrum) is the
# exemplar site in one corner tile; the same kind of compound is planted in two other tiles,
# the farthest corner and the far end of the first row. A "concrete" patch of the compounds'
# mean colour but with no street grid sits in a fourth tile, and the AFTER scenes carry the
# change block of :func:`scene` (tiles at block rows 1-2, column 2), so the tile with the
# most change is not a compound. Everything else is the vegetated ground of :func:`ground`.
# A block is one 640 m test tile (64 px); blocks are (row, col) from the top-left corner.

BLOCK_PX = round(TILE_SIZE_M / 10)
COMPOUND_PX = 48
ROOF = (1300.0, 1500.0, 1800.0, 2100.0)
STREET = (400.0, 450.0, 500.0, 550.0)
STREET_PERIOD_PX, STREET_WIDTH_PX = 6, 2
# (block, offset of the compound's top-left pixel inside the block): offsets differ so the
# street grids do not line up with each other or with the tiles.
EXEMPLAR_COMPOUND = ((0, 0), (8, 8))
PLANTED_COMPOUNDS = (((3, 3), (4, 12)), ((0, 3), (12, 5)))
CONCRETE_PATCH = ((1, 1), (8, 8))
EXEMPLAR_SITE = "compound-exemplar"


def _patch(block: tuple[int, int], offset: tuple[int, int]) -> tuple[slice, slice]:
    top = block[0] * BLOCK_PX + offset[0]
    left = block[1] * BLOCK_PX + offset[1]
    return slice(top, top + COMPOUND_PX), slice(left, left + COMPOUND_PX)


def _compound(seed: int) -> np.ndarray:
    """Roofs and streets, reflectance x 10000 (band, y, x), with 5 % roof-to-roof variation."""
    rng = np.random.default_rng(seed)
    rows, cols = np.indices((COMPOUND_PX, COMPOUND_PX))
    street = (rows % STREET_PERIOD_PX < STREET_WIDTH_PX) | (
        cols % STREET_PERIOD_PX < STREET_WIDTH_PX
    )
    colour = np.where(street[None], np.array(STREET)[:, None, None], np.array(ROOF)[:, None, None])
    return colour * (1 + 0.05 * rng.standard_normal((COMPOUND_PX, COMPOUND_PX)))[None]


def like_ground(seed: int) -> np.ndarray:
    """The vegetated ground with the three compounds and the concrete patch in place."""
    base = ground(seed)
    for number, (block, offset) in enumerate((EXEMPLAR_COMPOUND, *PLANTED_COMPOUNDS)):
        base[(slice(None), *_patch(block, offset))] = _compound(seed + 10 + number)
    concrete = _compound(seed + 20).mean(axis=(1, 2))[:, None, None]
    rng = np.random.default_rng(seed + 30)
    texture = 1 + 0.02 * rng.standard_normal((COMPOUND_PX, COMPOUND_PX))
    base[(slice(None), *_patch(*CONCRETE_PATCH))] = concrete * texture[None]
    return base


def build_like_catalog(workspace: Workspace, folder: Path) -> None:
    """Write and ingest two BEFORE and two AFTER scenes of :func:`like_ground` (no cloud) and
    add the exemplar compound as a polygon site (its outline, 20 m inside the roofs)."""
    folder.mkdir(parents=True, exist_ok=True)
    base = like_ground(1)
    scenes = [
        ("b1.tif", scene(base, 2), "2019-05-01T02:00:00Z"),
        ("b2.tif", scene(base, 3), "2019-05-11T02:00:00Z"),
        ("a1.tif", scene(base, 4, change=True), "2020-05-01T02:00:00Z"),
        ("a2.tif", scene(base, 5, change=True), "2020-05-21T02:00:00Z"),
    ]
    rows, cols = _patch(*EXEMPLAR_COMPOUND)
    west, north = ORIGIN[0] + 10 * cols.start + 20, ORIGIN[1] - 10 * rows.start - 20
    east, south = ORIGIN[0] + 10 * cols.stop - 20, ORIGIN[1] - 10 * rows.stop + 20
    corners = [
        lonlat(x, y) for x, y in ((west, south), (east, south), (east, north), (west, north))
    ]
    with workspace.session() as session:
        for name, data, when in scenes:
            add_scenes(session, [write_scene(folder / name, data)], datetime_text=when)
        site = Site(id=EXEMPLAR_SITE, name="Exemplar compound", geometry=Polygon(corners))
        site.set_bbox(site.geometry)
        session.add(site)


def block_tile_key(block: tuple[int, int]) -> str:
    """The scan tile key of a block (zone 52N, tile column and row in 640 m units)."""
    col = round(ORIGIN[0] / TILE_SIZE_M) + block[1]
    row = round(ORIGIN[1] / TILE_SIZE_M) - 1 - block[0]
    return f"52N_{col}_{row}"


# ---------------------------------------------------------------- the demo's pair, scanned


def scan_demo_pair(workspace: Workspace, folder: Path, client: Any) -> str:
    """Ingest the demo's synthetic pair (:mod:`sitewatch.demo.synthetic`) and scan its site
    area with the real scan service on ``client``; returns the scan id. About twenty
    candidates on one tile, none near a site unless the caller's catalog has one there."""
    pair = write_synthetic_pair(folder)
    with workspace.session() as session:
        add_scenes(session, [scene.path for scene in pair.scenes])
    west, south, east, north = pair.site_geometry.bounds
    request = ScanRequest(
        aoi=f"bbox:{west},{south},{east},{north}",
        before=f"{pair.before.acquired:%Y-%m-%d}/{pair.before.acquired:%Y-%m-%d}",
        after=f"{pair.after.acquired:%Y-%m-%d}/{pair.after.acquired:%Y-%m-%d}",
    )
    return run_scan(workspace, prepare_scan(workspace, request), client).scan_id
