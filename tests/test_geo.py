"""Geodesy helpers against independent figures."""

from __future__ import annotations

import pytest
import rasterio.crs
import shapely
from pyproj import CRS
from shapely.geometry import Point, box

from sitewatch.geo import (
    buffer_metres,
    distance_metres,
    haversine_metres,
    local_utm,
    normalise_lonlat,
    to_crs,
    utm_crs_for,
)


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


def test_a_geometry_across_the_antimeridian_is_split_there_not_made_world_wide() -> None:
    taveuni = box(179.9, -16.9, 180.1, -16.7)  # written either way, the same place
    drawn = shapely.from_wkt(
        "POLYGON ((179.9 -16.9, -179.9 -16.9, -179.9 -16.7, 179.9 -16.7, 179.9 -16.9))"
    )
    for geometry in (taveuni, drawn):
        split = normalise_lonlat(geometry)
        assert split.geom_type == "MultiPolygon"
        bounds = sorted(part.bounds for part in split.geoms)
        assert [value for part in bounds for value in part] == pytest.approx(
            [-180.0, -16.9, -179.9, -16.7, 179.9, -16.9, 180.0, -16.7]
        )
        assert split.area == pytest.approx(0.2 * 0.2)
    world = box(-180, -90, 180, 90)
    assert normalise_lonlat(world).equals(world)
    assert local_utm(drawn).to_epsg() in (32760, 32701)  # beside 180, not the band's zone 31


def test_a_disc_near_the_antimeridian_reaches_across_it() -> None:
    disc = buffer_metres(Point(-179.995, -16.8), 3000)
    west, south, east, north = disc.bounds
    assert disc.geom_type == "MultiPolygon" and (west, east) == (-180.0, 180.0)
    assert {round(part.bounds[0]) for part in disc.geoms} == {-180, 180}
    assert north - south == pytest.approx(2 * 3000 / 110_600, rel=0.01)


def test_to_crs_takes_pyproj_and_rasterio_crs_and_names_alike() -> None:
    """Rasters hand over rasterio's CRS objects, vectors pyproj's, stored rows a name."""
    here = Point(126.0, 39.0)
    by_pyproj = to_crs(here, CRS.from_epsg(4326), CRS.from_epsg(32652))
    by_rasterio = to_crs(here, rasterio.crs.CRS.from_epsg(4326), rasterio.crs.CRS.from_epsg(32652))
    by_name = to_crs(here, "EPSG:4326", "EPSG:32652")
    assert by_pyproj.equals_exact(by_rasterio, 1e-6) and by_pyproj.equals_exact(by_name, 1e-6)
