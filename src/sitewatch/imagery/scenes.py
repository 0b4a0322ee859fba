"""Listing and showing catalogued scenes: the read side of the imagery catalog."""

from __future__ import annotations

from typing import Any

from shapely.geometry import mapping
from sqlalchemy.orm import Session, selectinload

from sitewatch.catalog.aoi import filter_area
from sitewatch.db.models import Scene
from sitewatch.errors import InputError, NotFoundError
from sitewatch.imagery.dates import parse_datetime_option
from sitewatch.imagery.search import find_scenes


def list_scenes(
    session: Session,
    *,
    site_id: str | None = None,
    bbox_text: str | None = None,
    start_text: str | None = None,
    end_text: str | None = None,
    buffer_m: float | None = None,
) -> list[Scene]:
    """Scenes covering a site and/or box in a period, oldest first.

    ``end_text`` given as a bare date includes that whole day. ``buffer_m`` replaces the
    site's own radius (its coordinate uncertainty) around a point site.
    """
    start = parse_datetime_option(start_text, "--from") if start_text else None
    end = parse_datetime_option(end_text, "--to", end_of_day=True) if end_text else None
    if start is not None and end is not None and start > end:
        raise InputError(f"{start_text!r} is after --to {end_text!r}", item="--from")
    area = filter_area(session, site_id=site_id, bbox_text=bbox_text, buffer_m=buffer_m)
    return find_scenes(session, area, start, end)


def get_scene(session: Session, scene_id: str) -> Scene:
    """One scene with its assets; NotFoundError if the id is unknown."""
    scene = session.get(Scene, scene_id, options=[selectinload(Scene.assets)])
    if scene is None:
        raise NotFoundError(f"scene {scene_id!r} not found: see 'sitewatch imagery list'")
    return scene


def scene_summary(scene: Scene) -> dict[str, Any]:
    """The fields a listing shows, as plain JSON values."""
    return {
        "id": scene.id,
        "datetime": scene.datetime.isoformat(),
        "platform": scene.platform,
        "instrument": scene.instrument,
        "bands": list(scene.bands),
        "resolution_m": round(scene.resolution_m, 2) if scene.resolution_m is not None else None,
        "cloud_cover": scene.cloud_cover,
        "collection": scene.collection,
        "origin": scene.origin,
    }


def scene_details(scene: Scene) -> dict[str, Any]:
    """Everything catalogued about a scene, including its assets and STAC item."""
    return {
        **scene_summary(scene),
        "crs": scene.crs,
        "bbox": [scene.min_lon, scene.min_lat, scene.max_lon, scene.max_lat],
        "footprint_wkt": scene.footprint.wkt,
        "created_at": scene.created_at.isoformat() if scene.created_at else None,
        "assets": [
            {
                "key": asset.key,
                "href": asset.href,
                "bands": list(asset.bands),
                "sha256": asset.sha256,
                "size": asset.size,
                "media_type": asset.media_type,
            }
            for asset in scene.assets
        ],
        "stac_item": scene.stac_item,
    }


def scene_footprint_feature(scene: Scene) -> dict[str, Any]:
    """The scene as a GeoJSON Feature: its footprint (lon/lat) and its summary."""
    return {
        "type": "Feature",
        "geometry": mapping(scene.footprint),
        "properties": scene_summary(scene),
    }
