"""``/map`` and the viewport reads behind it: sites, scan candidates and scene footprints
in a lon/lat box. Each route parses (``catalog.aoi.parse_bbox``, ``imagery.dates``) and
calls the service that owns the table; clustering is the scan service's rule."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from shapely.geometry import box

from sitewatch import limits
from sitewatch.auth.users import SignedIn
from sitewatch.catalog.aoi import parse_bbox
from sitewatch.catalog.records import CATEGORIES
from sitewatch.catalog.sites import site_marker_to_dict, sites_in_bbox
from sitewatch.detect.runs import list_runs
from sitewatch.imagery.dates import parse_interval
from sitewatch.imagery.scenes import scene_footprint_feature
from sitewatch.imagery.search import find_scenes
from sitewatch.scan.candidate_map import candidates_in_view
from sitewatch.scan.store import list_scans
from sitewatch.verify.rules import FINDINGS
from sitewatch.verify.service import latest_site_verdicts
from sitewatch.web.pages import render
from sitewatch.web.security import signed_in, signed_in_page, workspace

router = APIRouter()


@router.get("/map", include_in_schema=False)
def map_page(request: Request, user: SignedIn = Depends(signed_in_page)) -> Response:
    """The map: the page holds the choices (scans, runs, categories); map.js fetches the
    layers for the viewport from the routes below."""
    with workspace(request).session() as session:
        scans = [scan.id for scan in list_scans(session)]
        runs = [run.id for run in list_runs(session)]
    return render(
        "map.html", user=user, uses_map=True, scans=scans, runs=runs, categories=CATEGORIES
    )


@router.get("/api/map/sites", tags=["map"])
def map_sites(request: Request, bbox: str, _user: SignedIn = Depends(signed_in)) -> dict[str, Any]:
    """Located sites in ``bbox`` (W,S,E,N degrees) with each one's latest verdict (null
    when no verification named it) and whether that verdict is a finding."""
    area = parse_bbox(bbox, "bbox")
    with workspace(request).session() as session:
        sites = sites_in_bbox(session, area)
        verdicts = latest_site_verdicts(session, (site.id for site in sites))
        items = [
            {
                **site_marker_to_dict(site),
                "verdict": verdicts.get(site.id),
                "finding": verdicts.get(site.id) in FINDINGS,
            }
            for site in sites
        ]
    return {"total": len(items), "items": items}


@router.get("/api/map/candidates", tags=["map"])
def map_candidates(
    request: Request,
    bbox: str,
    zoom: int,
    scan_id: str | None = None,
    min_score: float | None = None,
    _user: SignedIn = Depends(signed_in),
) -> dict[str, Any]:
    """Candidates whose centroid is in ``bbox``: ``kind`` "points" (best score first, at
    most limits.MAP_POINTS, ``truncated`` when more are in view) or, below zoom
    limits.MAP_POINTS_FROM_ZOOM and past that many, "clusters" (count, mean/max score,
    centre) of a grid sized for ``zoom``."""
    area = parse_bbox(bbox, "bbox")
    with workspace(request).session() as session:
        view = candidates_in_view(session, area, zoom, scan_id=scan_id, min_score=min_score)
    return view.as_dict()


@router.get("/api/map/scenes", tags=["map"])
def map_scenes(
    request: Request,
    bbox: str,
    start: Annotated[str | None, Query(alias="from")] = None,
    end: Annotated[str | None, Query(alias="to")] = None,
    _user: SignedIn = Depends(signed_in),
) -> dict[str, Any]:
    """Footprints (GeoJSON) of the scenes meeting ``bbox`` acquired between ``from`` and
    ``to`` (dates or times; a bare ``to`` date includes its day), newest first, at most
    limits.MAP_SCENES."""
    area = box(*parse_bbox(bbox, "bbox"))
    period = parse_interval(f"{start or '..'}/{end or '..'}", "from/to")
    with workspace(request).session() as session:
        scenes = find_scenes(session, area, *period)
        shown = scenes[::-1][: limits.MAP_SCENES]
        features = [scene_footprint_feature(scene) for scene in shown]
    return {
        "type": "FeatureCollection",
        "total": len(scenes),
        "truncated": len(scenes) > len(shown),
        "features": features,
    }
