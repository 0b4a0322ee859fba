"""The 68-date eo-learn NDVI series as a workspace: one small GeoTIFF per date, ingested.

Each date becomes ``ndvi_<YYYYMMDDTHHMMSS>.tif`` with two float32 bands described ``NDVI``
(NaN where IS_DATA is 0) and ``CLM`` (the 0/1 cloud mask), in EPSG:32633 on the grid of
``bbox.geojson``, with the acquisition time in ``TIFFTAG_DATETIME`` and in the name. The
site is the bbox shrunk by 20 m, so every pixel of its area lies inside the imagery.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_bounds
from shapely.geometry import box

from sitewatch.catalog.records import SiteRecord
from sitewatch.catalog.sites import add_site
from sitewatch.geo import WGS84, to_crs
from sitewatch.imagery.ingest import add_scenes
from sitewatch.workspace import Workspace
from tests.conftest import shared_data

SITE_ID = "ndvi-fields"
CRS = "EPSG:32633"


@dataclass(frozen=True)
class NdviSeries:
    """The arrays as published: NDVI (t, y, x) with NaN outside IS_DATA, clouds, times."""

    ndvi: np.ndarray
    cloud: np.ndarray
    times: list[datetime]
    bounds: tuple[float, float, float, float]


def load_ndvi_series() -> NdviSeries:
    folder = shared_data("ndvi_timeseries")
    ndvi = np.load(folder / "NDVI.npy")[..., 0].astype(np.float32)
    cloud = np.load(folder / "CLM.npy")[..., 0].astype(bool)
    is_data = np.load(folder / "IS_DATA.npy")[..., 0].astype(bool)
    ndvi[~is_data] = np.nan
    times = [
        datetime.fromisoformat(text).replace(tzinfo=UTC)
        for text in json.loads((folder / "timestamps.json").read_text())
    ]
    ring = json.loads((folder / "bbox.geojson").read_text())["coordinates"][0]
    xs, ys = [point[0] for point in ring], [point[1] for point in ring]
    return NdviSeries(ndvi, cloud, times, (min(xs), min(ys), max(xs), max(ys)))


def write_date_files(series: NdviSeries, folder: Path) -> list[Path]:
    """One two-band GeoTIFF per date."""
    folder.mkdir(parents=True, exist_ok=True)
    _, height, width = series.ndvi.shape
    profile = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": 2,
        "dtype": "float32",
        "crs": CRS,
        "transform": from_bounds(*series.bounds, width, height),
        "nodata": float("nan"),
    }
    paths = []
    for index, moment in enumerate(series.times):
        path = folder / f"ndvi_{moment:%Y%m%dT%H%M%S}.tif"
        with rasterio.open(path, "w", **profile) as out:
            out.write(series.ndvi[index], 1)
            out.write(series.cloud[index].astype(np.float32), 2)
            out.set_band_description(1, "NDVI")
            out.set_band_description(2, "CLM")
            out.update_tags(TIFFTAG_DATETIME=f"{moment:%Y:%m:%d %H:%M:%S}")
        paths.append(path)
    return paths


def ndvi_workspace(workspace: Workspace, files_folder: Path) -> NdviSeries:
    """Ingest every date into ``workspace`` and add the site; returns the source arrays."""
    series = load_ndvi_series()
    paths = write_date_files(series, files_folder)
    min_x, min_y, max_x, max_y = series.bounds
    inset = box(min_x + 20, min_y + 20, max_x - 20, max_y - 20)
    with workspace.session() as session:
        add_scenes(session, paths)
        add_site(
            session,
            SiteRecord(name="NDVI fields", id=SITE_ID, geometry=to_crs(inset, CRS, WGS84)),
        )
    return series


def local_change_by_date(series: NdviSeries, min_clear: float = 0.5) -> dict[int, float]:
    """Independent of sitewatch: mean |dNDVI - median dNDVI| against the previous usable date.

    The median is the scene-wide shift (phenology, snow) that the activity index leaves
    out; what remains is change in part of the area, which activity counts.
    """
    clear = ~series.cloud & np.isfinite(series.ndvi)
    change: dict[int, float] = {}
    previous = None
    for index in range(len(series.times)):
        if clear[index].mean() < min_clear:
            continue
        if previous is not None:
            joint = clear[index] & clear[previous]
            difference = series.ndvi[index][joint] - series.ndvi[previous][joint]
            change[index] = float(np.abs(difference - np.median(difference)).mean())
        previous = index
    return change
