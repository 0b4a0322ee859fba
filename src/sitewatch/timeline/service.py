"""``site_timeline``: activity per date over every scene of a site, and its product files.

The stack comes from :func:`sitewatch.imagery.stack.load_site_stack` (bilinear, the right
choice for reflectance and NDVI). Clouds, in order of preference:

1. the scenes' own mask band (``CLM``, ``cloud``, ``SCL``...), read a second time with
   nearest-neighbour resampling, because averaging class codes or 0/1 flags across pixel
   edges invents values (SCL 4 "vegetation" next to 8 "cloud" would read as 6 "unclassified");
2. the L1C bright/cold test of :func:`sitewatch.analysis.masks.cloud_mask_l1c` when the
   stack holds B02, B03 and B04 (or bands named blue, green, red);
3. none: only nodata makes a date unusable.

Only pixels inside the site's area of interest count towards the clear fraction and the
activity: the stack grid is a rectangle around it.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from rasterio.enums import Resampling
from rasterio.features import geometry_mask
from shapely import wkt
from sqlalchemy import select

from sitewatch.analysis.activity import (
    ActivityRecord,
    ActivitySettings,
    activity_series,
    check_activity_method,
)
from sitewatch.analysis.masks import L1C_SCALE, cloud_mask_from_classes, cloud_mask_l1c
from sitewatch.db.models import Scene
from sitewatch.errors import InputError
from sitewatch.files import atomic_output
from sitewatch.geo import WGS84, to_crs
from sitewatch.imagery.stack import load_site_stack
from sitewatch.workspace import Workspace

# Mask bands by name (case-insensitive): 0/1 flags, except SCL which holds classes.
FLAG_CLOUD_BANDS = ("CLM", "CLOUD", "CLOUDS", "CLOUD_MASK", "CLOUDMASK")
CLASS_CLOUD_BANDS = ("SCL",)
L1C_TEST_BANDS = ("B02", "B03", "B04")
# Colour names (as ingest gives RGB-interpreted bands) standing for the Sentinel-2 bands.
_L1C_NAME = {"BLUE": "B02", "GREEN": "B03", "RED": "B04"}

CSV_COLUMNS = (
    "date",
    "scene_id",
    "usable",
    "reference_date",
    "reference_scene_id",
    "clear_fraction",
    "joint_fraction",
    "activity",
    "mean_abs_change",
    "shift",
    "gain_share",
    "loss_share",
    "spike",
    "note",
)


@dataclass
class Timeline:
    """Activity records of one site and everything needed to reproduce them."""

    site_id: str
    records: list[ActivityRecord]
    method: str
    bands: list[str]
    cloud_source: str
    settings: ActivitySettings
    threshold: float | None
    noise: float | None
    spike_fence: float | None
    scene_ids: list[str]
    resolution_m: float
    crs: str
    sources: list[dict[str, Any]]

    @property
    def spikes(self) -> list[ActivityRecord]:
        return [record for record in self.records if record.spike]

    @property
    def unusable(self) -> list[ActivityRecord]:
        return [record for record in self.records if not record.usable]

    def lineage(self) -> dict[str, Any]:
        """Inputs and parameters: the scenes and files read, bands, method, thresholds."""
        return {
            "site_id": self.site_id,
            "scene_ids": self.scene_ids,
            "bands": self.bands,
            "method": self.method,
            "cloud_source": self.cloud_source,
            "settings": asdict(self.settings),
            "threshold": self.threshold,
            "noise": self.noise,
            "spike_fence": self.spike_fence,
            "resolution_m": self.resolution_m,
            "crs": self.crs,
            "sources": self.sources,
        }

    def as_dict(self) -> dict[str, Any]:
        return {"lineage": self.lineage(), "records": [r.as_dict() for r in self.records]}


@dataclass(frozen=True)
class TimelineFiles:
    """The product files of a timeline run."""

    csv: Path
    png: Path
    json: Path


def site_timeline(
    workspace: Workspace,
    site_id: str,
    start: date | datetime | None = None,
    end: date | datetime | None = None,
    bands: Sequence[str] | None = None,
    method: str = "auto",
    settings: ActivitySettings | None = None,
) -> Timeline:
    """Activity per date of ``site_id`` over all its scenes between ``start`` and ``end``.

    ``bands`` are the bands to compare (default: every band the scenes share, except cloud
    mask bands). ``method``: ``auto``, ``difference`` (one band), ``cva`` or ``irmad``; see
    :mod:`sitewatch.analysis.activity` for the method and the ``settings``.
    """
    check_activity_method(method)  # before any read: a typo should not cost a stack load
    stack = load_site_stack(workspace, site_id, start, end, bands)
    band_names = [str(name) for name in stack.coords["band"].values]
    compared = [name for name in band_names if not _is_cloud_band(name)]
    if not compared:
        raise InputError(
            f"only cloud mask bands were chosen ({', '.join(band_names)}); add a band to "
            "compare, e.g. NDVI",
            item="bands",
        )
    cloud, cloud_source = _cloud_mask(workspace, stack, start, end, compared)
    series = activity_series(
        stack,
        cloud,
        method=method,
        settings=settings,
        area=_area_mask(stack),
        bands=compared,
    )
    return Timeline(
        site_id=stack.attrs["site_id"],
        records=series.records,
        method=series.method,
        bands=series.bands,
        cloud_source=cloud_source,
        settings=series.settings,
        threshold=series.threshold,
        noise=series.noise,
        spike_fence=series.spike_fence,
        scene_ids=list(stack.attrs["scene_ids"]),
        resolution_m=float(stack.attrs["resolution_m"]),
        crs=stack.rio.crs.to_string(),
        sources=list(stack.attrs["sources"]),
    )


def default_output_dir(workspace: Workspace, site_id: str) -> Path:
    """``products/timeline/<site>/`` of the workspace."""
    return workspace.products / "timeline" / site_id


def write_timeline(timeline: Timeline, out_dir: Path) -> TimelineFiles:
    """Write ``<site>_timeline.csv``, ``.png`` (plot) and ``.json`` (records + lineage).

    All three are written under temporary names and renamed only once every one of them
    is complete, so a failure (say, in plotting) leaves no partial product set behind.
    """
    from sitewatch.timeline.plot import plot_timeline  # matplotlib only when plotting

    stem = out_dir / f"{timeline.site_id}_timeline"
    files = TimelineFiles(
        csv=stem.with_suffix(".csv"), png=stem.with_suffix(".png"), json=stem.with_suffix(".json")
    )
    with ExitStack() as outputs:
        csv_temp, json_temp, png_temp = (
            outputs.enter_context(atomic_output(path, make_folder=True))
            for path in (files.csv, files.json, files.png)
        )
        plot_timeline(timeline, png_temp)
        with open(csv_temp, "w", newline="", encoding="utf-8") as stream:
            writer = csv.DictWriter(stream, fieldnames=CSV_COLUMNS, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(record.as_dict() for record in timeline.records)
        json_temp.write_text(
            json.dumps(timeline.as_dict(), indent=2, default=str) + "\n", encoding="utf-8"
        )
    return files


def _is_cloud_band(name: str) -> bool:
    return name.upper() in FLAG_CLOUD_BANDS + CLASS_CLOUD_BANDS


def _cloud_mask(
    workspace: Workspace,
    stack: xr.DataArray,
    start: date | datetime | None,
    end: date | datetime | None,
    compared: list[str],
) -> tuple[np.ndarray | None, str]:
    """(time, y, x) cloud mask and a description of where it came from."""
    mask_band = _scene_mask_band(workspace, list(stack.attrs["scene_ids"]))
    if mask_band is not None:
        masks = load_site_stack(
            workspace,
            stack.attrs["site_id"],
            start,
            end,
            [mask_band],
            resolution=float(stack.attrs["resolution_m"]),
            resampling=Resampling.nearest,
        )
        if list(masks.attrs["scene_ids"]) != list(stack.attrs["scene_ids"]):
            raise InputError(
                "the scenes changed while the timeline was read; run it again", item=mask_band
            )
        values = masks.values[:, 0]
        if mask_band.upper() in CLASS_CLOUD_BANDS:
            cloud = np.stack([cloud_mask_from_classes(np.nan_to_num(v, nan=0)) for v in values])
            return cloud, f"band {mask_band} (scene classification, nearest resampling)"
        return np.nan_to_num(values, nan=0) > 0, f"band {mask_band} (nearest resampling)"
    if all(band in map(_l1c_name, compared) for band in L1C_TEST_BANDS):
        return _l1c_cloud(stack, compared), "L1C bright/cold test (B02 B03 B04)"
    return None, "none (no mask band, no B02/B03/B04 for the L1C test)"


def _scene_mask_band(workspace: Workspace, scene_ids: list[str]) -> str | None:
    """The first cloud mask band every scene of the stack has, by its catalogued bands."""
    with workspace.session() as session:
        scenes = session.scalars(select(Scene).where(Scene.id.in_(scene_ids))).all()
        band_lists = [list(scene.bands) for scene in scenes]
    if not band_lists:
        return None
    shared = set.intersection(*(set(bands) for bands in band_lists))
    for wanted in FLAG_CLOUD_BANDS + CLASS_CLOUD_BANDS:
        for band in band_lists[0]:
            if band in shared and band.upper() == wanted:
                return band
    return None


def _l1c_name(band: str) -> str:
    return _L1C_NAME.get(band.upper(), band.upper())


def _l1c_cloud(stack: xr.DataArray, compared: list[str]) -> np.ndarray:
    """The bright/cold test per date; stored L1C digital numbers are scaled to 0..1 first."""
    all_names = [str(name) for name in stack.coords["band"].values]
    used = [band for band in compared if _l1c_name(band) in (*L1C_TEST_BANDS, "B10")]
    positions = [all_names.index(band) for band in used]
    names = [_l1c_name(band) for band in used]
    cloud = np.zeros((stack.sizes["time"], stack.sizes["y"], stack.sizes["x"]), dtype=bool)
    for index in range(stack.sizes["time"]):
        image = stack.values[index, positions]  # one date at a time: no copy of the series
        blue = image[names.index("B02")]
        typical = float(np.nanmedian(blue)) if np.isfinite(blue).any() else 0.0
        if typical > 2.0:
            image = image / np.float32(L1C_SCALE)
        cloud[index] = cloud_mask_l1c(image, names)
    return cloud


def _area_mask(stack: xr.DataArray) -> np.ndarray:
    """Pixels of the stack grid whose centre lies in the site's area of interest.

    A site smaller than one pixel keeps the pixels it touches instead of none.
    """
    aoi = to_crs(wkt.loads(stack.attrs["aoi_wkt"]), WGS84, stack.rio.crs)
    shape = (stack.sizes["y"], stack.sizes["x"])
    transform = stack.rio.transform()
    inside = geometry_mask([aoi], out_shape=shape, transform=transform, invert=True)
    if not inside.any():
        inside = geometry_mask(
            [aoi], out_shape=shape, transform=transform, invert=True, all_touched=True
        )
    return inside
