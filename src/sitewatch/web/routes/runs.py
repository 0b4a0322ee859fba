"""``/api/runs``: detection runs (of one site, when asked) and each run's change objects."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from sitewatch.auth.users import SignedIn
from sitewatch.detect.runs import get_run, list_runs, objects_to_geojson, run_to_dict
from sitewatch.web.security import signed_in, workspace

router = APIRouter(prefix="/api/runs", tags=["detection"])


@router.get("")
def runs(
    request: Request, site_id: str | None = None, _user: SignedIn = Depends(signed_in)
) -> dict[str, Any]:
    """Detection runs, newest first (of the site ``site_id``, when given)."""
    with workspace(request).session() as session:
        return {"items": [run_to_dict(run) for run in list_runs(session, site_id)]}


@router.get("/{run_id}")
def run(request: Request, run_id: str, _user: SignedIn = Depends(signed_in)) -> dict[str, Any]:
    """One run with its lineage (inputs, parameters, software)."""
    with workspace(request).session() as session:
        return run_to_dict(get_run(session, run_id), with_lineage=True)


@router.get("/{run_id}/objects")
def objects(request: Request, run_id: str, _user: SignedIn = Depends(signed_in)) -> dict[str, Any]:
    """The run's change objects as a GeoJSON FeatureCollection (EPSG:4326): id, outline,
    area_m2, centroid, mean and max score, direction, pixel count."""
    with workspace(request).session() as session:
        return objects_to_geojson(get_run(session, run_id))
