"""Change objects: connected regions of a change mask as polygons with their numbers.

Polygons come from the raster grid (``rasterio.features.shapes``, 8-connected like the
minimum mapping unit of :mod:`sitewatch.analysis.threshold`, so one region gives one
object). Geometries are returned in lon/lat (EPSG:4326) whatever the raster CRS, because
that is what the catalog stores. Areas are geodesic, on the WGS 84 ellipsoid: they do not
depend on the raster's projection and are right for lon/lat rasters too. Centroids are
taken in the raster CRS, where the pixels are equal-sized, and then converted.

Direction of an object: the direction (+1 gain, -1 loss) shared by at least two thirds
of its pixels, else 0 (mixed or unknown).

Without a transform and CRS the geometries stay in pixel coordinates (column, row) and
the ground quantities (area, centroid) are None.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from pyproj import CRS, Geod, Transformer
from pyproj.exceptions import CRSError
from rasterio import features
from rasterio.transform import Affine
from scipy import ndimage
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

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


def _to_lonlat(crs: Any) -> Transformer:
    try:
        source = CRS.from_user_input(crs)
    except CRSError as error:
        raise InputError(f"not a usable CRS: {error}", item="crs") from None
    return Transformer.from_crs(source, CRS.from_epsg(4326), always_xy=True)


def _reproject(geometry: BaseGeometry, transformer: Transformer) -> BaseGeometry:
    def move(coordinates: np.ndarray) -> np.ndarray:
        lon, lat = transformer.transform(coordinates[:, 0], coordinates[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(geometry, move)


def _direction_of(directions: np.ndarray) -> int:
    for value in (1, -1):
        if np.mean(directions == value) >= MAJORITY:
            return value
    return 0


def polygonise(
    mask: np.ndarray,
    score: np.ndarray,
    direction: np.ndarray | None = None,
    *,
    transform: Affine | None = None,
    crs: Any = None,
) -> list[ChangeObject]:
    """Change objects of a bool (y, x) ``mask`` with statistics from ``score``.

    ``direction`` is the int8 map of a :class:`~sitewatch.analysis.scores.ChangeScore`
    (None: all objects get 0). ``transform`` is the raster's affine transform and ``crs``
    anything pyproj accepts (EPSG code, WKT, rasterio CRS); give both or neither.
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
    labels, count = ndimage.label(region, structure=np.ones((3, 3), dtype=bool))
    if count == 0:
        return []
    transformer = _to_lonlat(crs) if crs is not None else None
    pieces: dict[int, list[BaseGeometry]] = {}
    for geojson, label in features.shapes(
        labels.astype(np.int32),
        mask=region,
        connectivity=8,
        transform=transform if transform is not None else Affine.identity(),
    ):
        pieces.setdefault(int(label), []).append(shape(geojson))
    objects = []
    for label, slices in enumerate(ndimage.find_objects(labels), start=1):
        inside = labels[slices] == label
        scores = values[slices][inside]
        outline = shapely.union_all(pieces[label])
        area = lon = lat = None
        if transformer is not None:
            outline_lonlat = _reproject(outline, transformer)
            area = abs(WGS84_ELLIPSOID.geometry_area_perimeter(outline_lonlat)[0])
            centre = _reproject(outline.centroid, transformer)
            lon, lat = centre.x, centre.y
            outline = outline_lonlat
        objects.append(
            ChangeObject(
                geometry=outline,
                area_m2=area,
                centroid_lon=lon,
                centroid_lat=lat,
                mean_score=float(scores.mean()),
                max_score=float(scores.max()),
                direction=_direction_of(signs[slices][inside]),
                pixel_count=int(inside.sum()),
            )
        )
    objects.sort(key=lambda item: (-item.max_score, -item.pixel_count))
    return objects


def to_geojson(objects: list[ChangeObject]) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of ``objects`` (properties: every field but geometry)."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": index,
                "geometry": mapping(item.geometry),
                "properties": {
                    "area_m2": item.area_m2,
                    "centroid_lon": item.centroid_lon,
                    "centroid_lat": item.centroid_lat,
                    "mean_score": item.mean_score,
                    "max_score": item.max_score,
                    "direction": item.direction,
                    "pixel_count": item.pixel_count,
                },
            }
            for index, item in enumerate(objects, start=1)
        ],
    }
