"""The scan's database side, written by the client process only.

Workers never open the database: the client writes the finished tiles (their ``ScanTile``
rows and candidates) a batch at a time (:func:`record_tiles`; the runner commits at most
every half second), so SQLite has one writer and a kill loses at most the tiles in flight
and the last half second's results. The ``ScanTile`` row is the resume marker: a tile with
a row whose status is not ``failed`` is never run again.

Statuses: ``done`` (scored), ``empty`` (no scene on one of the two dates: nothing to
read), ``skipped`` (too few clear pixels, or the method could not fit the tile, e.g. open
water), ``failed`` (an error, such as an unreadable file; retried by the next run).

"Known" candidates: the nearest located catalog site is measured edge to edge on the
ground, and the rule of :class:`sitewatch.scan.candidates.NearestSite` decides (within
1 km). :func:`sitewatch.scan.candidates.nearest_site` measures one candidate against every
site with a fresh projection each time; a country scan stores hundreds of thousands of
candidates, so :class:`SiteIndex` projects the catalog once per UTM zone and asks a spatial
index, giving the same distances.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql.schema import Table

from sitewatch.db.models import Candidate, Scan, ScanTile, Site
from sitewatch.errors import InputError, NotFoundError
from sitewatch.scan.candidates import NearestSite
from sitewatch.scan.grid import LONLAT_EPSG, Tile, reproject
from sitewatch.scan.tasks import TileResult

RETRIED_STATUSES = frozenset({"failed"})
#: How :func:`list_tiles` ranks: by the change score or by the "find more like this" score.
TILE_ORDERS = ("score", "like")


class SiteIndex:
    """The located catalog sites, projected once per UTM zone, for nearest-site queries."""

    def __init__(self, session: Session) -> None:
        rows = session.execute(select(Site.id, Site.geometry).where(Site.geometry.is_not(None)))
        located = [(site_id, geometry) for site_id, geometry in rows if not geometry.is_empty]
        self._ids = [site_id for site_id, _ in located]
        self._geometries = [geometry for _, geometry in located]
        self._zones: dict[int, shapely.STRtree] = {}

    def _tree(self, epsg: int) -> shapely.STRtree:
        if epsg not in self._zones:
            self._zones[epsg] = shapely.STRtree(
                [reproject(g, LONLAT_EPSG, epsg) for g in self._geometries]
            )
        return self._zones[epsg]

    def nearest(self, geometries: np.ndarray, epsg: int) -> list[NearestSite | None]:
        """The site nearest to each lon/lat geometry, measured in the zone ``epsg`` (one
        projection and one tree query for all of them)."""
        if not self._ids or len(geometries) == 0:
            return [None] * len(geometries)
        projected = reproject(geometries, LONLAT_EPSG, epsg)
        (indices, sites), distances = self._tree(epsg).query_nearest(
            projected, return_distance=True, all_matches=False
        )
        found: list[NearestSite | None] = [None] * len(geometries)
        for index, site, distance in zip(
            indices.tolist(), sites.tolist(), distances.tolist(), strict=True
        ):
            found[index] = NearestSite(self._ids[site], float(distance))
        return found


def finished_keys(session: Session, scan_id: str) -> set[str]:
    """Tiles of the scan that the next run must not redo."""
    query = select(ScanTile.tile_key).where(
        ScanTile.scan_id == scan_id, ScanTile.status.not_in(RETRIED_STATUSES)
    )
    return set(session.scalars(query))


def record_tiles(
    session: Session,
    scan_id: str,
    finished: Sequence[tuple[Tile, BaseGeometry, TileResult]],
    sites: SiteIndex | None,
) -> None:
    """Rows for finished tiles (tile, lon/lat outline, result) and their candidates, in the
    caller's transaction.

    Everything goes in as bulk INSERTs of plain rows, not ORM objects: a country scan
    stores tens of thousands of tiles and hundreds of thousands of candidates from one
    client process that shares the machine with the workers, and per-object bookkeeping
    (or a transaction per tile) cost the client as much CPU as a worker spent finding the
    change. A row left by an earlier failed attempt at a tile is replaced.
    """
    if not finished:
        return
    now = datetime.now(UTC)
    outlines = shapely.bounds(np.array([outline for _, outline, _ in finished], dtype=object))
    session.execute(
        delete(ScanTile).where(
            ScanTile.scan_id == scan_id,
            ScanTile.tile_key.in_([tile.key for tile, _, _ in finished]),
        )
    )
    insert_rows(
        session,
        ScanTile.__table__,
        [
            {
                "scan_id": scan_id,
                "tile_key": tile.key,
                "status": result.status,
                "score": result.score,
                "like_score": result.like_score,
                "candidate_count": len(result.candidates),
                "message": result.message,
                "finished_at": now,
                **_bbox(box),
            }
            for (tile, _, result), box in zip(finished, outlines, strict=True)
        ],
    )
    rows = [
        row for tile, _, result in finished for row in _candidate_rows(scan_id, tile, result, sites)
    ]
    for row in rows:
        row["created_at"] = now
    insert_rows(session, Candidate.__table__, rows)


def insert_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """INSERT ``rows`` (dicts with the same keys) in the caller's transaction, as one
    executemany of the driver, each value converted by its column's own bind processor.

    The same as ``session.execute(insert(table), rows)``, which builds every row's
    parameters through SQLAlchemy's compiled statement: for the 150-200 candidates of a
    tile of dense change that was most of the client's time per tile, on the cores the
    workers need.
    """
    if not rows:
        return
    connection = session.connection()
    sql, names, processors = _insert_statement(table, connection.dialect, tuple(rows[0]))
    converted = (
        [
            (processor(row[name]) if processor else row[name])
            for name, processor in zip(names, processors, strict=True)
        ]
        for row in rows
    )
    if connection.dialect.positional:
        connection.exec_driver_sql(sql, [tuple(values) for values in converted])
    else:
        connection.exec_driver_sql(
            sql, [dict(zip(names, values, strict=True)) for values in converted]
        )


@functools.lru_cache(maxsize=64)
def _insert_statement(
    table: Table, dialect: Dialect, keys: tuple[str, ...]
) -> tuple[str, list[str], list[Callable[[Any], Any] | None]]:
    """The driver's INSERT for ``keys``, its parameter order and per-column processors."""
    compiled = insert(table).compile(dialect=dialect, column_keys=list(keys))
    names = list(compiled.positiontup) if dialect.positional else list(keys)
    processors = [
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
    ]
    return str(compiled), names, processors


