"""Which scenes cover an area in a period, ordered by acquisition time.

The bounding-box columns give an indexed pre-filter on any backend; the exact footprint
test is done with shapely on the few rows that pass it.
"""

from __future__ import annotations

from datetime import datetime

from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from sitewatch.db.models import Scene


def find_scenes(
    session: Session,
    area: BaseGeometry | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[Scene]:
    """Scenes whose footprint intersects ``area`` (lon/lat) acquired in [start, end]."""
    query = select(Scene).options(selectinload(Scene.assets)).order_by(Scene.datetime, Scene.id)
    if start is not None:
        query = query.where(Scene.datetime >= start)
    if end is not None:
        query = query.where(Scene.datetime <= end)
    if area is not None:
        min_lon, min_lat, max_lon, max_lat = area.bounds
        query = query.where(
            Scene.max_lon >= min_lon,
            Scene.min_lon <= max_lon,
            Scene.max_lat >= min_lat,
            Scene.min_lat <= max_lat,
        )
    scenes = list(session.scalars(query))
    if area is None:
        return scenes
    return [scene for scene in scenes if scene.footprint.intersects(area)]
