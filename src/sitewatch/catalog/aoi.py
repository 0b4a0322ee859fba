"""Areas of interest: the polygon that imagery is read for, and every way a user names one.

A polygon site is its own area of interest. A point site becomes a disc whose radius is
the caller's buffer, else the site's coordinate uncertainty, else a default: a published
point with a 2 km uncertainty must be searched over 2 km, not over one pixel. A site
across the antimeridian gives an area split there (:func:`sitewatch.geo.normalise_lonlat`).

This module is the one parser of areas for the CLI and the web routes alike: a scan's
``AOI`` argument (:func:`area_of`: ``country:ISO3``, ``bbox:W,S,E,N`` or bare ``W,S,E,N``,
``site:ID``, or a vector file), the ``--site``/``--bbox`` filters of the imagery commands
(:func:`filter_area`) and a site grown by ``--buffer`` (:func:`site_area`). One rule for
each: an unknown site is a NotFoundError (exit 3) from :func:`catalog.sites.get_site`, a
buffer is within :data:`limits.BUFFER_M` (0 means the site's own radius), checked before
any database read.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyogrio
import shapely
from pyogrio.errors import DataSourceError
from pyproj import CRS
from shapely import wkb
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from sitewatch import limits
from sitewatch.catalog.reference import country_outline
from sitewatch.catalog.sites import get_site
from sitewatch.db.models import Site
from sitewatch.errors import InputError
from sitewatch.geo import WGS84, buffer_metres, normalise_lonlat, to_crs

DEFAULT_POINT_BUFFER_M = 1000.0
AREA_FILE_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".kml", ".fgb")


def check_buffer(buffer_m: float | None) -> float | None:
    """``--buffer`` within :data:`limits.BUFFER_M`, or None (the site's own radius)."""
    if buffer_m is not None:
        limits.BUFFER_M.check(buffer_m, item="--buffer")
    return buffer_m


def site_area(session: Session, site_id: str, buffer_m: float | None = None) -> BaseGeometry:
    """The area of interest of the catalogued site ``site_id`` (NotFoundError if unknown)."""
    check_buffer(buffer_m)
    return site_area_of_interest(get_site(session, site_id), buffer_m)


def area_of(session: Session, spec: str, buffer_m: float | None = None) -> BaseGeometry:
    """The lon/lat polygon of ``country:ISO3``, ``bbox:W,S,E,N`` (or bare ``W,S,E,N``),
    ``site:ID`` (grown by ``buffer_m``) or a GeoJSON/GeoPackage/... file."""
    text = spec.strip()
    check_buffer(buffer_m)
    if text.lower().startswith("site:"):
        return site_area(session, text[5:].strip(), buffer_m)
    if text.lower().endswith(AREA_FILE_SUFFIXES) or Path(text).expanduser().is_file():
        return read_area_file(Path(text).expanduser())
    if text.count(",") == 3 and ":" not in text:
        text = f"bbox:{text}"
    return parse_area(text)


def filter_area(
    session: Session,
    *,
    site_id: str | None = None,
    bbox_text: str | None = None,
    buffer_m: float | None = None,
) -> BaseGeometry | None:
    """The area named by ``--site`` and/or ``--bbox`` (their intersection when both are given)."""
    areas = []
    if bbox_text is not None:
        areas.append(box(*parse_bbox(bbox_text)))
    if site_id is not None:
        areas.append(site_area(session, site_id, buffer_m))
    if not areas:
        return None
    area = areas[0]
    for other in areas[1:]:
        area = area.intersection(other)
    if area.is_empty:
        raise InputError("the site's area and --bbox do not overlap", item="--bbox")
    return area


def read_area_file(path: Path) -> BaseGeometry:
    """The union of every geometry in a vector file, in lon/lat."""
    try:
        meta, _, geometries, _ = pyogrio.raw.read(path)
    except (DataSourceError, OSError, ValueError) as exc:
        raise InputError(f"cannot read as a vector file: {exc}", source=path) from None
    shapes = [geometry for geometry in wkb.loads(np.asarray(geometries, dtype=object)) if geometry]
    shapes = [shape for shape in shapes if not shape.is_empty]
    if not shapes:
        raise InputError("holds no geometry", source=path)
    area = shapely.union_all(shapes)
    crs = meta.get("crs")
    if crs and CRS.from_user_input(crs) != WGS84:
        area = to_crs(area, CRS.from_user_input(crs), WGS84)
    if area.area == 0:
        raise InputError("holds no polygon (points and lines have no area to scan)", source=path)
    return area


def site_area_of_interest(site: Site, buffer_m: float | None = None) -> BaseGeometry:
    """The lon/lat polygon to read imagery for at ``site`` (``buffer_m`` as checked by
    :func:`check_buffer`)."""
    if site.geometry is None or site.geometry.is_empty:
        raise InputError(
            "has no location, so no imagery can be read for it", item=f"site {site.id}"
        )
    geometry = site.geometry
    if geometry.geom_type in ("Point", "MultiPoint", "LineString", "MultiLineString"):
        radius = buffer_m or site.uncertainty_m or DEFAULT_POINT_BUFFER_M
        return buffer_metres(geometry, radius)
    if buffer_m:
        return buffer_metres(geometry, buffer_m)
    return normalise_lonlat(geometry)


def parse_area(text: str) -> BaseGeometry:
    """A lon/lat area from ``country:PRK`` (a shipped outline) or ``bbox:W,S,E,N`` (degrees)."""
    kind, _, value = text.partition(":")
    kind = kind.strip().lower()
    if kind == "country" and value.strip():
        return country_outline(value)
    if kind == "bbox":
        return box(*parse_bbox(value, f"area {text!r}"))
    raise InputError(
        "expected country:ISO3 (e.g. country:PRK) or bbox:minlon,minlat,maxlon,maxlat",
        item=f"area {text!r}",
    )


BBox = tuple[float, float, float, float]


def parse_bbox(text: str, option: str = "--bbox") -> BBox:
    """``min_lon,min_lat,max_lon,max_lat`` (the STAC order) as four checked floats.

    Every corner within :data:`limits.LONGITUDE` / :data:`limits.LATITUDE`, west before
    east: a box across the antimeridian is given as two boxes, or as a site.
    """
    parts = [part.strip() for part in text.replace(" ", ",").split(",") if part.strip()]
    try:
        values = [float(part) for part in parts]
    except ValueError:
        values = []
    if len(values) != 4:
        raise InputError(
            f"{text!r} is not min_lon,min_lat,max_lon,max_lat (e.g. 2.2,48.8,2.4,48.9)",
            item=option,
        )
    min_lon, min_lat, max_lon, max_lat = values
    for value, bound in zip(values, (limits.LONGITUDE, limits.LATITUDE) * 2, strict=True):
        bound.check(value, item=option)
    if not (min_lon < max_lon and min_lat < max_lat):
        raise InputError(f"{text!r}: need min_lon < max_lon and min_lat < max_lat", item=option)
    return min_lon, min_lat, max_lon, max_lat