def _candidate_rows(
    scan_id: str, tile: Tile, result: TileResult, sites: SiteIndex | None
) -> list[dict[str, Any]]:
    """Candidate rows of one tile; without ``sites`` none is near a known site."""
    found = result.candidates
    if not len(found):
        return []
    geometries = shapely.from_wkb(np.array(found.geometry_wkb, dtype=object))
    nearest = sites.nearest(geometries, tile.epsg) if sites else [None] * len(found)
    numbers = zip(
        *(found.column(name).tolist() for name in ("centroid_lon", "centroid_lat", "area_m2")),
        *(found.column(name).tolist() for name in ("score", "max_score")),
        strict=True,
    )
    return [
        {
            "id": f"{scan_id}:{tile.key}:{number}",
            "scan_id": scan_id,
            "tile_key": tile.key,
            "geometry": geometry_wkb,
            "centroid_lon": lon,
            "centroid_lat": lat,
            "area_m2": area,
            "score": score,
            "max_score": max_score,
            "nearest_site_id": near.site_id if near else None,
            "nearest_site_m": near.distance_m if near else None,
            "known": bool(near and near.known),
            "chips": {},
            "status": "new",
            "status_reason": "",
            "promoted_site_id": None,
            "min_lon": min_lon,
            "min_lat": min_lat,
            "max_lon": max_lon,
            "max_lat": max_lat,
        }
        for number, (
            geometry_wkb,
            near,
            (min_lon, min_lat, max_lon, max_lat),
            (lon, lat, area, score, max_score),
        ) in enumerate(
            zip(
                found.geometry_wkb,
                nearest,
                shapely.bounds(geometries).tolist(),
                numbers,
                strict=True,
            ),
            start=1,
        )
    ]


