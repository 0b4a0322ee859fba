"""Which scenes cover an area in a period, ordered by acquisition time.

The bounding-box columns give an indexed pre-filter on any backend; the exact footprint
test is done with shapely on the few rows that pass it. An area split at the antimeridian
is pre-filtered by one box per part. A scene footprint split there has world-wide bbox
columns, so such scenes always pass the pre-filter and are decided by the exact test.
"""

from __future__ import annotations

from datetime import datetime

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, selectinload

from sitewatch.db.models import Scene


def search_boxes(area: BaseGeometry) -> list[tuple[float, float, float, float]]:
    """The lon/lat boxes to pre-filter by: the area's bounds, or one box per part when
    those bounds span more than 180 degrees (an area split at the antimeridian, whose
    single box would be the whole world)."""
    west, _, east, _ = area.bounds
    if east - west <= 180.0:
        return [area.bounds]
    return [part.bounds for part in shapely.get_parts(area)]


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
        query = query.where(
            or_(
                *(
                    and_(
                        Scene.max_lon >= min_lon,
                        Scene.min_lon <= max_lon,
                        Scene.max_lat >= min_lat,
                        Scene.min_lat <= max_lat,
                    )
                    for min_lon, min_lat, max_lon, max_lat in search_boxes(area)
                )
            )
        )
    scenes = list(session.scalars(query))
    if area is None:
        return scenes
    return [scene for scene in scenes if scene.footprint.intersects(area)]
