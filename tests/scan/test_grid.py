from __future__ import annotations

import pytest
from shapely.geometry import Polygon, box

from sitewatch.catalog.aoi import parse_area
from sitewatch.errors import InputError
from sitewatch.scan.grid import tile_from_key, tiles_for


def test_bbox_tiles_cover_it_with_stable_keys() -> None:
    area = box(127.0, 39.0, 127.1, 39.1)  # ~8.6 x 11.1 km
    tiles = tiles_for(area, 2560.0, 10.0)
    assert {tile.epsg for tile in tiles} == {32652}
    cols = {tile.col for tile in tiles}
    rows = {tile.row for tile in tiles}
    assert len(tiles) == len(cols) * len(rows)
    assert len(cols) in (4, 5) and len(rows) in (5, 6)
    assert tiles[0].pixels == 256
    # Keys depend on position only: a larger area has every tile of the smaller one.
    bigger = {tile.key for tile in tiles_for(box(126.95, 38.95, 127.15, 39.15), 2560.0, 10.0)}
    assert {tile.key for tile in tiles} < bigger
    assert [tile.key for tile in tiles] == [tile.key for tile in tiles_for(area, 2560.0, 10.0)]
    assert tiles[0].key == f"52N_{tiles[0].col}_{tiles[0].row}"


def test_polygon_gets_fewer_tiles_than_its_bbox() -> None:
    triangle = Polygon([(127.0, 39.0), (127.2, 39.0), (127.0, 39.2)])
    inside = tiles_for(triangle, 2560.0, 10.0)
    around = tiles_for(box(*triangle.bounds), 2560.0, 10.0)
    assert 0.4 * len(around) < len(inside) < 0.7 * len(around)
    assert all(tile.lonlat_outline().intersects(triangle) for tile in inside)


def test_country_spanning_two_zones() -> None:
    tiles = tiles_for(parse_area("country:PRK"), 25_600.0, 100.0)
    assert {tile.epsg for tile in tiles} == {32651, 32652}
    area_km2 = len(tiles) * 25.6**2
    assert 120_540 < area_km2 < 1.6 * 120_540  # covered, edge tiles included


@pytest.mark.parametrize(
    ("size", "resolution"),
    [
        (2565.0, 10.0),
        (200.0, 10.0),
        (2560.0, 0.0),
        (10_000_000.0, 10.0),  # a million-pixel side: one task would need terabytes
        (2560.0, 1e-9),
        (2560.0, float("nan")),
    ],
)
def test_bad_tile_sizes(size: float, resolution: float) -> None:
    with pytest.raises(InputError):
        tiles_for(box(127.0, 39.0, 127.1, 39.1), size, resolution)


def test_a_tile_key_gives_back_its_tile() -> None:
    tiles = tiles_for(parse_area("country:PRK"), 2560.0, 10.0)
    for tile in (tiles[0], tiles[len(tiles) // 2], tiles[-1]):
        assert tile_from_key(tile.key, 2560.0, 10.0) == tile


@pytest.mark.parametrize("key", ["12_34", "61N_1_2", "52X_1_2", "52N_a_2", "", "52N_1"])
def test_a_malformed_tile_key_is_an_input_error(key: str) -> None:
    with pytest.raises(InputError, match="not a tile key"):
        tile_from_key(key, 2560.0, 10.0)


def test_a_tile_with_a_halo_reads_a_wider_window_around_the_same_square() -> None:
    tile = tile_from_key("52N_10_20", 5120.0, 10.0, halo_px=16)
    plain = tile_from_key("52N_10_20", 5120.0, 10.0)
    assert tile.bounds == plain.bounds == (51200.0, 102400.0, 56320.0, 107520.0)
    assert tile.read_bounds == (51040.0, 102240.0, 56480.0, 107680.0)
    assert tile.read_pixels == 512 + 32 and plain.read_pixels == 512
    assert tile.read_transform.c == 51040.0 and tile.read_transform.f == 107680.0
    assert tile.core == (slice(16, 528), slice(16, 528))
    assert tile.read_lonlat_outline().contains(tile.lonlat_outline())
    assert plain.read_lonlat_outline().equals(plain.lonlat_outline())