def _bbox(bounds: np.ndarray) -> dict[str, float]:
    return dict(zip(("min_lon", "min_lat", "max_lon", "max_lat"), map(float, bounds), strict=True))


def tile_counts(session: Session, scan_id: str) -> dict[str, int]:
    """Finished tiles per status."""
    query = (
        select(ScanTile.status, func.count())
        .where(ScanTile.scan_id == scan_id)
        .group_by(ScanTile.status)
    )
    return {status: count for status, count in session.execute(query)}


def candidate_count(session: Session, scan_id: str) -> int:
    query = select(func.count()).select_from(Candidate).where(Candidate.scan_id == scan_id)
    return int(session.scalar(query) or 0)


def list_scans(session: Session) -> list[Scan]:
    return list(session.scalars(select(Scan).order_by(Scan.created_at.desc(), Scan.id)))


def scan_to_dict(scan: Scan) -> dict[str, Any]:
    return {
        "id": scan.id,
        "aoi": scan.aoi_spec,
        "before": [scan.before_start.isoformat(), scan.before_end.isoformat()],
        "after": [scan.after_start.isoformat(), scan.after_end.isoformat()],
        "method": scan.method,
        "parameters": scan.parameters,
        "crs": scan.crs,
        "tile_size_m": scan.tile_size_m,
        "status": scan.status,
        "summary": scan.summary,
        "created_at": scan.created_at.isoformat(),
        "finished_at": scan.finished_at.isoformat() if scan.finished_at else None,
    }


def list_tiles(
    session: Session, scan_id: str, *, order_by: str = "score", limit: int | None = None
) -> list[ScanTile]:
    """The scored (``done``) tiles of a scan, best first by ``order_by`` (one of
    :data:`TILE_ORDERS`), at most ``limit`` of them.

    A tile without a value (too few valid pixels to describe it) comes last rather than
    first, and ties go by tile key so the same scan always lists the same way. Asking for
    the ``like`` order of a scan run without exemplars is an error, not a table of blanks.
    """
    if order_by not in TILE_ORDERS:
        raise InputError(
            f"unknown tile order {order_by!r} (known: {', '.join(TILE_ORDERS)})", item="--by"
        )
    if limit is not None and limit < 1:
        raise InputError(f"must be at least 1, got {limit}", item="--top")
    scan = session.get(Scan, scan_id)
    if scan is None:
        raise NotFoundError(f"no scan with id {scan_id!r} in this workspace")
    if order_by == "like" and not (scan.parameters or {}).get("like"):
        raise InputError(
            f"scan {scan_id} was run without --like, so its tiles have no like score",
            item="--by",
        )
    column = ScanTile.score if order_by == "score" else ScanTile.like_score
    query = (
        select(ScanTile)
        .where(ScanTile.scan_id == scan_id, ScanTile.status == "done")
        .order_by(column.is_(None), column.desc(), ScanTile.tile_key)
        .limit(limit)
    )
    return list(session.scalars(query))


def tile_to_dict(tile: ScanTile, rank: int) -> dict[str, Any]:
    """A tile as row ``rank`` of a ranking; its centre is the middle of its lon/lat box."""
    return {
        "rank": rank,
        "tile": tile.tile_key,
        "lon": round((tile.min_lon + tile.max_lon) / 2, 6),
        "lat": round((tile.min_lat + tile.max_lat) / 2, 6),
        "score": tile.score,
        "like_score": tile.like_score,
        "candidates": tile.candidate_count,
    }
