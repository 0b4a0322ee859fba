"""Small geodesy helpers shared by the catalog, imagery and analysis layers.

Distances and buffers are computed in the local UTM zone of a geometry: within a
site-sized area the UTM scale error is far below the coordinate uncertainty of
public site reports, and it gives the metric grid that imagery stacks use.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from pyproj import CRS, Transformer
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

WGS84 = CRS.from_epsg(4326)


def utm_crs_for(lon: float, lat: float) -> CRS:
    """The WGS 84 / UTM zone CRS that contains ``lon, lat`` (Norway/Svalbard quirks ignored)."""
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        raise ValueError(f"not a longitude/latitude: {lon}, {lat}")
    zone = min(int((lon + 180.0) // 6.0) + 1, 60)
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def to_crs(geometry: BaseGeometry, source: CRS, target: CRS) -> BaseGeometry:
    """``geometry`` transformed from ``source`` to ``target`` (always_xy axis order)."""
    transformer = Transformer.from_crs(source, target, always_xy=True)

    def project(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geometry, project)


def local_utm(geometry: BaseGeometry) -> CRS:
    """The UTM zone of a lon/lat geometry's centroid."""
    centre = geometry.centroid
    return utm_crs_for(centre.x, centre.y)


def buffer_metres(geometry: BaseGeometry, metres: float, *, resolution: int = 16) -> BaseGeometry:
    """A lon/lat geometry grown by ``metres`` on the ground, returned in lon/lat."""
    utm = local_utm(geometry)
    grown = to_crs(geometry, WGS84, utm).buffer(metres, resolution)
    return to_crs(grown, utm, WGS84)


def distance_metres(a: BaseGeometry, b: BaseGeometry) -> float:
    """Ground distance between two lon/lat geometries, in the UTM zone of the first."""
    utm = local_utm(a)
    return float(to_crs(a, WGS84, utm).distance(to_crs(b, WGS84, utm)))


def haversine_metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance on the mean Earth sphere: a quick, zone-free check."""
    radius = 6_371_008.8
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * radius * math.asin(math.sqrt(h))


def point(lon: float, lat: float) -> Point:
    return Point(lon, lat)
