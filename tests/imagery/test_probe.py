"""Probing rasters: footprint, resolution, and refusing what cannot be imagery."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyproj import Transformer
from rasterio.transform import from_origin
from shapely.geometry import Point, Polygon

from sitewatch.errors import InputError
from sitewatch.imagery.probe import probe_raster
from tests.imagery.ingest_helpers import oscd_band, truncated_copy, write_small_tif


def test_utm_grid_footprint_follows_the_reprojected_edges(tmp_path: Path) -> None:
    # 200 km of UTM 31N at 100 m: its bottom edge is a curve in lon/lat.
    grid = from_origin(300_000, 5_500_000, 100, 100)
    probe = probe_raster(write_small_tif(tmp_path / "utm.tif", transform=grid, size=2000))
    assert probe.resolution_m == pytest.approx(100.0)
    to_lonlat = Transformer.from_crs("EPSG:32631", "EPSG:4326", always_xy=True)
    corners = [
        to_lonlat.transform(x, y)
        for x, y in [(300_000, 5_500_000), (500_000, 5_500_000), (500_000, 5_300_000)]
    ]
    bottom_middle = Point(to_lonlat.transform(400_000, 5_300_000))
    assert all(probe.footprint.boundary.distance(Point(c)) < 1e-9 for c in corners)
    assert probe.footprint.boundary.distance(bottom_middle) < 1e-6
    # A corners-only polygon would miss the true edge by ~0.008 degrees (~600 m) there.
    assert (
        Polygon([*corners, to_lonlat.transform(300_000, 5_300_000)]).boundary.distance(
            bottom_middle
        )
        > 1e-3
    )


def test_geographic_oscd_band_resolution_in_metres() -> None:
    probe = probe_raster(oscd_band("paris", 1, "B02"))
    # 10 m Sentinel-2 resampled to EPSG:4326: ~8.5 m x ~12.9 m pixels near Paris.
    assert probe.resolution_m == pytest.approx(10.5, abs=0.3)
    assert probe.footprint.contains(probe.footprint.centroid)
    assert probe_raster(oscd_band("paris", 1, "B01")).resolution_m == pytest.approx(63, abs=2)


def test_truncated_tif_is_refused(tmp_path: Path) -> None:
    broken = truncated_copy(oscd_band("paris", 1, "B02"), tmp_path / "cut_B02.tif")
    with pytest.raises(InputError, match=r"cut_B02\.tif: truncated or corrupt"):
        probe_raster(broken)


def test_garbage_and_text_are_not_rasters(tmp_path: Path) -> None:
    garbage = tmp_path / "noise.tif"
    garbage.write_bytes(bytes(range(256)) * 20)
    with pytest.raises(InputError, match=r"noise\.tif: not a readable raster"):
        probe_raster(garbage)


def test_raster_without_crs_is_refused(tmp_path: Path) -> None:
    plain = write_small_tif(tmp_path / "plain.tif", crs=None)
    with pytest.raises(InputError, match=r"plain\.tif: has no coordinate reference system"):
        probe_raster(plain)
