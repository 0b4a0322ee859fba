"""Sample sites covering every geometry kind the catalog accepts, plus an unlocated one."""

from __future__ import annotations

import pytest
from shapely.geometry import MultiPolygon, Point, Polygon

from sitewatch.catalog.records import SiteRecord, SourceRecord

# A polygon with a hole, with coordinates that need all 15-17 significant digits.
HOLED = Polygon(
    [(125.1234567891, 39.1), (125.2, 39.1000000001), (125.2, 39.2), (125.1, 39.2)],
    [[(125.12, 39.12), (125.14, 39.12), (125.14, 39.14), (125.12, 39.14)]],
)
SECOND = Polygon([(126.0, 40.0), (126.1, 40.0), (126.1, 40.1)])


def sample_records() -> list[SiteRecord]:
    return [
        SiteRecord(
            name="Sino-ri",
            aliases=["Sinori", "신오리"],
            geometry=Point(125.355288123456789, 39.644929),
            country="PRK",
            category="missile-operating-base",
            missile_classes=["MRBM"],
            status="active",
            uncertainty_m=2000.0,
            notes='Quotes " and <tags> & ampersands, ; too',
            sources=[
                SourceRecord("CSIS Beyond Parallel", "https://example.org/a?b=1&c=2", "2019-01"),
                SourceRecord("Undated note", "", None),
            ],
        ),
        SiteRecord(name="Holed compound", id="holed", geometry=HOLED, category="shipyard"),
        SiteRecord(
            name="Two parts", geometry=MultiPolygon([HOLED, SECOND]), status="under-construction"
        ),
        SiteRecord(
            name="Yongjo-ri",
            declared=True,
            notes="no public coordinate",
            sources=[SourceRecord("Report", "https://example.org/y", "2018-12")],
        ),
    ]


@pytest.fixture
def records() -> list[SiteRecord]:
    return sample_records()
