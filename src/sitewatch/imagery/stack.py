"""Site stacks: every scene over a site, read by windows onto one metric grid.

:func:`load_site_stack` returns an ``xarray.DataArray`` with dims ``(time, band, y, x)`` on a
north-up grid in the UTM zone of the site's area of interest, so that analysis code can
compare dates pixel by pixel and measure in metres without knowing where the pixels came
from.

How the reading stays small: each band file is wrapped in a GDAL warped VRT whose output
grid is the site grid (explicit CRS, transform, width and height). GDAL then computes the
source window that grid needs and reads only the blocks that intersect it, so a 10 000 x
10 000 scene costs a few tiles for a 2 km site. The output array for a site is small and is
filled one asset window at a time: one band for per-band files, the wanted bands together for
a multi-band file (its pixel-interleaved blocks hold every band, so reading them band by band
would decode each block once per band).

Remote hrefs are handed to GDAL as virtual file system paths (``/vsicurl/``, ``/vsis3/``,
``/vsigs/``; see :func:`gdal_path`). That is what makes the windowing work over the network:
GDAL reads the header, then issues HTTP range requests for just the tiles of a
Cloud-Optimised GeoTIFF that the warp touches. Fetching the file first would transfer the
whole scene, and a plain ``https://`` or ``s3://`` string is not a path GDAL can open itself.

Choices worth knowing:

- Resampling is bilinear by default (reflectance is continuous); pass
  ``Resampling.nearest`` for categorical rasters such as cloud masks.
- Values are the file's stored values as float32 (no scale/offset applied); the file's
  nodata and every pixel outside a scene's footprint become NaN.
- The default pixel size is the finest native resolution of the chosen bands, in metres.
  A file's pixel size is measured on the ground at the site; when the scene records a
  nominal resolution (``Scene.resolution_m``) a measurement within 25 % of a whole multiple
  of it is snapped to that multiple. Files stored in lon/lat have pixels whose size in
  metres differs along x and y, so the measurement of a 10 m Sentinel-2 band re-gridded to
  degrees is ~10.5 m, and the sensor's 10 m is the useful answer.
- One time step per scene: two scenes acquired at the same time (adjacent tiles of one
  pass) give two slices, each NaN where its footprint does not reach.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from urllib.parse import unquote, urlparse

import numpy as np
import rasterio
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr
from affine import Affine
from pyproj import CRS
from rasterio.enums import Resampling
from rasterio.errors import RasterioError
from rasterio.features import geometry_mask
from rasterio.vrt import WarpedVRT
from rasterio.warp import transform as transform_coords
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from sitewatch import limits
from sitewatch.catalog.aoi import check_buffer, site_area_of_interest
from sitewatch.catalog.sites import get_site
from sitewatch.db.models import Scene, Site
from sitewatch.errors import InputError, NotFoundError
from sitewatch.geo import WGS84, local_utm, to_crs
from sitewatch.imagery.dates import day_bound
from sitewatch.imagery.search import find_scenes
from sitewatch.workspace import Workspace

# A guard, not a tuning knob: a site stack is meant to be small. Anything bigger is a
# wide-area job for the tile scanner, or a request for a coarser resolution.
MAX_STACK_BYTES = 2 * 1024**3

# Keep GDAL from listing the folder of every remote file it opens (one extra request per
# file on S3/HTTP for sidecar files that cloud imagery does not have).
GDAL_READ_OPTIONS = {"GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR"}

_REMOTE_PREFIXES = {"http": "/vsicurl/", "https": "/vsicurl/", "s3": "/vsis3/", "gs": "/vsigs/"}


def gdal_path(href: str) -> str:
    """The path GDAL opens for an asset href: local paths as given, remote ones through GDAL's
    virtual file systems so that reads become range requests.

    ``https://h/a.tif`` -> ``/vsicurl/https://h/a.tif``; ``s3://bucket/key`` ->
    ``/vsis3/bucket/key``; ``gs://bucket/key`` -> ``/vsigs/bucket/key``;
    ``file:///x/a.tif`` -> ``/x/a.tif``.
    """
    if href.startswith("/vsi") or "://" not in href:
        return href
    parsed = urlparse(href)
    scheme = parsed.scheme.lower()
    if scheme == "file":
        return unquote(parsed.path)
    if scheme in ("http", "https"):
        return _REMOTE_PREFIXES[scheme] + href
    if scheme in _REMOTE_PREFIXES:
        return _REMOTE_PREFIXES[scheme] + parsed.netloc + parsed.path
    raise InputError(
        f"unsupported href scheme {scheme!r} (use a file path, http(s)://, s3:// or gs://)",
        item=href,
    )


@dataclass(frozen=True)
class SiteGrid:
    """The output grid of a stack: a north-up raster in a metric CRS."""

    crs: CRS
    transform: Affine
    width: int
    height: int

    @property
    def resolution(self) -> float:
        return self.transform.a

    @classmethod
    def covering(cls, bounds: tuple[float, float, float, float], crs: CRS, resolution: float):
        """The grid snapped to multiples of ``resolution`` that covers ``bounds`` (in ``crs``).

        Snapping makes two stacks of neighbouring or overlapping sites share pixel edges.
        """
        min_x, min_y, max_x, max_y = bounds
        left = math.floor(min_x / resolution) * resolution
        bottom = math.floor(min_y / resolution) * resolution
        right = math.ceil(max_x / resolution) * resolution
        top = math.ceil(max_y / resolution) * resolution
        width = max(1, round((right - left) / resolution))
        height = max(1, round((top - bottom) / resolution))
        return cls(crs, Affine(resolution, 0.0, left, 0.0, -resolution, top), width, height)

    def x_centres(self) -> np.ndarray:
        return self.transform.c + (np.arange(self.width) + 0.5) * self.transform.a

    def y_centres(self) -> np.ndarray:
        return self.transform.f + (np.arange(self.height) + 0.5) * self.transform.e


@dataclass(frozen=True)
class AssetRead:
    """One file of a scene and which of its raster bands fill which stack bands.

    Public because the tile scanner (:mod:`sitewatch.scan`) ships these to Dask workers:
    plain strings and numbers, picklable, with nothing tied to a database session.
    """

    href: str
    sha256: str | None
    raster_indexes: tuple[int, ...]  # 1-based band numbers in the file
    stack_positions: tuple[int, ...]  # positions along the stack's band axis


@dataclass(frozen=True)
class ScenePlan:
    """Everything needed to read one scene, detached from the database session.

    Built once by whoever queries the catalog (:func:`scene_plan`) and then read anywhere:
    the site stack reads it in-process, the scanner sends it to worker processes.
    """

    scene_id: str
    acquired: datetime
    footprint: BaseGeometry
    nominal_resolution_m: float | None
    reads: tuple[AssetRead, ...]


def load_site_stack(
    workspace: Workspace,
    site: Site | str,
    start: datetime | date | None = None,
    end: datetime | date | None = None,
    bands: Sequence[str] | None = None,
    resolution: float | None = None,
    buffer_m: float | None = None,
    *,
    resampling: Resampling = Resampling.bilinear,
) -> xr.DataArray:
    """All scenes covering ``site`` between ``start`` and ``end``, as a (time, band, y, x) stack.

    ``start``/``end`` are inclusive; a ``date`` means the whole UTC day and a naive
    ``datetime`` is taken as UTC. ``bands`` defaults to
    the bands every chosen scene has (in the first scene's order). ``resolution`` (metres)
    defaults to the finest native resolution among the chosen bands. ``buffer_m`` grows the
    site's area of interest (see :func:`sitewatch.catalog.aoi.site_area_of_interest`).

    The result is float32 with NaN for no data, has ``.rio`` CRS and transform, coordinates
    ``time`` (UTC, naive datetime64), ``band``, ``y``/``x`` (pixel centres in metres) and
    ``scene_id`` (per time), and attrs ``site_id``, ``scene_ids``, ``resolution_m``,
    ``resampling``, ``aoi_wkt`` (lon/lat) and ``sources`` (per time: scene id and the hrefs
    and hashes of the files read), which products copy as lineage.

    Raises :class:`NotFoundError` when the site does not exist or no imagery covers it, and
    :class:`InputError` for a missing band, a bad parameter or an unreadable file.
    """
    if resolution is not None:
        limits.RESOLUTION_M.check(resolution, item="resolution")
    check_buffer(buffer_m)
    with workspace.session() as session:  # short: the files are read after it closes
        site_id, aoi, plans, band_names = _plan(session, site, start, end, bands, buffer_m)

    utm = local_utm(aoi)
    aoi_utm = to_crs(aoi, WGS84, utm)
    if resolution is None:
        resolution = _finest_resolution(plans, aoi_utm.centroid.coords[0], utm)
    grid = SiteGrid.covering(aoi_utm.bounds, utm, float(resolution))
    _check_size(site_id, len(plans), len(band_names), grid)

    data = np.full((len(plans), len(band_names), grid.height, grid.width), np.nan, np.float32)
    with rasterio.Env(**GDAL_READ_OPTIONS):
        for index, plan in enumerate(plans):
            read_scene(plan, grid, resampling, data[index])
    return _to_data_array(data, plans, band_names, grid, site_id, aoi, resampling)


def _plan(
    session: Session,
    site: Site | str,
    start: datetime | date | None,
    end: datetime | date | None,
    bands: Sequence[str] | None,
    buffer_m: float | None,
) -> tuple[str, BaseGeometry, list[ScenePlan], list[str]]:
    """Find the site and scenes, choose the bands and map them to files: all checks, no reads."""
    if isinstance(site, str):
        site = get_site(session, site)
    aoi = site_area_of_interest(site, buffer_m)
    start_at = day_bound(start, end_of_day=False)
    end_at = day_bound(end, end_of_day=True)
    if start_at is not None and end_at is not None and start_at > end_at:
        raise InputError(f"the start {start_at:%Y-%m-%d} is after the end {end_at:%Y-%m-%d}")
    scenes = find_scenes(session, aoi, start_at, end_at)
    if not scenes:
        raise NotFoundError(
            f"no imagery covers site {site.id} {_period(start_at, end_at)}: add scenes with "
            "'sitewatch imagery add' or widen the dates"
        )
    band_names = choose_bands(scenes, bands)
    plans = [scene_plan(scene, band_names) for scene in scenes]
    return site.id, aoi, plans, band_names


def _period(start: datetime | None, end: datetime | None) -> str:
    """The searched period in words, for messages."""
    if start is None and end is None:
        return "at any date"
    if end is None:
        return f"from {start:%Y-%m-%d %H:%M} UTC on"
    if start is None:
        return f"up to {end:%Y-%m-%d %H:%M} UTC"
    return f"between {start:%Y-%m-%d %H:%M} and {end:%Y-%m-%d %H:%M} UTC"


def _scene_bands(scene: Scene) -> list[str]:
    """The bands a scene can deliver: those named by its assets, in asset order."""
    return [band for asset in scene.assets for band in asset.bands]


def parse_bands(given: str | Sequence[str] | None, option: str = "--bands") -> list[str] | None:
    """Band names from ``B02,B03`` or repeated values each comma-separated; None when not
    given (the caller's default bands). Given but naming no band is an error rather than
    a silent fall back to the defaults."""
    if given is None:
        return None
    texts = [given] if isinstance(given, str) else list(given)
    if not texts:
        return None
    names = [name.strip() for text in texts for name in text.split(",") if name.strip()]
    if not names:
        raise InputError("names no band", item=option)
    return names


def choose_bands(scenes: list[Scene], requested: Sequence[str] | None) -> list[str]:
    """The bands to read: ``requested`` (each checked against every scene), else the bands
    all ``scenes`` share, in the first scene's order.

    Checked before any pixel is read so that a missing band is one error naming the scene,
    not a failure half way through a stack or a scan.
    """
    if requested is not None:
        chosen = list(dict.fromkeys(requested))
        if not chosen:
            raise InputError("asks for no band at all", item="bands")
        for scene in scenes:
            available = set(_scene_bands(scene))
            for band in chosen:
                if band not in available:
                    raise InputError(
                        f"has no band {band!r} (it has: {', '.join(_scene_bands(scene))})",
                        item=f"scene {scene.id}",
                    )
        return chosen
    common = set.intersection(*(set(_scene_bands(scene)) for scene in scenes))
    chosen = [band for band in dict.fromkeys(_scene_bands(scenes[0])) if band in common]
    if not chosen:
        raise InputError(
            "the scenes over this site share no band; pass bands=... or narrow the dates",
            item=", ".join(scene.id for scene in scenes),
        )
    return chosen


def scene_plan(scene: Scene, band_names: list[str]) -> ScenePlan:
    """The read plan of ``scene`` for ``band_names``: each wanted band mapped to its asset and
    raster band number (the first asset naming a band wins), so readers never touch the
    catalog again."""
    position_of = {band: position for position, band in enumerate(band_names)}
    reads: list[AssetRead] = []
    placed: set[str] = set()
    for asset in scene.assets:
        indexes: list[int] = []
        positions: list[int] = []
        for raster_index, band in enumerate(asset.bands, start=1):
            if band in position_of and band not in placed:
                placed.add(band)
                indexes.append(raster_index)
                positions.append(position_of[band])
        if indexes:
            reads.append(AssetRead(asset.href, asset.sha256, tuple(indexes), tuple(positions)))
    return ScenePlan(scene.id, scene.datetime, scene.footprint, scene.resolution_m, tuple(reads))


@contextmanager
def open_asset(read: AssetRead, scene_id: str) -> Iterator[rasterio.DatasetReader]:
    """Open an asset, turning GDAL's complaint into a message that names scene and file.

    Also refuses files without a CRS or with fewer bands than the catalog says: both would
    otherwise be read silently into the wrong place.
    """
    try:
        dataset = rasterio.open(gdal_path(read.href))
    except RasterioError as exc:
        raise InputError(
            f"cannot open raster: {exc}", source=read.href, item=f"scene {scene_id}"
        ) from exc
    with dataset:
        if dataset.crs is None:
            raise InputError(
                "has no coordinate reference system, so it cannot be placed on a map",
                source=read.href,
                item=f"scene {scene_id}",
            )
        if max(read.raster_indexes) > dataset.count:
            raise InputError(
                f"has {dataset.count} raster band(s) but the catalog expects "
                f"{max(read.raster_indexes)}",
                source=read.href,
                item=f"scene {scene_id}",
            )
        yield dataset


def _finest_resolution(plans: list[ScenePlan], at: tuple[float, float], utm: CRS) -> float:
    """The smallest native pixel size, in metres, of the files the stack will read."""
    finest = math.inf
    with rasterio.Env(**GDAL_READ_OPTIONS):
        for plan in plans:
            for read in plan.reads:
                with open_asset(read, plan.scene_id) as dataset:
                    measured = _ground_pixel_size(dataset, at, utm)
                finest = min(finest, _snap_to_nominal(measured, plan.nominal_resolution_m))
    return finest


def _ground_pixel_size(dataset: rasterio.DatasetReader, at: tuple[float, float], utm: CRS) -> float:
    """Square root of the ground area (metres^2) of the dataset pixel at ``at`` (UTM x, y)."""
    xs, ys = transform_coords(utm, dataset.crs, [at[0]], [at[1]])
    col, row = ~dataset.transform @ (xs[0], ys[0])
    col, row = math.floor(col), math.floor(row)
    corners = [
        dataset.transform @ (col + dc, row + dr) for dc, dr in ((0, 0), (1, 0), (1, 1), (0, 1))
    ]
    cx, cy = transform_coords(dataset.crs, utm, [c[0] for c in corners], [c[1] for c in corners])
    area = 0.5 * abs(sum(cx[i] * cy[i - 1] - cx[i - 1] * cy[i] for i in range(4)))
    return math.sqrt(area)


def _snap_to_nominal(measured: float, nominal: float | None) -> float:
    if nominal is None or nominal <= 0:
        return round(measured, 2)
    multiple = max(1, round(measured / nominal))
    if abs(measured - multiple * nominal) <= 0.25 * multiple * nominal:
        return multiple * nominal
    return round(measured, 2)


def _check_size(site_id: str, times: int, bands: int, grid: SiteGrid) -> None:
    needed = times * bands * grid.height * grid.width * 4
    if needed > MAX_STACK_BYTES:
        raise InputError(
            f"a stack of {times} scene(s) x {bands} band(s) x {grid.height} x {grid.width} "
            f"pixels at {grid.resolution:g} m would need {needed / 1024**3:.1f} GiB; "
            "choose fewer dates or bands, a coarser resolution or a smaller buffer",
            item=f"site {site_id}",
        )


def read_scene(plan: ScenePlan, grid: SiteGrid, resampling: Resampling, out: np.ndarray) -> None:
    """Warp the needed window of each asset of one scene into ``out`` (band, y, x).

    Works for any file CRS and pixel size (a warped VRT onto ``grid``; only the blocks the
    grid touches are read); pixels outside the scene's footprint become NaN. The scanner
    falls back to it for files that are not on its tile lattice.
    """
    for read in plan.reads:
        with (
            open_asset(read, plan.scene_id) as dataset,
            WarpedVRT(
                dataset,
                crs=grid.crs,
                transform=grid.transform,
                width=grid.width,
                height=grid.height,
                resampling=resampling,
                nodata=np.nan,
                dtype="float32",
            ) as vrt,
        ):
            try:
                window = vrt.read(indexes=list(read.raster_indexes))
            except RasterioError as exc:
                raise InputError(
                    f"cannot read raster: {exc}", source=read.href, item=f"scene {plan.scene_id}"
                ) from exc
            out[list(read.stack_positions)] = window
    footprint = to_crs(plan.footprint, WGS84, grid.crs)
    outside = geometry_mask(
        [footprint], out_shape=(grid.height, grid.width), transform=grid.transform
    )
    out[:, outside] = np.nan


def _to_data_array(
    data: np.ndarray,
    plans: list[ScenePlan],
    band_names: list[str],
    grid: SiteGrid,
    site_id: str,
    aoi: BaseGeometry,
    resampling: Resampling,
) -> xr.DataArray:
    times = [
        np.datetime64(plan.acquired.astimezone(UTC).replace(tzinfo=None), "ns") for plan in plans
    ]
    scene_ids = [plan.scene_id for plan in plans]
    array = xr.DataArray(
        data,
        dims=("time", "band", "y", "x"),
        coords={
            "time": np.array(times, dtype="datetime64[ns]"),
            "band": band_names,
            "y": grid.y_centres(),
            "x": grid.x_centres(),
            "scene_id": ("time", scene_ids),
        },
        name="imagery",
        attrs={
            "site_id": site_id,
            "scene_ids": scene_ids,
            "resolution_m": grid.resolution,
            "resampling": resampling.name,
            "aoi_wkt": aoi.wkt,
            "sources": [
                {
                    "scene_id": plan.scene_id,
                    "assets": [{"href": r.href, "sha256": r.sha256} for r in plan.reads],
                }
                for plan in plans
            ],
        },
    )
    array = array.rio.write_crs(grid.crs)
    array = array.rio.write_transform(grid.transform)
    return array.rio.write_nodata(np.nan)
