"""Per-date chips of a site: a true-colour PNG quicklook and a COG of the stack slice.

The quicklooks of one site share one contrast stretch (2-98 % percentiles computed over all
dates together, per channel): with a stretch per image, a hazy date and a clear date would
both look "normal" and a real brightness change would be hidden. Each PNG has its
acquisition date drawn in a corner, because a picture of a site without its date is not
evidence of anything. Pixels without data are transparent.

The COG holds the same slice as analysis sees it (float32, NaN = no data, site UTM grid)
with band names and lineage tags, for GIS use and for evidence packages.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import xarray as xr
from PIL import Image, ImageDraw, ImageFont

from sitewatch import __version__
from sitewatch.files import atomic_output, check_output_folder
from sitewatch.imagery.cog import write_cog
from sitewatch.imagery.stack import load_site_stack
from sitewatch.workspace import Workspace

STRETCH_PERCENTILES = (2.0, 98.0)
# Quicklooks smaller than this on their long side are enlarged (nearest neighbour, whole
# factors) so that pixels and the date label stay readable.
MIN_QUICKLOOK_PX = 256

# Band names that mean red, green and blue, most specific first.
TRUE_COLOUR_NAMES: tuple[tuple[str, str, str], ...] = (
    ("red", "green", "blue"),
    ("B04", "B03", "B02"),  # Sentinel-2
)
#: Band combinations an analyst switches between, by the names a scene may use (generic,
#: then Sentinel-2): false colour shows vegetation red, so fresh earthworks and cleared
#: ground stand out; short-wave infrared separates bare soil, concrete and water.
COMPOSITES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "true colour": TRUE_COLOUR_NAMES,
    "false colour (near infrared)": (("nir", "red", "green"), ("B08", "B04", "B03")),
    "short-wave infrared": (("swir22", "nir08", "red"), ("B12", "B8A", "B04")),
}


def band_composites(bands: Sequence[str]) -> dict[str, tuple[str, str, str]]:
    """The :data:`COMPOSITES` a scene holding ``bands`` can show, with its own band names."""
    by_lower = {band.lower(): band for band in bands}
    found: dict[str, tuple[str, str, str]] = {}
    for label, spellings in COMPOSITES.items():
        for names in spellings:
            if all(name.lower() in by_lower for name in names):
                found[label] = (
                    by_lower[names[0].lower()],
                    by_lower[names[1].lower()],
                    by_lower[names[2].lower()],
                )
                break
    return found


@dataclass(frozen=True)
class ChipResult:
    """The files written for one date of a site."""

    site_id: str
    scene_id: str
    acquired: datetime  # UTC, naive (as in the stack's time coordinate)
    png: Path
    cog: Path
    bands: tuple[str, ...]  # bands in the COG
    rgb_bands: tuple[str, ...]  # bands shown in the PNG (one name: greyscale)
    width: int
    height: int


def write_site_chips(
    workspace: Workspace,
    site_id: str,
    out_dir: Path,
    start: datetime | date | None = None,
    end: datetime | date | None = None,
    buffer_m: float | None = None,
) -> list[ChipResult]:
    """Write a quicklook PNG and a COG per date of ``site_id`` into ``out_dir``.

    Files are named ``<site>_<YYYYMMDD>_<scene>.png`` / ``.tif``. The whole stack is read and
    checked before anything is written; each file appears under its final name only once
    complete.
    """
    check_output_folder(Path(out_dir), "--out")
    stack = load_site_stack(workspace, site_id, start=start, end=end, buffer_m=buffer_m)
    band_names = [str(band) for band in stack["band"].values]
    rgb_bands = true_colour_bands(band_names)
    quicklooks = quicklook_images(stack.sel(band=list(rgb_bands)))
    out_dir = Path(out_dir).expanduser().resolve()
    results = []
    for index in range(stack.sizes["time"]):
        slice_ = stack.isel(time=index)
        acquired = _as_datetime(slice_["time"].values)
        scene_id = str(slice_["scene_id"].values)
        stem = f"{_safe(site_id)}_{acquired:%Y%m%d}_{short_scene_id(scene_id)}"
        png = out_dir / f"{stem}.png"
        with atomic_output(png, make_folder=True) as temporary:
            quicklooks[index].save(temporary, format="PNG")
        cog = write_cog(
            out_dir / f"{stem}.tif",
            slice_.values,
            crs=stack.rio.crs,
            transform=stack.rio.transform(),
            nodata=float("nan"),
            band_names=band_names,
            tags=_lineage_tags(stack, index, acquired),
        )
        results.append(
            ChipResult(
                site_id=site_id,
                scene_id=scene_id,
                acquired=acquired,
                png=png,
                cog=cog,
                bands=tuple(band_names),
                rgb_bands=rgb_bands,
                width=stack.sizes["x"],
                height=stack.sizes["y"],
            )
        )
    return results


def true_colour_bands(bands: Sequence[str]) -> tuple[str, ...]:
    """The (red, green, blue) bands to show, or one band for a greyscale view.

    Named colour bands win (case-insensitive ``red``/``green``/``blue``, then Sentinel-2
    ``B04``/``B03``/``B02``); otherwise the first three bands are shown as they come.
    """
    by_lower = {band.lower(): band for band in bands}
    for names in TRUE_COLOUR_NAMES:
        if all(name.lower() in by_lower for name in names):
            return tuple(by_lower[name.lower()] for name in names)
    if len(bands) >= 3:
        return tuple(bands[:3])
    return (bands[0],)


def quicklook_images(stack: xr.DataArray) -> list[Image.Image]:
    """One RGBA image per date of a (time, band, y, x) stack of 1 or 3 bands, dated.

    The stretch is shared by all dates (per channel); NaN pixels are transparent.
    """
    values = stack.values.astype(np.float32)
    low, high = joint_stretch(values)
    scale = np.where(high > low, high - low, 1.0)
    stretched = np.clip((values - low[:, None, None]) / scale[:, None, None], 0.0, 1.0)
    times = [_as_datetime(value) for value in stack["time"].values]
    images = []
    for index, acquired in enumerate(times):
        channels = stretched[index]
        valid = np.all(np.isfinite(values[index]), axis=0)
        bytes_ = (np.nan_to_num(channels) * 255).round().astype(np.uint8)
        if bytes_.shape[0] == 1:
            bytes_ = np.repeat(bytes_, 3, axis=0)
        rgba = np.concatenate([bytes_, (valid * 255).astype(np.uint8)[np.newaxis]])
        image = enlarge_for_display(
            Image.fromarray(np.ascontiguousarray(rgba.transpose(1, 2, 0)), "RGBA")
        )
        _draw_date(image, acquired)
        images.append(image)
    return images


def joint_stretch(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per channel 2 % and 98 % values over every date together (0..1 if a channel is empty)."""
    lows, highs = [], []
    for channel in range(values.shape[1]):
        finite = values[:, channel][np.isfinite(values[:, channel])]
        if finite.size == 0:
            lows.append(0.0)
            highs.append(1.0)
            continue
        low, high = np.percentile(finite, STRETCH_PERCENTILES)
        lows.append(float(low))
        highs.append(float(high))
    return np.array(lows, np.float32), np.array(highs, np.float32)


