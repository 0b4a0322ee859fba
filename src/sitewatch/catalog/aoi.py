"""Areas of interest: the polygon that imagery is read for.

A polygon site is its own area of interest. A point site becomes a disc whose radius is
the caller's buffer, else the site's coordinate uncertainty, else a default: a published
point with a 2 km uncertainty must be searched over 2 km, not over one pixel. A site
across the antimeridian gives an area split there (:func:`sitewatch.geo.normalise_lonlat`).
"""

from __future__ import annotations

from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from sitewatch import limits
from sitewatch.catalog.reference import country_outline
from sitewatch.db.models import Site
from sitewatch.errors import InputError
from sitewatch.geo import buffer_metres, normalise_lonlat

DEFAULT_POINT_BUFFER_M = 1000.0


def site_area_of_interest(site: Site, buffer_m: float | None = None) -> BaseGeometry:
    """The lon/lat polygon to read imagery for at ``site``."""
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
