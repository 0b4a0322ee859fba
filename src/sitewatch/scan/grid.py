"""The tile grid of a scan: square tiles in the UTM zone each one lies in.

Why UTM per zone rather than one CRS for the whole area: imagery (Sentinel-2, Landsat,
most vendor products) is delivered in the UTM zone of its footprint, and a tile in that
same zone on the same 10 m lattice is read with a plain window, no warping, which is the
difference between I/O speed and warp speed. An area spanning two zones (North Korea
spans 51N west of 126 E and 52N east of it) therefore gets two grids: the part of the area
in each zone's longitude band is tiled in that zone. Tiles of two zones overlap by at most
one tile width along the zone boundary, so a change right on the boundary can be found
twice; nothing is missed. Areas are mostly in one hemisphere: the hemisphere of the area's
centroid is used for every tile.

Tiles sit on multiples of the tile size in zone coordinates, so a tile's key
``<zone><N|S>_<col>_<row>`` (``col = floor(easting / size)``, ``row = floor(northing /
size)``) depends only on where it is, never on the area: a resumed scan, or a later scan
of an overlapping area, finds the same tiles.

**Halo.** A tile is read and detected with a margin of ``halo_px`` context pixels on
every side (:attr:`Tile.read_bounds`), but owns only the objects whose centroid lies in
its square (:attr:`Tile.core`; half-open, so a centroid on the line between two squares
belongs to exactly one). An object cut by a tile edge is then traced whole by the tile
holding its centroid and dropped by its neighbour, instead of being two halves, and the
change scores near an edge see context on both sides. An object reaching further than the
halo beyond the square is still cut where the read window ends (both neighbours may then
keep their view of it; places join them again, :mod:`sitewatch.scan.places`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import shapely
from affine import Affine
from pyproj import CRS, Transformer
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from sitewatch import limits
from sitewatch.errors import InputError
from sitewatch.geo import WGS84, to_crs

DEFAULT_TILE_SIZE_M = 5120.0
DEFAULT_RESOLUTION_M = 10.0
#: Context pixels read around each tile (see the module docstring): 16 px, 160 m at 10 m,
#: wider than the building sites and earthworks OSCD labels mostly are, for 13 % more
#: pixels on a 512 px tile (benchmarks/scan_throughput.py measures the cost).
DEFAULT_HALO_PX = 16


@dataclass(frozen=True)
class Tile:
    """One square tile: its key, zone CRS, position and pixel grid."""

    key: str
    epsg: int
    col: int
    row: int
    size_m: float
    resolution_m: float
    #: Context pixels read on every side of the square (see the module docstring).
    halo_px: int = 0

    @property
    def crs(self) -> CRS:
        return CRS.from_epsg(self.epsg)

    @property
    def pixels(self) -> int:
        """Pixels along each side."""
        return round(self.size_m / self.resolution_m)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(min x, min y, max x, max y) in the zone CRS, metres."""
        left, bottom = self.col * self.size_m, self.row * self.size_m
        return left, bottom, left + self.size_m, bottom + self.size_m

    @property
    def transform(self) -> Affine:
        left, _, _, top = self.bounds
        return Affine(self.resolution_m, 0.0, left, 0.0, -self.resolution_m, top)

    def outline(self) -> BaseGeometry:
        """The tile square in the zone CRS."""
        return box(*self.bounds)

    @property
    def read_pixels(self) -> int:
        """Pixels along each side of the window read: the square and its halo."""
        return self.pixels + 2 * self.halo_px

    @property
    def read_bounds(self) -> tuple[float, float, float, float]:
        """The window read (the square grown by the halo), zone CRS, metres."""
        margin = self.halo_px * self.resolution_m
        left, bottom, right, top = self.bounds
        return left - margin, bottom - margin, right + margin, top + margin

    @property
    def read_transform(self) -> Affine:
        left, _, _, top = self.read_bounds
        return Affine(self.resolution_m, 0.0, left, 0.0, -self.resolution_m, top)

    def read_outline(self) -> BaseGeometry:
        """The window read, in the zone CRS."""
        return box(*self.read_bounds)

    def read_lonlat_outline(self) -> BaseGeometry:
        """The window read in lon/lat (what the scenes it needs must touch)."""
        if not self.halo_px:
            return self.lonlat_outline()
        side = self.size_m + 2 * self.halo_px * self.resolution_m
        return reproject(self.read_outline().segmentize(side / 8), self.epsg, LONLAT_EPSG)

    @property
    def core(self) -> tuple[slice, slice]:
        """(rows, cols) of the square inside the window read."""
        inner = slice(self.halo_px, self.halo_px + self.pixels)
        return inner, inner

    def lonlat_outline(self) -> BaseGeometry:
        """The tile in lon/lat (edges densified: UTM squares are not lon/lat rectangles)."""
        return reproject(self.outline().segmentize(self.size_m / 8), self.epsg, LONLAT_EPSG)


LONLAT_EPSG = 4326


