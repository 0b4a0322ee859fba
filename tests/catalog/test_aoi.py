"""Areas given as text: country outlines and bounding boxes."""

from __future__ import annotations

import re

import pytest
from shapely.geometry import Point

from sitewatch.catalog.aoi import parse_area
from sitewatch.errors import InputError


def test_country_area_is_the_outline() -> None:
    area = parse_area("country:PRK")
    assert area.contains(Point(125.355288, 39.644929))  # Sino-ri
    assert area.bounds[0] == pytest.approx(124.21, abs=0.01)


def test_bbox_area() -> None:
    assert parse_area("bbox:124,37.5,131,43").bounds == (124.0, 37.5, 131.0, 43.0)


@pytest.mark.parametrize(
    "text", ["bbox:1,2,3", "bbox:10,0,5,1", "bbox:0,-95,1,1", "country:", "PRK", "wkt:POINT(1 2)"]
)
def test_bad_areas_are_refused_with_the_text(text: str) -> None:
    with pytest.raises(InputError, match=re.escape(f"area {text!r}")):
        parse_area(text)
