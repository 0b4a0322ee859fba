"""The areas imagery commands filter by: a site's area of interest, or a lon/lat box."""

from __future__ import annotations

import math

from shapely.geometry import box
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from sitewatch import limits
from sitewatch.catalog.aoi import site_area_of_interest
from sitewatch.db.models import Site
from sitewatch.errors import InputError, NotFoundError

BBox = tuple[float, float, float, float]


def parse_bbox(text: str, option: str = "--bbox") -> BBox:
    """``min_lon,min_lat,max_lon,max_lat`` (the STAC order) as four checked floats."""
    parts = [part.strip() for part in text.replace(" ", ",").split(",") if part.strip()]
    try:
        values = [float(part) for part in parts]
    except ValueError:
        values = []
    if len(values) != 4 or not all(math.isfinite(value) for value in values):
        raise InputError(
            f"{text!r} is not min_lon,min_lat,max_lon,max_lat (e.g. 2.2,48.8,2.4,48.9)",
            item=option,
        )
    min_lon, min_lat, max_lon, max_lat = values
    if not (-180 <= min_lon < max_lon <= 180 and -90 <= min_lat < max_lat <= 90):
        raise InputError(
            f"{text!r}: need -180 <= min_lon < max_lon <= 180 and -90 <= min_lat < max_lat <= 90",
            item=option,
        )
    return min_lon, min_lat, max_lon, max_lat


def site_area(session: Session, site_id: str, buffer_m: float | None = None) -> BaseGeometry:
    """The area of interest of a catalogued site; NotFoundError if there is no such site."""
    site = session.get(Site, site_id)
    if site is None:
        raise NotFoundError(f"site {site_id!r} not found: see 'sitewatch sites list'")
    if buffer_m is not None:
        limits.BUFFER_M.check(buffer_m, item="--buffer")
    return site_area_of_interest(site, buffer_m)


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
