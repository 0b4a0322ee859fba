from __future__ import annotations

import json

import numpy as np
import pytest
from pyproj import Geod, Transformer
from rasterio.transform import Affine
from scipy import ndimage

from sitewatch.analysis.objects import polygonise, to_geojson
from sitewatch.errors import InputError

# 10 m pixels in UTM zone 32N, at the central meridian (scale factor 0.9996).
UTM_TRANSFORM = Affine(10, 0, 500_000, 0, -10, 5_000_000)
UTM_CRS = "EPSG:32632"


def two_blocks() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    mask = np.zeros((20, 30), dtype=bool)
    score = np.zeros(mask.shape, dtype=np.float32)
    direction = np.zeros(mask.shape, dtype=np.int8)
    mask[2:6, 3:8] = True  # 4 rows x 5 columns = 20 px = 2000 m2
    score[2:6, 3:8] = np.linspace(0.9, 1.0, 20).reshape(4, 5)
    direction[2:6, 3:8] = 1
    mask[10:12, 20:23] = True  # 6 px, mixed direction
    score[10:12, 20:23] = 0.95
    direction[10, 20:23] = -1
    direction[11, 20:23] = 1
    return mask, score, direction


def test_block_area_and_centroid_on_a_utm_grid() -> None:
    mask, score, direction = two_blocks()
    objects = polygonise(mask, score, direction, transform=UTM_TRANSFORM, crs=UTM_CRS)
    assert [item.pixel_count for item in objects] == [20, 6]
    block = objects[0]
    # Grid area 2000 m2; on the ground it is larger by 1 / 0.9996^2.
    assert block.area_m2 == pytest.approx(2000 / 0.9996**2, rel=2e-4)
    to_lonlat = Transformer.from_crs(UTM_CRS, "EPSG:4326", always_xy=True)
    lon, lat = to_lonlat.transform(500_000 + 55, 5_000_000 - 40)  # block centre
    assert block.centroid_lon == pytest.approx(lon, abs=1e-7)
    assert block.centroid_lat == pytest.approx(lat, abs=1e-7)
    assert block.geometry.bounds[0] == pytest.approx(to_lonlat.transform(500_030, 4_999_940)[0])
    assert block.mean_score == pytest.approx(0.95, abs=1e-6)
    assert block.max_score == pytest.approx(1.0)
    assert block.direction == 1
    assert objects[1].direction == 0  # half gain, half loss
    assert objects[1].area_m2 == pytest.approx(600 / 0.9996**2, rel=2e-4)


def test_lonlat_raster_gets_geodesic_area() -> None:
    mask, score, _ = two_blocks()
    transform = Affine(0.0001, 0, 10.0, 0, -0.0001, 45.0)
    block = polygonise(mask, score, transform=transform, crs=4326)[0]
    # 5 x 4 pixels of 0.0001 deg at 45 N: about 39.4 m x 44.4 m
    assert block.area_m2 == pytest.approx(5 * 7.88 * 4 * 11.11, rel=0.01)
    assert block.centroid_lon == pytest.approx(10.00055)
    assert block.centroid_lat == pytest.approx(45.0 - 0.0004)


def test_without_georeferencing_geometry_is_in_pixels() -> None:
    mask, score, _ = two_blocks()
    block = polygonise(mask, score)[0]
    assert block.geometry.bounds == (3.0, 2.0, 8.0, 6.0)
    assert block.geometry.area == 20
    assert block.area_m2 is None and block.centroid_lon is None and block.direction == 0


def test_diagonal_neighbours_form_one_object_and_holes_are_kept() -> None:
    mask = np.zeros((10, 10), dtype=bool)
    mask[1:6, 1:6] = True
    mask[3, 3] = False  # hole
    mask[6, 6] = True  # touches the block by a corner only
    objects = polygonise(mask, mask.astype(np.float32))
    assert len(objects) == 1 and objects[0].pixel_count == 25
    assert objects[0].geometry.area == 25


def test_empty_mask_has_no_objects() -> None:
    mask = np.zeros((5, 5), dtype=bool)
    assert polygonise(mask, np.zeros((5, 5))) == []


def test_geojson_round_trips_through_json() -> None:
    mask, score, direction = two_blocks()
    collection = to_geojson(
        polygonise(mask, score, direction, transform=UTM_TRANSFORM, crs=UTM_CRS)
    )
    parsed = json.loads(json.dumps(collection))
    assert parsed["type"] == "FeatureCollection" and len(parsed["features"]) == 2
    first = parsed["features"][0]
    assert first["geometry"]["type"] == "Polygon"
    assert first["properties"]["pixel_count"] == 20 and first["properties"]["direction"] == 1


