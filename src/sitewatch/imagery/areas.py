"""The areas imagery commands filter by: a site's area of interest, or a lon/lat box."""

from __future__ import annotations

from shapely.geometry import box
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from sitewatch import limits
from sitewatch.catalog.aoi import parse_bbox, site_area_of_interest
from sitewatch.db.models import Site
from sitewatch.errors import InputError, NotFoundError


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
