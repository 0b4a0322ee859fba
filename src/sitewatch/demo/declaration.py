"""The demo's sample declaration: a fictional state declares the fictional synthetic sites.

It is built to show the verdicts that matter on the synthetic pair:

- "Ridgeview Test Range" declared dismantled months before the first synthetic date, while
  the demo's detection run (between the two dates) finds new buildings: ``contradicted``;
- "North-gate Depot" (the catalog spells it "Northgate depot (synthetic)") declared
  operational and covered by both scenes after the declaration: ``consistent``;
- "Westwell storage site", somewhere the catalog has nothing: ``unknown-site``.

Its content is fixed, so its file hash is too: a second demo run finds it already
imported and verifies it again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from sitewatch.catalog.records import SiteRecord, SourceRecord
from sitewatch.demo.synthetic import SyntheticScenes

COUNTRY = "XRV"  # ISO 3166 user-assigned range: no real country has it
PARTY = "Republic of Ridgeview (fictional)"
DECLARED_ON = "2023-02-01"
DEPOT_ID = "northgate-depot-synthetic"
FILE_NAME = "sample-declaration.json"


def _lat_lon(geometry: BaseGeometry) -> tuple[float, float]:
    inside = geometry.representative_point()
    return round(inside.y, 6), round(inside.x, 6)


def depot_site(pair: SyntheticScenes) -> SiteRecord:
    """A second fictional site inside the scenes' footprint, away from the compound."""
    min_lon, min_lat, max_lon, max_lat = pair.footprint.bounds
    # An eighth of the way in from the north-west corner: inside the scenes, off the compound.
    corner = Point(min_lon + (max_lon - min_lon) / 8, max_lat - (max_lat - min_lat) / 8)
    return SiteRecord(
        id=DEPOT_ID,
        name="Northgate depot (synthetic)",
        geometry=corner,
        country=COUNTRY,
        category="other",
        uncertainty_m=300.0,
        notes="SYNTHETIC: a fictional site for the demo's sample declaration.",
        sources=[SourceRecord(title="sitewatch synthetic demo", url="", date=None)],
    )


def sample_declaration(pair: SyntheticScenes, depot: SiteRecord) -> dict[str, Any]:
    """The declaration document (the documented JSON format)."""
    range_lat, range_lon = _lat_lon(pair.site_geometry)
    depot_lat, depot_lon = _lat_lon(depot.geometry or pair.footprint)
    return {
        "party": PARTY,
        "date": DECLARED_ON,
        "country": COUNTRY,
        "note": "SYNTHETIC sample declaration of fictional sites, written by 'sitewatch demo'.",
        "items": [
            {
                "name": "Ridgeview Test Range",
                "lat": range_lat,
                "lon": range_lon,
                "category": "test-site",
                "status": "dismantled",
                "status_date": "2023-01-15",
                "inventory": "all test stands and assembly buildings removed",
            },
            {
                "name": "North-gate Depot",
                "lat": depot_lat,
                "lon": depot_lon,
                "category": "storage",
                "status": "operational",
                "status_date": "2020-06-01",
                "inventory": "4 transporters",
            },
            {
                "name": "Westwell storage site",
                "lat": -26.5,
                "lon": 137.9,
                "uncertainty_m": 1000,
                "category": "storage",
                "status": "closed",
                "status_date": "2022-11-30",
            },
        ],
    }


def write_sample_declaration(folder: Path, pair: SyntheticScenes, depot: SiteRecord) -> Path:
    """The sample declaration as a JSON file in ``folder`` (same bytes every time)."""
    path = folder / FILE_NAME
    text = json.dumps(sample_declaration(pair, depot), indent=2, ensure_ascii=False) + "\n"
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return path