@lru_cache(maxsize=128)
def _transformer(source_epsg: int, target_epsg: int) -> Transformer:
    return Transformer.from_crs(
        CRS.from_epsg(source_epsg), CRS.from_epsg(target_epsg), always_xy=True
    )


def reproject(geometry: BaseGeometry, source_epsg: int, target_epsg: int) -> BaseGeometry:
    """``geometry`` between two EPSG CRSs, with one cached transformer per pair.

    A plan for a country touches tens of thousands of tiles; building a pyproj transformer
    per geometry (as :func:`sitewatch.geo.to_crs` does) would cost more than the planning.
    """
    transformer = _transformer(source_epsg, target_epsg)
    return shapely.transform(
        geometry, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))
    )


def utm_epsg(zone: int, north: bool) -> int:
    return (32600 if north else 32700) + zone


def _zone_of(lon: float) -> int:
    return min(int((lon + 180.0) // 6.0) + 1, 60)


def check_tile_size(size_m: float, resolution_m: float) -> None:
    """A tile must be a whole number of pixels, within :data:`limits.TILE_SIDE_PX` a side."""
    limits.RESOLUTION_M.check(resolution_m, item="resolution")
    pixels = size_m / resolution_m
    if not (limits.TILE_SIDE_PX.contains(pixels) and abs(pixels - round(pixels)) < 1e-6):
        raise InputError(
            f"must be a whole number ({limits.TILE_SIDE_PX.describe()}) of "
            f"{resolution_m:g} m pixels, got {size_m:g} m",
            item="tile size",
        )


def tile_from_key(key: str, size_m: float, resolution_m: float, halo_px: int = 0) -> Tile:
    """The tile a key names (``<zone><N|S>_<col>_<row>``), on a grid of ``size_m`` tiles,
    read with ``halo_px`` of context."""
    zone_text, _, position = key.partition("_")
    col_text, _, row_text = position.partition("_")
    try:
        zone, col, row = int(zone_text[:-1]), int(col_text), int(row_text)
    except ValueError:
        zone, col, row = 0, 0, 0
    if not (1 <= zone <= 60 and zone_text[-1:] in ("N", "S")):
        raise InputError(f"not a tile key (<zone><N|S>_<col>_<row>): {key!r}", item="tile")
    epsg = utm_epsg(zone, zone_text.endswith("N"))
    return Tile(key, epsg, col, row, size_m, resolution_m, halo_px)


def tiles_for(
    area: BaseGeometry,
    size_m: float = DEFAULT_TILE_SIZE_M,
    resolution_m: float = DEFAULT_RESOLUTION_M,
    halo_px: int = 0,
) -> list[Tile]:
    """The tiles that cover the lon/lat polygon ``area``, zone by zone, north to south,
    each read with ``halo_px`` of context."""
    check_tile_size(size_m, resolution_m)
    if area.is_empty or area.area == 0:
        raise InputError("the area of interest is empty or has no area", item="area")
    min_lon, _, max_lon, _ = area.bounds
    north = area.centroid.y >= 0
    tiles: list[Tile] = []
    for zone in range(_zone_of(min_lon), _zone_of(max_lon) + 1):
        west = -180.0 + 6.0 * (zone - 1)
        part = area.intersection(box(west, -90.0, west + 6.0, 90.0))
        if part.is_empty or part.area == 0:
            continue
        tiles.extend(_zone_tiles(part, zone, north, size_m, resolution_m, halo_px))
    return tiles


def _zone_tiles(
    part: BaseGeometry, zone: int, north: bool, size_m: float, resolution_m: float, halo_px: int
) -> list[Tile]:
    """Tiles of one zone whose square shares area with ``part`` (vectorised test)."""
    epsg = utm_epsg(zone, north)
    projected = to_crs(part.segmentize(0.05), WGS84, CRS.from_epsg(epsg))
    min_x, min_y, max_x, max_y = projected.bounds
    cols = np.arange(math.floor(min_x / size_m), math.ceil(max_x / size_m))
    rows = np.arange(math.ceil(max_y / size_m) - 1, math.floor(min_y / size_m) - 1, -1)
    grid_rows, grid_cols = np.meshgrid(rows, cols, indexing="ij")
    flat_rows, flat_cols = grid_rows.ravel(), grid_cols.ravel()
    squares = shapely.box(
        flat_cols * size_m, flat_rows * size_m, (flat_cols + 1) * size_m, (flat_rows + 1) * size_m
    )
    shapely.prepare(projected)
    keep = shapely.intersects(projected, squares) & ~shapely.touches(projected, squares)
    hemisphere = "N" if north else "S"
    return [
        Tile(
            f"{zone}{hemisphere}_{col}_{row}",
            epsg,
            int(col),
            int(row),
            size_m,
            resolution_m,
            halo_px,
        )
        for row, col in zip(flat_rows[keep].tolist(), flat_cols[keep].tolist(), strict=True)
    ]
