"""Scan and candidate rows written directly, for triage tests (no scan engine needed)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from shapely.geometry import Polygon, box
from sqlalchemy.orm import Session

from sitewatch.db.models import Candidate, Scan

AOI = box(125.0, 39.0, 125.2, 39.2)


def add_scan(session: Session, scan_id: str = "scan-1") -> Scan:
    scan = Scan(
        id=scan_id,
        aoi_spec="bbox:125.0,39.0,125.2,39.2",
        geometry=AOI,
        before_start=datetime(2018, 3, 1, tzinfo=UTC),
        before_end=datetime(2018, 5, 31, tzinfo=UTC),
        after_start=datetime(2019, 3, 1, tzinfo=UTC),
        after_end=datetime(2019, 5, 31, tzinfo=UTC),
        method="cva",
        parameters={"bands": ["B02", "B03", "B04", "B08"]},
        crs="EPSG:32652",
        tile_size_m=2560.0,
    )
    session.add(scan)
    return scan


def add_candidate(
    session: Session,
    candidate_id: str,
    *,
    score: float,
    scan_id: str = "scan-1",
    lon: float = 125.1,
    lat: float = 39.1,
    known: bool = False,
    chips: dict[str, str] | None = None,
    area_m2: float = 31_416.0,
) -> Candidate:
    half = 0.001
    polygon = Polygon(
        [
            (lon - half, lat - half),
            (lon + half, lat - half),
            (lon + half, lat + half),
            (lon - half, lat + half),
        ]
    )
    candidate = Candidate(
        id=candidate_id,
        scan_id=scan_id,
        tile_key="12_34",
        geometry=polygon,
        centroid_lon=lon,
        centroid_lat=lat,
        area_m2=area_m2,
        score=score,
        max_score=score * 1.5,
        known=known,
        nearest_site_id="old-base" if known else None,
        nearest_site_m=300.0 if known else None,
        chips=chips or {},
    )
    candidate.set_bbox(polygon)
    session.add(candidate)
    return candidate


def write_chips(folder: Path, stem: str) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    chips = {}
    for key in ("before", "after"):
        path = folder / f"{stem}_{key}.png"
        path.write_bytes(f"{key} picture".encode())
        chips[key] = str(path)
    return chips
