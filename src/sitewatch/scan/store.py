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
import math
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql.schema import Table

from sitewatch import limits
from sitewatch.analysis.vegetation import VEGETATION
from sitewatch.analysis.water import mask_lines
from sitewatch.db.models import Candidate, Scan, ScanTile, Site
from sitewatch.errors import InputError, NotFoundError
from sitewatch.scan.candidates import NearestSite
from sitewatch.scan.found_objects import BOUND_COLUMNS, FoundObjects
from sitewatch.scan.grid import LONLAT_EPSG, Tile, reproject
from sitewatch.scan.tasks import TileResult

RETRIED_STATUSES = frozenset({"failed"})
#: How :func:`list_tiles` ranks: by the change score or by the "find more like this" score.
TILE_ORDERS = ("score", "like")
#: The candidate columns that differ from one candidate to the next.
CANDIDATE_COLUMNS = (
    "id",
    "tile_key",
    "geometry",
    "centroid_lon",
    "centroid_lat",
    "area_m2",
    "score",
    "max_score",
    "nearest_site_id",
    "nearest_site_m",
    "known",
    "edge",
    "vegetation_share",
    "change_class",
    *BOUND_COLUMNS,
)


class SiteIndex:
    """The located catalog sites, projected once per UTM zone, for nearest-site queries."""

    def __init__(self, session: Session) -> None:
        rows = session.execute(select(Site.id, Site.geometry).where(Site.geometry.is_not(None)))
        located = [(site_id, geometry) for site_id, geometry in rows if not geometry.is_empty]
        self._ids = [site_id for site_id, _ in located]
        self._geometries = [geometry for _, geometry in located]
        self._zones: dict[int, shapely.STRtree] = {}

    def __len__(self) -> int:
        """How many located sites: an empty index answers every query with no site."""
        return len(self._ids)

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
    results = [result for _, _, result in finished]
    insert_rows(
        session,
        ScanTile.__table__,
        {
            "tile_key": [tile.key for tile, _, _ in finished],
            "status": [result.status for result in results],
            "score": [result.score for result in results],
            "like_score": [result.like_score for result in results],
            "candidate_count": [len(result.candidates) for result in results],
            "message": [result.message for result in results],
            "acquisitions": [result.acquisitions for result in results],
            "vegetation_objects": [result.vegetation_objects for result in results],
            "water_pixels": [result.water_pixels for result in results],
            **dict(zip(BOUND_COLUMNS, outlines.T.tolist(), strict=True)),
        },
        same={"scan_id": scan_id, "finished_at": now},
    )
    found = [(tile, result.candidates) for tile, _, result in finished if len(result.candidates)]
    if not found:
        return
    columns: dict[str, list[Any]] = {name: [] for name in CANDIDATE_COLUMNS}
    for tile, objects in found:
        for name, values in _candidate_columns(scan_id, tile, objects, sites).items():
            columns[name].extend(values)
    insert_rows(
        session,
        Candidate.__table__,
        columns,
        same={
            "scan_id": scan_id,
            "chips": {},
            "status": "new",
            "status_reason": "",
            "promoted_site_id": None,
            "created_at": now,
        },
    )


def insert_rows(
    session: Session,
    table: Table,
    columns: dict[str, Sequence[Any]],
    same: dict[str, Any] | None = None,
) -> None:
    """INSERT rows given column by column (``columns``: equal-length sequences; ``same``:
    one value for every row) in the caller's transaction, as one executemany of the
    driver, each column converted by its own bind processor.

    The same rows as ``session.execute(insert(table), dicts)``, which builds every row's
    parameters through SQLAlchemy's compiled statement and cost the client, on the cores
    the workers need, most of its time per tile of dense change (150-200 candidates).
    Columns, not dicts: a value common to all rows (the scan, the status, the time) is
    converted once, and no dict is built per row.
    """
    constants = same or {}
    count = len(next(iter(columns.values())))
    if count == 0:
        return
    connection = session.connection()
    sql, names, processors = _insert_statement(table, connection.dialect, (*columns, *constants))
    converted: list[Iterable[Any]] = []
    for name, processor in zip(names, processors, strict=True):
        if name in constants:
            value = constants[name]
            converted.append([processor(value) if processor else value] * count)
        else:
            values = columns[name]
            converted.append(map(processor, values) if processor else values)
    rows = list(zip(*converted, strict=True))
    if connection.dialect.positional:
        connection.exec_driver_sql(sql, rows)
    else:
        connection.exec_driver_sql(sql, [dict(zip(names, row, strict=True)) for row in rows])


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


def _candidate_columns(
    scan_id: str, tile: Tile, found: FoundObjects, sites: SiteIndex | None
) -> dict[str, list[Any]]:
    """The varying candidate columns of one tile (:data:`CANDIDATE_COLUMNS`); without
    ``sites`` none is near a known site. The WKB is parsed only to measure the distance
    to the catalog's sites; the bounds come from the worker."""
    nearest = (
        sites.nearest(shapely.from_wkb(np.array(found.geometry_wkb, dtype=object)), tile.epsg)
        if sites
        else [None] * len(found)
    )
    return {
        "id": [f"{scan_id}:{tile.key}:{number}" for number in range(1, len(found) + 1)],
        "tile_key": [tile.key] * len(found),
        "geometry": list(found.geometry_wkb),
        **{
            name: found.column(name).tolist()
            for name in ("centroid_lon", "centroid_lat", "area_m2", "score", "max_score")
        },
        "nearest_site_id": [near.site_id if near else None for near in nearest],
        "nearest_site_m": [near.distance_m if near else None for near in nearest],
        "known": [bool(near and near.known) for near in nearest],
        "edge": (found.column("edge") > 0).tolist(),
        # NaN (no vegetation-phase test) is stored as NULL.
        "vegetation_share": [
            None if math.isnan(share) else share
            for share in found.column("vegetation_share").tolist()
        ],
        "change_class": found.change_classes(),
        **{name: found.column(name).tolist() for name in BOUND_COLUMNS},
    }


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


def vegetation_objects(session: Session, scan_id: str) -> tuple[int, int]:
    """The scan's vegetation-phase objects: (left out by its tiles, kept as candidates
    classed ``vegetation``)."""
    left_out = select(func.coalesce(func.sum(ScanTile.vegetation_objects), 0)).where(
        ScanTile.scan_id == scan_id
    )
    kept = (
        select(func.count())
        .select_from(Candidate)
        .where(Candidate.scan_id == scan_id, Candidate.change_class == VEGETATION)
    )
    return int(session.scalar(left_out) or 0), int(session.scalar(kept) or 0)


def water_pixels(session: Session, scan_id: str) -> int:
    """The scan's changed pixels of open water on both dates (left out, or kept)."""
    total = select(func.coalesce(func.sum(ScanTile.water_pixels), 0)).where(
        ScanTile.scan_id == scan_id
    )
    return int(session.scalar(total) or 0)


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
        "left_out": mask_lines(scan.summary or {}),
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
    if limit is not None:
        limits.ROW_LIMIT.check(limit, item="--top")
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
        "acquisitions": dict(tile.acquisitions or {}),
    }