def test_bad_input_is_an_input_error() -> None:
    mask, score, _ = two_blocks()
    with pytest.raises(InputError, match="one \\(y, x\\) grid"):
        polygonise(mask, score[:5])
    with pytest.raises(InputError, match="both a transform and a CRS"):
        polygonise(mask, score, transform=UTM_TRANSFORM)
    with pytest.raises(InputError, match="not a usable CRS"):
        polygonise(mask, score, transform=UTM_TRANSFORM, crs="EPSG:999999")


def test_projected_area_equals_the_geodesic_area_of_the_polygon() -> None:
    # Far from the central meridian the UTM scale factor is ~1.0009, not 0.9996.
    transform = Affine(10, 0, 800_000, 0, -10, 5_000_000)
    mask = np.zeros((60, 60), dtype=bool)
    mask[5:50, 10:40] = True
    mask[20:30, 20:25] = False  # a hole
    mask[50:55, 38:58] = True  # an L-shaped arm
    (found,) = polygonise(mask, mask.astype(np.float32), transform=transform, crs=UTM_CRS)
    geodesic = abs(Geod(ellps="WGS84").geometry_area_perimeter(found.geometry)[0])
    assert found.pixel_count == 45 * 30 - 50 + 5 * 20
    assert found.area_m2 == pytest.approx(geodesic, rel=1e-6)
    assert found.area_m2 != pytest.approx(found.pixel_count * 100, rel=1e-4)


def test_statistics_of_many_objects_match_each_objects_own_pixels() -> None:
    generator = np.random.default_rng(3)
    mask = ndimage.binary_opening(generator.random((120, 150)) > 0.55)
    score = generator.random(mask.shape).astype(np.float32)
    direction = generator.choice(np.array([-1, 1], dtype=np.int8), size=mask.shape, p=[0.2, 0.8])
    objects = polygonise(mask, score, direction)
    labels, count = ndimage.label(mask, structure=np.ones((3, 3), dtype=bool))
    assert len(objects) == count > 20
    for item in objects:
        # The polygon covers exactly its region's pixels: find that region by a pixel.
        inside = item.geometry.representative_point()
        label = labels[int(inside.y), int(inside.x)]
        pixels = labels == label
        assert item.pixel_count == pixels.sum() == item.geometry.area
        assert item.mean_score == pytest.approx(score[pixels].mean(), rel=1e-5)
        assert item.max_score == score[pixels].max()
        gains = (direction[pixels] == 1).mean()
        assert item.direction == (1 if gains >= 2 / 3 else -1 if gains <= 1 / 3 else 0)
    assert [item.max_score for item in objects] == sorted(
        (item.max_score for item in objects), reverse=True
    )


def test_objects_holding_an_edge_pixel_are_marked() -> None:
    mask = np.zeros((20, 20), bool)
    mask[2:6, 2:6] = True  # beside the gap
    mask[12:16, 12:16] = True  # in the open
    edge = np.zeros_like(mask)
    edge[2:6, 2] = True
    objects = polygonise(mask, mask.astype(np.float32), edge_pixels=edge)
    assert sorted((item.geometry.bounds[0], item.edge) for item in objects) == [
        (2.0, True),
        (12.0, False),
    ]
    assert not any(item.edge for item in polygonise(mask, mask.astype(np.float32)))


def test_overlapping_windows_own_each_object_once_by_its_centroid() -> None:
    """Two windows of one grid overlapping by a halo: every object no wider than the halo
    is kept, whole, by exactly the window whose core holds its centroid."""
    mask = np.zeros((40, 32), bool)
    for row, (start, stop) in enumerate([(2, 9), (10, 17), (12, 19), (13, 19), (15, 22), (20, 27)]):
        mask[row * 6 : row * 6 + 4, start:stop] = True  # blocks left of, across and right of 16
    score = np.ones(mask.shape, np.float32)
    halo, cut = 8, 16  # cores: columns 0-15 and 16-31
    rows = slice(0, 40)
    left = polygonise(mask[:, : cut + halo], score[:, : cut + halo], core=(rows, slice(0, cut)))
    right = polygonise(mask[:, cut - halo :], score[:, cut - halo :], core=(rows, slice(halo, 24)))
    whole = polygonise(mask, score)
    assert len(left) + len(right) == len(whole) == 6
    assert sorted(item.pixel_count for item in left + right) == [24] + [28] * 5
    # Centroid columns 5.5, 13.5, 15.5 (left); 16.0, 18.5, 23.5 (right: 16.0 is on the line).
    assert sorted(item.pixel_count for item in right) == [24, 28, 28] and len(left) == 3
    # A centroid exactly on the line between the cores belongs to the second one only.
    line = np.zeros((4, 8), bool)
    line[1:3, 2:6] = True  # centroid column 4.0
    cores = ((slice(0, 4), slice(0, 4)), (slice(0, 4), slice(4, 8)))
    kept = [polygonise(line, line.astype(np.float32), core=core) for core in cores]
    assert [len(found) for found in kept] == [0, 1]
