"""Sites, scenes, runs and declaration files written straight into a workspace for tests."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from shapely.geometry import Point
from sqlalchemy.orm import Session

from sitewatch.catalog.records import SiteRecord
from sitewatch.catalog.sites import add_site
from sitewatch.db.models import DetectionRun, Scene
from sitewatch.geo import buffer_metres

SINO_RI = (125.5, 39.6)
KAL_GOL = (126.4, 40.1)
YONGNIM = (127.2, 40.6)


def add_sites(session: Session) -> None:
    """Three DPRK sites 2 km uncertain, plus one elsewhere (out of a PRK declaration's scope)."""
    for site_id, name, aliases, (lon, lat) in (
        ("sino-ri", "Sino-ri", ["Sinori", "신오리"], SINO_RI),
        ("kal-gol", "Kal-gol", ["Kalgol-dong", "갈골"], KAL_GOL),
        ("yongnim", "Yongnim", ["Yongrim", "용림"], YONGNIM),
    ):
        add_site(
            session,
            SiteRecord(
                id=site_id,
                name=name,
                aliases=aliases,
                geometry=Point(lon, lat),
                country="PRK",
                category="missile-operating-base",
                uncertainty_m=2000.0,
            ),
        )
    add_site(session, SiteRecord(id="elsewhere", name="Elsewhere", geometry=Point(10, 10)))


def add_scene(session: Session, scene_id: str, day: date, lon_lat: tuple[float, float]) -> Scene:
    """A scene row covering 10 km around ``lon_lat`` (no files: verification reads none)."""
    footprint = buffer_metres(Point(*lon_lat), 10_000)
    scene = Scene(
        id=scene_id,
        datetime=datetime.combine(day, datetime.min.time(), UTC),
        footprint=footprint,
        crs="EPSG:32652",
        bands=["B04"],
        stac_item={},
    )
    scene.set_bbox(footprint)
    session.add(scene)
    session.flush()
    return scene


def add_run(
    session: Session, run_id: str, site_id: str, before: str, after: str, changed_m2: float
) -> DetectionRun:
    """A stored detection run between two scene rows with the given changed area."""
    run = DetectionRun(
        id=run_id,
        site_id=site_id,
        method="cva",
        before_scene_id=before,
        after_scene_id=after,
        summary={"changed_area_m2": changed_m2, "changed_share": 0.05, "object_count": 3},
    )
    session.add(run)
    session.flush()
    return run


def declaration_file(folder: Path, items: list[dict[str, Any]], **top: Any) -> Path:
    """A declaration JSON file (party DPRK, 2023-01-01, country PRK unless overridden)."""
    document = {"party": "DPRK", "date": "2023-01-01", "country": "PRK", **top, "items": items}
    path = folder / f"declaration-{abs(hash(json.dumps(document, sort_keys=True)))}.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path