def enlarge_for_display(image: Image.Image) -> Image.Image:
    """Blow a small chip up by a whole factor (nearest neighbour: pixels stay pixels) so a
    site of a few dozen pixels is still legible on screen."""
    factor = math.ceil(MIN_QUICKLOOK_PX / max(image.size))
    if factor <= 1:
        return image
    return image.resize((image.width * factor, image.height * factor), Image.Resampling.NEAREST)


def _draw_date(image: Image.Image, acquired: datetime) -> None:
    """Acquisition date and time, white on an opaque black box, in the top-left corner."""
    text = f"{acquired:%Y-%m-%d %H:%M} UTC"
    font = ImageFont.load_default(size=max(11, image.width // 28))
    draw = ImageDraw.Draw(image)
    _, _, right, bottom = draw.textbbox((4, 3), text, font=font)
    draw.rectangle((0, 0, right + 4, bottom + 3), fill=(0, 0, 0, 255))
    draw.text((4, 3), text, font=font, fill=(255, 255, 255, 255))


def short_scene_id(scene_id: str, limit: int = 32) -> str:
    """A file-name-safe scene id: as is when short, else its start plus a hash (unique)."""
    safe = _safe(scene_id)
    if len(safe) <= limit:
        return safe
    digest = hashlib.sha1(scene_id.encode("utf-8")).hexdigest()[:7]
    return f"{safe[: limit - 8]}-{digest}"


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.-]+", "-", text).strip("-.") or "x"


def _as_datetime(value: np.datetime64) -> datetime:
    return datetime.fromisoformat(str(np.datetime_as_string(value, unit="s")))


def _lineage_tags(stack: xr.DataArray, index: int, acquired: datetime) -> dict[str, str]:
    source = stack.attrs["sources"][index]
    return {
        "TIFFTAG_DATETIME": f"{acquired:%Y:%m:%d %H:%M:%S}",
        "ACQUISITION_DATETIME": f"{acquired:%Y-%m-%dT%H:%M:%S}Z",
        "SITE_ID": stack.attrs["site_id"],
        "SCENE_ID": source["scene_id"],
        "SOURCE_ASSETS": ";".join(
            f"{asset['href']}#sha256={asset['sha256'] or 'unknown'}" for asset in source["assets"]
        ),
        "METHOD": f"windowed warp to site UTM grid, {stack.attrs['resampling']} resampling",
        "RESOLUTION_M": f"{stack.attrs['resolution_m']:g}",
        "SOFTWARE": f"sitewatch {__version__}",
    }
