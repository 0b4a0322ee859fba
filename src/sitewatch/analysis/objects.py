"""Change objects: connected regions of a change mask as polygons with their numbers.

Polygons come from the raster grid (``rasterio.features.shapes``, 8-connected like the
minimum mapping unit of :mod:`sitewatch.analysis.threshold`, so one region gives one
object). Geometries are returned in lon/lat (EPSG:4326) whatever the raster CRS, because
that is what the catalog stores. Areas are on the WGS 84 ellipsoid, so they do not depend
on the raster's projection. On a projected grid (UTM) an object's area is its pixel count
times the grid's pixel area divided by the projection's areal scale at its centroid (the
UTM scale factor squared, from pyproj): this equals the geodesic area of its polygon to
about 1e-6 for objects of a few km and costs nothing per object, which matters with
~2,000 objects per Mpx. On lon/lat grids it is the geodesic area of the polygon. Centroids
are taken in the raster CRS, where the pixels are equal-sized (the mean of the pixel
centres), and then converted.

Everything is computed for all objects at once (bincounts over the label image, one
vectorised reprojection); the only per-object work is GDAL tracing the polygons.

Direction of an object: the direction (+1 gain, -1 loss) shared by at least two thirds
of its pixels, else 0 (mixed or unknown).

Class of an object (when the vegetation-phase pixels are given): ``vegetation`` when their
share reaches the rule's (:mod:`sitewatch.analysis.vegetation`), else ``structural``;
None when no vegetation-phase test was made (input without red and near infrared).

Without a transform and CRS the geometries stay in pixel coordinates (column, row) and
the ground quantities (area, centroid) are None.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from pyproj import CRS, Geod, Proj, Transformer
from pyproj.exceptions import CRSError
from rasterio import features
from rasterio.transform import Affine
from scipy import ndimage
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from sitewatch.analysis.threshold import EIGHT_CONNECTED
from sitewatch.analysis.vegetation import (
    STRUCTURAL,
    VEGETATION,
    VegetationRule,
    is_vegetation_object,
)
from sitewatch.errors import InputError

WGS84_ELLIPSOID = Geod(ellps="WGS84")
MAJORITY = 2 / 3


@dataclass(frozen=True)
class ChangeObject:
    """One connected changed region."""

    geometry: BaseGeometry
    area_m2: float | None
    centroid_lon: float | None
    centroid_lat: float | None
    mean_score: float
    max_score: float
    direction: int
    pixel_count: int
    #: The object holds a pixel of the ``edge_pixels`` given to :func:`polygonise` (in a
    #: scan: next to pixels it could not compare, so its outline may be cut there).
    edge: bool = False
    #: ``structural`` or ``vegetation`` (module docstring); None when not tested.
    change_class: str | None = None
    #: Share of the object's pixels whose change is vegetation-phase; None when not tested.
    vegetation_share: float | None = None


def _to_lonlat(crs: Any) -> tuple[CRS, Transformer]:
    try:
        source = CRS.from_user_input(crs)
    except CRSError as error:
        raise InputError(f"not a usable CRS: {error}", item="crs") from None
    return source, Transformer.from_crs(source, CRS.from_epsg(4326), always_xy=True)


def _outlines(labels: np.ndarray, region: np.ndarray, transform: Affine, count: int) -> np.ndarray:
    """Polygon of each label 1..count (index label - 1), in the coordinates of ``transform``.

    GDAL traces the polygons; their rings are gathered into one coordinate array so that
    shapely builds every polygon in one vectorised call.
    """
    rings: list[np.ndarray] = []
    ring_counts: list[int] = []
    owners: list[int] = []
    for geojson, label in features.shapes(labels, mask=region, connectivity=8, transform=transform):
        polygon_rings = geojson["coordinates"]
        rings.extend(np.asarray(ring, dtype=np.float64) for ring in polygon_rings)
        ring_counts.append(len(polygon_rings))
        owners.append(int(label))
    ring_offsets = np.cumsum([0, *(len(ring) for ring in rings)])
    polygon_offsets = np.cumsum([0, *ring_counts])
    polygons = shapely.from_ragged_array(
        shapely.GeometryType.POLYGON,
        np.concatenate(rings),
        (ring_offsets, polygon_offsets),
    )
    owner = np.asarray(owners) - 1
    outlines = np.empty(count, dtype=object)
    if len(owner) == count and np.array_equal(np.sort(owner), np.arange(count)):
        outlines[owner] = polygons
        return outlines
    # A region GDAL traced as several polygons: one (multi)polygon per label.
    for label in range(count):
        outlines[label] = shapely.union_all(polygons[owner == label])
    return outlines


def _label_statistics(
    labels: np.ndarray, values: np.ndarray, signs: np.ndarray, count: int
) -> dict[str, np.ndarray]:
    """Pixel count, mean and max score, direction and pixel centroid (row, col) per label.

    One pass of bincounts over the changed pixels instead of a mask per object.
    """
    rows, cols = np.nonzero(labels)
    owner = labels[rows, cols]
    scores = values[rows, cols]
    pixels = np.bincount(owner, minlength=count + 1)[1:]
    maximum = np.full(count + 1, -np.inf, dtype=np.float32)
    np.maximum.at(maximum, owner, scores)
    sign = signs[rows, cols]
    gains = np.bincount(owner, weights=sign == 1, minlength=count + 1)[1:] / pixels
    losses = np.bincount(owner, weights=sign == -1, minlength=count + 1)[1:] / pixels
    direction = np.where(gains >= MAJORITY, 1, np.where(losses >= MAJORITY, -1, 0))
    return {
        "pixels": pixels,
        "mean": np.bincount(owner, weights=scores, minlength=count + 1)[1:] / pixels,
        "max": maximum[1:],
        "direction": direction,
        # Centre of each pixel, averaged: the centroid of the region's equal-sized cells.
        "row": np.bincount(owner, weights=rows, minlength=count + 1)[1:] / pixels + 0.5,
        "col": np.bincount(owner, weights=cols, minlength=count + 1)[1:] / pixels + 0.5,
    }


def _centred_in(
    labels: np.ndarray, stats: dict[str, np.ndarray], core: tuple[slice, slice]
) -> tuple[np.ndarray, int, dict[str, np.ndarray]]:
    """The labels (renumbered 1..kept) and statistics of the objects centred in ``core``.

    Dropped before their outlines are traced: a tile's halo holds objects its neighbours
    own, and tracing them would be paid twice.
    """
    rows, cols = core
    keep = (
        (stats["row"] >= rows.start)
        & (stats["row"] < rows.stop)
        & (stats["col"] >= cols.start)
        & (stats["col"] < cols.stop)
    )
    kept = int(np.count_nonzero(keep))
    lookup = np.zeros(len(keep) + 1, dtype=np.int32)
    lookup[1:][keep] = np.arange(1, kept + 1, dtype=np.int32)
    return lookup[labels], kept, {name: values[keep] for name, values in stats.items()}


def _ground_areas(
    crs: CRS,
    transform: Affine,
    pixels: np.ndarray,
    lonlat_outlines: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
) -> np.ndarray:
    """Area of each object on the WGS 84 ellipsoid, m2 (see the module docstring)."""
    if crs.is_projected:
        factors = Proj(crs).get_factors(lon, lat)
        return pixels * abs(transform.determinant) / np.asarray(factors.areal_scale)
    return np.array(
        [abs(WGS84_ELLIPSOID.geometry_area_perimeter(outline)[0]) for outline in lonlat_outlines]
    )


def polygonise(
    mask: np.ndarray,
    score: np.ndarray,
    direction: np.ndarray | None = None,
    *,
    transform: Affine | None = None,
    crs: Any = None,
    edge_pixels: np.ndarray | None = None,
    core: tuple[slice, slice] | None = None,
    vegetation_pixels: np.ndarray | None = None,
    vegetation_rule: VegetationRule | None = None,
) -> list[ChangeObject]:
    """Change objects of a bool (y, x) ``mask`` with statistics from ``score``.

    ``direction`` is the int8 map of a :class:`~sitewatch.analysis.scores.ChangeScore`
    (None: all objects get 0). ``transform`` is the raster's affine transform and ``crs``
    anything pyproj accepts (EPSG code, WKT, rasterio CRS); give both or neither.
    ``edge_pixels`` (bool, same grid) marks the objects holding any of them (``edge``).
    ``core`` (rows, cols), when given, keeps only the objects whose centroid (the mean of
    their pixel centres) lies in that part of the grid, half-open: a scan tile read with a
    halo owns the objects centred in its square (:mod:`sitewatch.scan.grid`).
    ``vegetation_pixels`` (bool, same grid: changed pixels whose change is vegetation-phase)
    with ``vegetation_rule`` give each object its ``vegetation_share`` and ``change_class``.
    Objects are ordered by decreasing max score, then area.
    """
    region = np.asarray(mask, dtype=bool)
    values = np.asarray(score, dtype=np.float32)
    if region.ndim != 2 or values.shape != region.shape:
        raise InputError(
            f"mask {region.shape} and score {values.shape} must be one (y, x) grid", item="score"
        )
    signs = np.zeros(region.shape, np.int8) if direction is None else np.asarray(direction)
    if signs.shape != region.shape:
        raise InputError(
            f"direction {signs.shape} differs from mask {region.shape}", item="direction"
        )
    if (transform is None) != (crs is None):
        raise InputError("give both a transform and a CRS, or neither", item="crs")
    labels, count = ndimage.label(region, structure=EIGHT_CONNECTED)
    if count == 0:
        return []
    stats = _label_statistics(labels, values, signs, count)
    if core is not None:
        labels, count, stats = _centred_in(labels, stats, core)
        if count == 0:
            return []
        region = labels > 0
    grid = transform if transform is not None else Affine.identity()
    outlines = _outlines(labels.astype(np.int32, copy=False), region, grid, count)
    edges = np.zeros(count, dtype=bool)
    if edge_pixels is not None:
        edges = np.bincount(labels[np.asarray(edge_pixels, bool)], minlength=count + 1)[1:] > 0
    shares, classes = _vegetation_classes(
        labels, count, stats["pixels"], vegetation_pixels, vegetation_rule
    )
    areas: list[float | None] = [None] * count
    lons: list[float | None] = [None] * count
    lats: list[float | None] = [None] * count
    if crs is not None:
        source, transformer = _to_lonlat(crs)
        outlines = shapely.transform(
            outlines, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))
        )
        x = grid.c + grid.a * stats["col"] + grid.b * stats["row"]
        y = grid.f + grid.d * stats["col"] + grid.e * stats["row"]
        lon, lat = transformer.transform(x, y)
        areas = _ground_areas(source, grid, stats["pixels"], outlines, lon, lat).tolist()
        lons, lats = np.asarray(lon).tolist(), np.asarray(lat).tolist()
    objects = [
        ChangeObject(
            geometry=outline,
            area_m2=area,
            centroid_lon=lon_,
            centroid_lat=lat_,
            mean_score=mean,
            max_score=peak,
            direction=sign,
            pixel_count=pixels,
            edge=edge,
            change_class=kind,
            vegetation_share=share,
        )
        for outline, area, lon_, lat_, mean, peak, sign, pixels, edge, kind, share in zip(
            outlines,
            areas,
            lons,
            lats,
            stats["mean"].tolist(),
            stats["max"].astype(np.float64).tolist(),
            stats["direction"].tolist(),
            stats["pixels"].tolist(),
            edges.tolist(),
            classes,
            shares,
            strict=True,
        )
    ]
    objects.sort(key=lambda item: (-item.max_score, -item.pixel_count))
    return objects


def _vegetation_classes(
    labels: np.ndarray,
    count: int,
    pixels: np.ndarray,
    vegetation_pixels: np.ndarray | None,
    rule: VegetationRule | None,
) -> tuple[list[float | None], list[str | None]]:
    """Vegetation-phase share and class of each label (None for all when not tested)."""
    if vegetation_pixels is None or rule is None:
        return [None] * count, [None] * count
    flagged = np.asarray(vegetation_pixels, bool)
    share = np.bincount(labels[flagged], minlength=count + 1)[1:] / pixels
    vegetation = is_vegetation_object(share, rule)
    return share.tolist(), [VEGETATION if item else STRUCTURAL for item in vegetation.tolist()]


def feature_properties(item: ChangeObject) -> dict[str, Any]:
    """The GeoJSON properties of an object: every field but the geometry."""
    return {
        "area_m2": item.area_m2,
        "centroid_lon": item.centroid_lon,
        "centroid_lat": item.centroid_lat,
        "mean_score": item.mean_score,
        "max_score": item.max_score,
        "direction": item.direction,
        "pixel_count": item.pixel_count,
        "change_class": item.change_class,
        "vegetation_share": item.vegetation_share,
    }


def to_geojson(objects: list[ChangeObject]) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of ``objects`` (properties: every field but geometry)."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": index,
                "geometry": mapping(item.geometry),
                "properties": feature_properties(item),
            }
            for index, item in enumerate(objects, start=1)
        ],
    }
