"""Detection runs stored in the workspace: saving, listing and showing them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from shapely.geometry import mapping
from sqlalchemy import select
from sqlalchemy.orm import Session

from sitewatch.analysis.objects import ChangeObject, feature_properties
from sitewatch.db.models import ChangeObjectRow, DetectionRun
from sitewatch.errors import NotFoundError


def store_run(session: Session, run: DetectionRun, objects: Iterable[ChangeObject]) -> DetectionRun:
    """Add ``run`` with one row per object, in the caller's transaction."""
    for position, item in enumerate(objects, start=1):
        row = ChangeObjectRow(
            position=position,
            geometry=item.geometry,
            area_m2=item.area_m2,
            centroid_lon=item.centroid_lon,
            centroid_lat=item.centroid_lat,
            mean_score=item.mean_score,
            max_score=item.max_score,
            direction=item.direction,
            pixel_count=item.pixel_count,
        )
        row.set_bbox(item.geometry)
        run.objects.append(row)
    session.add(run)
    session.flush()
    return run


def list_runs(session: Session, site_id: str | None = None) -> list[DetectionRun]:
    """Runs, newest first, optionally of one site."""
    query = select(DetectionRun).order_by(DetectionRun.created_at.desc(), DetectionRun.id)
    if site_id is not None:
        query = query.where(DetectionRun.site_id == site_id)
    return list(session.scalars(query))


def get_run(session: Session, run_id: str) -> DetectionRun:
    """The run with id ``run_id``; NotFoundError if there is none."""
    run = session.get(DetectionRun, run_id)
    if run is None:
        raise NotFoundError(f"no detection run with id {run_id!r} in this workspace")
    return run


def run_to_dict(run: DetectionRun, *, with_lineage: bool = False) -> dict[str, Any]:
    """A run as plain data for JSON output."""
    record: dict[str, Any] = {
        "id": run.id,
        "site_id": run.site_id,
        "method": run.method,
        "before_scene_id": run.before_scene_id,
        "after_scene_id": run.after_scene_id,
        "created_at": run.created_at.isoformat(),
        "summary": run.summary,
        "products": run.products,
        "parameters": run.parameters,
    }
    if with_lineage:
        record["lineage"] = run.lineage
    return record


def objects_to_geojson(run: DetectionRun) -> dict[str, Any]:
    """The run's change objects as a GeoJSON FeatureCollection (EPSG:4326), ids as the
    run file numbers them (from 1), properties as :func:`feature_properties` names them."""
    return {
        "type": "FeatureCollection",
        "run_id": run.id,
        "features": [
            {
                "type": "Feature",
                "id": row.position,
                "geometry": mapping(row.geometry),
                "properties": feature_properties(_as_object(row)),
            }
            for row in run.objects
        ],
    }


def _as_object(row: ChangeObjectRow) -> ChangeObject:
    return ChangeObject(
        geometry=row.geometry,
        area_m2=row.area_m2,
        centroid_lon=row.centroid_lon,
        centroid_lat=row.centroid_lat,
        mean_score=row.mean_score,
        max_score=row.max_score,
        direction=row.direction,
        pixel_count=row.pixel_count,
    )
