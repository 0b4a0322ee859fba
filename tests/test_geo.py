"""Geodesy helpers against independent figures."""

from __future__ import annotations

import pytest
from shapely.geometry import Point

from sitewatch.geo import buffer_metres, distance_metres, haversine_metres, utm_crs_for


@pytest.mark.parametrize(
    ("lon", "lat", "epsg"),
    [(2.35, 48.85, 32631), (125.75, 39.03, 32651), (151.2, -33.9, 32756), (180.0, 0.0, 32660)],
)
def test_utm_zone(lon: float, lat: float, epsg: int) -> None:
    assert utm_crs_for(lon, lat).to_epsg() == epsg


def test_utm_zone_refuses_out_of_range() -> None:
    with pytest.raises(ValueError, match="not a longitude/latitude"):
        utm_crs_for(39.0, 125.0)


def test_distance_agrees_with_great_circle() -> None:
    pyongyang, sino_ri = Point(125.7625, 39.0392), Point(125.355288, 39.644929)
    expected = haversine_metres(pyongyang.x, pyongyang.y, sino_ri.x, sino_ri.y)
    assert distance_metres(pyongyang, sino_ri) == pytest.approx(expected, rel=2e-3)
    assert 75_000 < expected < 77_000  # "77 km NW of Pyongyang" in the CSIS report


def test_buffer_has_the_ground_radius() -> None:
    disc = buffer_metres(Point(125.7, 39.0), 1000.0)
    assert distance_metres(Point(125.7, 39.0), Point(disc.bounds[0], 39.0)) == pytest.approx(
        1000.0, rel=1e-3
    )
