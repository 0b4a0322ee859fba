"""Areas of interest: the polygon that imagery is read for.

A polygon site is its own area of interest. A point site becomes a disc whose radius is
the caller's buffer, else the site's coordinate uncertainty, else a default: a published
point with a 2 km uncertainty must be searched over 2 km, not over one pixel. A site
across the antimeridian gives an area split there (:func:`sitewatch.geo.normalise_lonlat`).
"""

from __future__ import annotations

from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

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
        return _bbox(value, text)
    raise InputError(
        "expected country:ISO3 (e.g. country:PRK) or bbox:minlon,minlat,maxlon,maxlat",
        item=f"area {text!r}",
    )


def _bbox(value: str, text: str) -> BaseGeometry:
    try:
        min_lon, min_lat, max_lon, max_lat = (float(part) for part in value.split(","))
    except ValueError:
        raise InputError(
            "a bbox is four numbers: minlon,minlat,maxlon,maxlat", item=f"area {text!r}"
        ) from None
    if not (-180 <= min_lon < max_lon <= 180 and -90 <= min_lat < max_lat <= 90):
        raise InputError(
            "need -180 <= minlon < maxlon <= 180 and -90 <= minlat < maxlat <= 90",
            item=f"area {text!r}",
        )
    return box(min_lon, min_lat, max_lon, max_lat)
