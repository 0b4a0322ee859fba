"""Imagery plates: a scene cropped to a square around a site, north up, at a known scale.

What a printed dossier (and any viewer that wants one still image) shows of a scene: the
pixels the workbench's tiles show (the same files, bands and the scene's cached 2-98 %
stretch, :func:`sitewatch.imagery.tiles.scene_stretch`), read by rio-tiler into the local
UTM grid so that a pixel has one size in metres and grid north is up. Drawn on it:

- the acquisition date and sensor (top left), a north arrow (top right) and a scale bar
  with a round length (bottom left), so the plate reads on paper without a caption;
- change objects outlined in yellow with a black halo (visible on bright and dark ground)
  and numbered where they lie, so a callout table can refer to them.

A frame (:func:`plate_frame`) is shared by the two plates of a before/after pair, so the
same object sits on the same pixels in both.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from pyproj import CRS
from rio_tiler.io import Reader
from rio_tiler.models import ImageData
from shapely.geometry.base import BaseGeometry

from sitewatch.geo import WGS84, to_crs, utm_crs_for
from sitewatch.imagery.stack import AssetRead
from sitewatch.imagery.tiles import SceneLayer, gather_bands, scene_stretch

#: Side of a plate in pixels: legible at 8 cm on paper at ~150 dpi and small in a PDF.
PLATE_PX = 480
OUTLINE = (255, 221, 0)
HALO = (0, 0, 0)
NO_DATA = (40, 40, 40)
Font = ImageFont.ImageFont | ImageFont.FreeTypeFont


@dataclass(frozen=True)
class PlateFrame:
    """A square on the ground in a UTM grid: what both plates of a pair show."""

    crs: CRS
    bounds: tuple[float, float, float, float]  # left, bottom, right, top in metres

    @property
    def side_m(self) -> float:
        return self.bounds[2] - self.bounds[0]


@dataclass(frozen=True)
class Plate:
    """A rendered plate and what its caption states."""

    png: bytes
    scene_id: str
    acquired: str  # ISO date and time, UTC
    sensor: str
    credit: str
    native_resolution_m: float | None
    pixel_m: float  # ground size of one plate pixel
    side_m: float
    covered: bool  # False when the scene does not reach the frame at all


def plate_frame(
    area: BaseGeometry, *, margin: float = 0.15, minimum_m: float = 600.0
) -> PlateFrame:
    """The square around ``area`` (lon/lat) with ``margin`` of its size on each side, at
    least ``minimum_m`` across (a point site still shows its surroundings)."""
    centre = area.centroid
    crs = utm_crs_for(centre.x, centre.y)
    local = to_crs(area, WGS84, crs)
    left, bottom, right, top = local.bounds
    side = max(minimum_m, (1 + 2 * margin) * max(right - left, top - bottom))
    cx, cy = (left + right) / 2, (bottom + top) / 2
    return PlateFrame(crs, (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2))


def render_plate(
    layer: SceneLayer,
    frame: PlateFrame,
    outlines: Sequence[tuple[int, BaseGeometry]] = (),
    size: int = PLATE_PX,
) -> Plate:
    """``layer`` cropped to ``frame`` as a ``size`` px PNG, with ``outlines`` (number,
    lon/lat geometry) drawn and numbered, date, sensor, north arrow and scale bar."""
    rgb, covered = _read_frame(layer, frame, size)
    image = Image.fromarray(rgb, "RGB")
    pixel_m = frame.side_m / size
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=max(12, size // 32))
    for number, geometry in outlines:
        _outline(draw, _to_pixels(geometry, frame, size), number, font)
    _label(draw, f"{layer.acquired:%Y-%m-%d %H:%M} UTC  {layer.sensor}", font)
    _north_arrow(draw, size, font)
    _scale_bar(draw, size, pixel_m, font)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False, compress_level=6)
    return Plate(
        png=buffer.getvalue(),
        scene_id=layer.scene_id,
        acquired=layer.acquired.isoformat(),
        sensor=layer.sensor,
        credit=layer.attribution,
        native_resolution_m=layer.resolution_m,
        pixel_m=pixel_m,
        side_m=frame.side_m,
        covered=covered,
    )


def _read_frame(layer: SceneLayer, frame: PlateFrame, size: int) -> tuple[np.ndarray, bool]:
    """The frame's pixels as stretched RGB bytes (grey for one band); dark grey where the
    scene has no data."""
    count = len(layer.bands)

    def part(reader: Reader, read: AssetRead) -> ImageData:
        return reader.part(
            frame.bounds,
            dst_crs=frame.crs,
            bounds_crs=frame.crs,
            width=size,
            height=size,
            indexes=read.raster_indexes,
            resampling_method="bilinear",
        )

    data, valid, covered = gather_bands(layer.reads, count, size, layer.scene_id, part)
    covered = covered and bool(valid.any())  # rio-tiler masks a part outside the file
    if covered and count:
        low, high = scene_stretch(layer.scene_id, layer.reads, count)
        span = np.where(high > low, high - low, 1.0)
        scaled = (data - low[:, None, None]) / span[:, None, None]
        grey = np.clip(scaled * 255, 0, 255).astype(np.uint8)
    else:
        grey = np.zeros((max(count, 1), size, size), np.uint8)
        valid[:] = False
    rgb = np.repeat(grey, 3, axis=0) if grey.shape[0] == 1 else grey[:3]
    rgb = np.moveaxis(rgb, 0, -1).copy()
    rgb[~valid] = NO_DATA
    return rgb, covered


def _to_pixels(
    geometry: BaseGeometry, frame: PlateFrame, size: int
) -> list[list[tuple[float, float]]]:
    """The exterior rings of ``geometry`` (lon/lat) in plate pixel coordinates."""
    local = to_crs(geometry, WGS84, frame.crs)
    left, _, _, top = frame.bounds
    scale = size / frame.side_m
    polygons = getattr(local, "geoms", [local])
    rings = []
    for polygon in polygons:
        coords = polygon.exterior.coords if hasattr(polygon, "exterior") else polygon.coords
        rings.append([((x - left) * scale, (top - y) * scale) for x, y in coords])
    return rings


def _outline(
    draw: ImageDraw.ImageDraw, rings: list[list[tuple[float, float]]], number: int, font: Font
) -> None:
    """A ring in yellow over a black halo, and its number beside its top-right corner."""
    for ring in rings:
        if len(ring) > 1:
            draw.line(ring, fill=HALO, width=4)
            draw.line(ring, fill=OUTLINE, width=2)
    points = [point for ring in rings for point in ring]
    if not points:
        return
    x = max(p[0] for p in points) + 3
    y = min(p[1] for p in points) - 3
    text = str(number)
    box = draw.textbbox((x, y), text, font=font)
    draw.rectangle((box[0] - 2, box[1] - 1, box[2] + 2, box[3] + 1), fill=OUTLINE)
    draw.text((x, y), text, font=font, fill=HALO)


def _label(draw: ImageDraw.ImageDraw, text: str, font: Font) -> None:
    _, _, right, bottom = draw.textbbox((5, 4), text, font=font)
    draw.rectangle((0, 0, right + 5, bottom + 4), fill=(0, 0, 0))
    draw.text((5, 4), text, font=font, fill=(255, 255, 255))


def _north_arrow(draw: ImageDraw.ImageDraw, size: int, font: Font) -> None:
    """An arrow pointing up (grid north of the local UTM zone) with an N under it."""
    x, top, length = size - 22, 10, size // 12
    draw.rectangle((x - 14, top - 4, x + 14, top + length + 24), fill=(0, 0, 0))
    draw.polygon(
        [(x, top), (x - 8, top + length), (x, top + length - 6), (x + 8, top + length)],
        fill=(255, 255, 255),
    )
    draw.text((x, top + length + 10), "N", font=font, fill=(255, 255, 255), anchor="mm")


def scale_length(pixel_m: float, longest_px: float) -> float:
    """The longest round length (1, 2 or 5 x 10^k metres) drawn within ``longest_px``."""
    longest_m = pixel_m * longest_px
    power = 10 ** math.floor(math.log10(longest_m))
    return max(step * power for step in (1, 2, 5) if step * power <= longest_m)


def _scale_bar(draw: ImageDraw.ImageDraw, size: int, pixel_m: float, font: Font) -> None:
    """A black-and-white bar of a round length in the bottom-left corner."""
    metres = scale_length(pixel_m, size / 3)
    length = metres / pixel_m
    text = f"{metres / 1000:g} km" if metres >= 1000 else f"{metres:g} m"
    left, base = 12, size - 12
    draw.rectangle((4, base - 30, left + length + 10, size - 4), fill=(0, 0, 0))
    half = left + length / 2
    draw.rectangle((left, base - 6, half, base), fill=(255, 255, 255))
    draw.rectangle((half, base - 6, left + length, base), outline=(255, 255, 255))
    draw.text((left, base - 10), text, font=font, fill=(255, 255, 255), anchor="ls")
