"""Small geodesy helpers shared by the catalog, imagery and analysis layers.

Distances and buffers are computed in the local UTM zone of a geometry: within a
site-sized area the UTM scale error is far below the coordinate uncertainty of
public site reports, and it gives the metric grid that imagery stacks use.

The antimeridian: lon/lat geometries are planar to shapely, so a small site drawn from
179.9 to -179.9 degrees (Taveuni, Fiji) is a band around the whole world, and a disc or a
scene footprint reprojected from UTM zone 60 jumps from 180 to -180. Such a geometry is
made continuous (:func:`unwrap_antimeridian`: western longitudes + 360) for metric work,
and split into parts within [-180, 180] (:func:`normalise_lonlat`, as RFC 7946 asks) for
storage and intersection tests.
"""

from __future__ import annotations

import math
import threading

import numpy as np
import shapely
import shapely.affinity
from pyproj import CRS, Transformer
from shapely.geometry import MultiPolygon, Point, box
from shapely.geometry.base import BaseGeometry

WGS84 = CRS.from_epsg(4326)


def utm_crs_for(lon: float, lat: float) -> CRS:
    """The WGS 84 / UTM zone CRS that contains ``lon, lat`` (Norway/Svalbard quirks ignored)."""
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        raise ValueError(f"not a longitude/latitude: {lon}, {lat}")
    zone = min(int((lon + 180.0) // 6.0) + 1, 60)
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


_TRANSFORMERS = threading.local()


def _transformer(source: CRS | str, target: CRS | str) -> Transformer:
    """A transformer from ``source`` to ``target``, made once per thread: making one costs
    about 0.2 ms (a nearest-site search over a catalog made a hundred), and pyproj's
    transformers are not to be shared between threads (the web server's pool)."""
    made: dict[tuple[str, str], Transformer] = _TRANSFORMERS.__dict__.setdefault("made", {})
    key = (_definition(source), _definition(target))
    if key not in made:
        if len(made) >= 256:  # a long-lived thread seeing many UTM zones: start again
            made.clear()
        made[key] = Transformer.from_crs(source, target, always_xy=True)
    return made[key]


def _definition(crs: CRS | str) -> str:
    """A CRS's definition as a cheap, exact key: a string as given ("EPSG:4326"), pyproj's
    CRS by the text it was made from (hashing it would write WKT each time), rasterio's by
    its WKT (its short name may round a custom CRS to an EPSG code)."""
    if isinstance(crs, str):
        return crs
    return getattr(crs, "srs", None) or crs.to_wkt()


def to_crs(geometry: BaseGeometry, source: CRS | str, target: CRS | str) -> BaseGeometry:
    """``geometry`` transformed from ``source`` to ``target`` (always_xy axis order)."""
    transformer = _transformer(source, target)

    def project(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geometry, project)


def unwrap_antimeridian(geometry: BaseGeometry) -> BaseGeometry:
    """``geometry`` with western longitudes moved by +360 if that makes it span less than
    180 degrees (it crosses the antimeridian: 179.9..-179.9 becomes 179.9..180.1).

    A geometry spanning 180 degrees or less is returned as is, and so is one that spans
    more either way (a world-wide box): only small things near 180 degrees are unwrapped.
    As in RFC 7946, an edge is taken the short way: a polygon from -180 to 170 would be
    read as the 10 degrees from 170 to 180 (site areas and scenes are never that wide).
    """
    west, _, east, _ = geometry.bounds
    if east - west <= 180.0:
        return geometry

    def shift_west(coords: np.ndarray) -> np.ndarray:
        shifted = coords.copy()
        shifted[:, 0] = np.where(shifted[:, 0] < 0, shifted[:, 0] + 360.0, shifted[:, 0])
        return shifted

    unwrapped = shapely.transform(geometry, shift_west)
    west, _, east, _ = unwrapped.bounds
    # The world from -180 to 180 would collapse onto the 180 line: that is no crossing.
    collapsed = geometry.area > 0 and unwrapped.area == 0
    return unwrapped if east - west < 180.0 and not collapsed else geometry


def normalise_lonlat(geometry: BaseGeometry) -> BaseGeometry:
    """A lon/lat geometry split at the antimeridian into parts within [-180, 180].

    ``geometry`` may cross it written either way (179.9..-179.9 or 179.9..180.1); one that
    does not is returned unchanged. Points and lines on the line stay whole.
    """
    continuous = unwrap_antimeridian(geometry)
    west, _, east, _ = continuous.bounds
    if west >= -180.0 and east <= 180.0:
        return continuous
    parts = []
    for shift in (-360.0, 0.0, 360.0):
        window = box(-180.0 - shift, -90.0, 180.0 - shift, 90.0)
        piece = continuous.intersection(window)
        parts += [
            part
            for part in shapely.get_parts(shapely.affinity.translate(piece, xoff=shift))
            if part.geom_type == "Polygon" and not part.is_empty
        ]
    return parts[0] if len(parts) == 1 else MultiPolygon(parts)


def local_utm(geometry: BaseGeometry) -> CRS:
    """The UTM zone of a lon/lat geometry's centroid (taken across the antimeridian)."""
    centre = unwrap_antimeridian(geometry).centroid
    return utm_crs_for((centre.x + 180.0) % 360.0 - 180.0, centre.y)


def buffer_metres(geometry: BaseGeometry, metres: float, *, resolution: int = 16) -> BaseGeometry:
    """A lon/lat geometry grown by ``metres`` on the ground, returned in lon/lat (split at
    the antimeridian when it reaches across)."""
    continuous = unwrap_antimeridian(geometry)
    utm = local_utm(continuous)
    grown = to_crs(continuous, WGS84, utm).buffer(metres, resolution)
    return normalise_lonlat(to_crs(grown, utm, WGS84))


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
