"""Scan candidates in a map viewport: the points, or grid clusters when there are too many.

A country-wide scan leaves tens of thousands of candidates; a browser drawing 100,000
markers (and the JSON to carry them) takes seconds, and a person cannot read them anyway.
So a viewport holding more than :data:`limits.MAP_POINTS` candidates is answered with one
cluster per grid cell (count, mean and best score, centre), aggregated in SQL by a
``GROUP BY`` over cells sized for the zoom (:data:`limits.MAP_CELLS_PER_TILE` per 256 px
tile), on SQLite and PostgreSQL alike (:class:`sitewatch.db.functions.grid_index`). From
:data:`limits.MAP_POINTS_FROM_ZOOM` on, the answer is always points: the best scored
first, at most :data:`limits.MAP_POINTS`, said to be ``truncated`` when more are in view.

A candidate is in view when its centroid is: a marker stands for it there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from sitewatch import limits
from sitewatch.db.functions import grid_index
from sitewatch.db.models import Candidate, Scan
from sitewatch.errors import NotFoundError

BBox = tuple[float, float, float, float]


@dataclass(frozen=True)
class CandidateView:
    """What the map draws for a viewport: ``points`` or ``clusters``, and how many
    candidates they stand for (``total``)."""

    kind: Literal["points", "clusters"]
    total: int
    truncated: bool
    items: list[dict[str, Any]] = field(default_factory=list)
    cell_deg: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "total": self.total,
            "truncated": self.truncated,
            "cell_deg": self.cell_deg,
            "items": self.items,
        }


def candidates_in_view(
    session: Session,
    bbox: BBox,
    zoom: int,
    *,
    scan_id: str | None = None,
    min_score: float | None = None,
    max_points: int | None = None,
) -> CandidateView:
    """The candidates whose centroid is in ``bbox`` (W, S, E, N from
    :func:`catalog.aoi.parse_bbox`), of one scan and at least ``min_score`` when given,
    as points or clusters for a map at ``zoom`` (see the module's description);
    ``max_points`` is :data:`limits.MAP_POINTS` unless given."""
    limits.WEB_ZOOM.check(zoom, item="zoom")
    if min_score is not None:
        limits.THRESHOLD.check(min_score, item="min_score")
    max_points = limits.ROW_LIMIT.check(
        limits.MAP_POINTS if max_points is None else max_points, item="max_points"
    )
    if scan_id is not None and session.get(Scan, scan_id) is None:
        raise NotFoundError(f"no scan with id {scan_id!r} in this workspace")
    conditions = _conditions(bbox, scan_id, min_score)
    total = int(session.scalar(select(func.count()).where(*conditions)) or 0)
    if total > max_points and zoom < limits.MAP_POINTS_FROM_ZOOM:
        return _clusters(session, bbox, zoom, conditions, total)
    return _points(session, conditions, total, max_points)


def _conditions(
    bbox: BBox, scan_id: str | None, min_score: float | None
) -> list[ColumnElement[bool]]:
    west, south, east, north = bbox
    conditions = [
        Candidate.centroid_lon.between(west, east),
        Candidate.centroid_lat.between(south, north),
    ]
    if scan_id is not None:
        conditions.append(Candidate.scan_id == scan_id)
    if min_score is not None:
        conditions.append(Candidate.score >= min_score)
    return conditions


def _points(
    session: Session, conditions: list[ColumnElement[bool]], total: int, max_points: int
) -> CandidateView:
    query = (
        select(
            Candidate.id,
            Candidate.scan_id,
            Candidate.centroid_lon,
            Candidate.centroid_lat,
            Candidate.score,
            Candidate.area_m2,
            Candidate.status,
            Candidate.known,
        )
        .where(*conditions)
        .order_by(_unindexed(Candidate.score).desc(), Candidate.area_m2.desc(), Candidate.id)
        .limit(max_points)
    )
    items = [
        {
            "id": row.id,
            "scan_id": row.scan_id,
            "lon": round(row.centroid_lon, 6),
            "lat": round(row.centroid_lat, 6),
            "score": round(row.score, 4),
            "area_m2": round(row.area_m2, 1),
            "status": row.status,
            "known": row.known,
        }
        for row in session.execute(query)
    ]
    return CandidateView("points", total, total > len(items), items)


def _unindexed(column: ColumnElement[float]) -> ColumnElement[float]:
    """``column + 0``: the same order, but not by the column's index. With ``ORDER BY
    score LIMIT n`` SQLite walks ``ix_candidates_score`` over the whole table looking for
    rows in the viewport (250 ms for the 71 candidates of a city view among 100,000,
    benchmarks/map_scale.py), where scanning and sorting the table takes 20 ms."""
    return column + 0.0


def cell_size(bbox: BBox, zoom: int) -> tuple[float, float]:
    """Degrees of longitude and latitude of one cluster cell at ``zoom``: a fixed number
    of screen pixels, so a degree of latitude (longer on a Mercator map away from the
    equator) gets fewer of them, at the viewport's middle latitude."""
    lon_cell = 360.0 / (2**zoom * limits.MAP_CELLS_PER_TILE)
    middle = math.radians((bbox[1] + bbox[3]) / 2)
    return lon_cell, lon_cell * math.cos(middle)


def _clusters(
    session: Session,
    bbox: BBox,
    zoom: int,
    conditions: list[ColumnElement[bool]],
    total: int,
) -> CandidateView:
    west, south = bbox[0], bbox[1]
    lon_cell, lat_cell = cell_size(bbox, zoom)
    column = grid_index((Candidate.centroid_lon - west) / lon_cell)
    row = grid_index((Candidate.centroid_lat - south) / lat_cell)
    query = (
        select(
            func.count().label("count"),
            func.avg(Candidate.score).label("mean_score"),
            func.max(Candidate.score).label("max_score"),
            func.avg(Candidate.centroid_lon).label("lon"),
            func.avg(Candidate.centroid_lat).label("lat"),
        )
        .where(*conditions)
        .group_by(column, row)
        .order_by(func.max(Candidate.score).desc(), func.count().desc())
    )
    items = [
        {
            "count": int(cluster.count),
            "mean_score": round(float(cluster.mean_score), 4),
            "max_score": round(float(cluster.max_score), 4),
            "lon": round(float(cluster.lon), 6),
            "lat": round(float(cluster.lat), 6),
        }
        for cluster in session.execute(query)
    ]
    return CandidateView("clusters", total, False, items, round(lon_cell, 6))
