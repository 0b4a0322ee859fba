"""A tile task: an object cut by tile edges found whole and once (the halo), the
compared pixels beside the ones it could not compare, and vegetation-phase objects left out
as a detection run leaves them out."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import shapely
from scipy import ndimage
from shapely.geometry import box

from sitewatch.analysis.threshold import EIGHT_CONNECTED
from sitewatch.analysis.vegetation import STRUCTURAL, VEGETATION, default_rule
from sitewatch.analysis.water import WaterRule
from sitewatch.scan.found_objects import FoundObjects
from sitewatch.scan.grid import LONLAT_EPSG, Tile, reproject
from sitewatch.scan.runner import prepare_scan
from sitewatch.scan.tasks import ScanSettings, beside_gaps, detect_tile, scan_tile
from sitewatch.workspace import Workspace
from tests.scan import synthetic

#: 50 px tiles: their edges (x = k * 500 m, y likewise) cut the synthetic change block
#: (rows 100-129, cols 140-169 of the files) at file row 106 and column 150, into four.
CUTTING_TILE_SIZE_M = 500.0


def _objects_on_the_change(workspace: Workspace, halo_px: int | None) -> list[tuple[str, object]]:
    """(tile key, outline in the tile's CRS) of every object the tasks of the tiles under
    the change block find on it, read with the plan's halo (None) or ``halo_px``."""
    plan = prepare_scan(workspace, synthetic.scan_request(tile_size_m=CUTTING_TILE_SIZE_M))
    block = _change_block()
    found = []
    for tile in plan.tiles:
        if not (tile.outline().intersects(block) and not tile.outline().touches(block)):
            continue
        if halo_px is not None:
            tile = dataclasses.replace(tile, halo_px=halo_px)
        result = scan_tile(plan.task_for(tile, tile.lonlat_outline()), plan.settings)
        assert result.status == "done", result.message
        for outline in shapely.from_wkb(list(result.candidates.geometry_wkb)):
            projected = reproject(outline, LONLAT_EPSG, tile.epsg)
            if projected.intersects(block):
                found.append((tile.key, projected))
    return found


def _change_block() -> object:
    rows, cols = synthetic.CHANGE
    left, top = synthetic.ORIGIN
    return box(
        left + 10 * cols.start, top - 10 * rows.stop, left + 10 * cols.stop, top - 10 * rows.start
    )


def test_an_object_cut_by_tile_edges_is_found_whole_by_one_tile(scan_workspace: Workspace) -> None:
    block = _change_block()
    found = _objects_on_the_change(scan_workspace, None)
    # One object, the whole 30 x 30 px block, from the one tile holding its centroid.
    assert len(found) == 1
    key, outline = found[0]
    assert outline.intersection(block).area == pytest.approx(block.area, rel=0.01)
    assert outline.area == pytest.approx(block.area, rel=0.05)
    assert key == "52N_803_8802"  # the tile of file rows 106-155, cols 150-199


def test_without_a_halo_the_same_object_is_four_cut_candidates(scan_workspace: Workspace) -> None:
    found = _objects_on_the_change(scan_workspace, 0)
    assert len(found) == 4 and len({key for key, _ in found}) == 4
    # Each part spans its tile's share of the block (metres: 10 px = 100 m).
    sizes = sorted(
        (round(right - left), round(top - bottom))
        for left, bottom, right, top in (outline.bounds for _, outline in found)
    )
    assert sizes == [(100, 60), (100, 240), (200, 60), (200, 240)]


def test_pixels_beside_a_gap_are_the_ring_around_it() -> None:
    usable = np.ones((7, 7), bool)
    assert not beside_gaps(usable).any()
    usable[3, 3] = False  # one nodata pixel: its eight neighbours are beside it
    ring = beside_gaps(usable)
    assert ring.sum() == 8 and not ring[3, 3] and ring[2:5, 2:5].sum() == 8


def test_beside_gaps_is_the_eight_connected_dilation_of_the_gaps() -> None:
    usable = np.random.default_rng(0).random((40, 50)) > 0.1
    expected = usable & ndimage.binary_dilation(~usable, structure=EIGHT_CONNECTED)
    np.testing.assert_array_equal(beside_gaps(usable), expected)


# A 64 px tile with a 16 px halo over vegetated ground (NDVI 0.7 on both dates), holding a
# field harvested to soil (NDVI 0.7 -> 0.2) and a new roof on a meadow (NDVI 0.6 -> 0.05),
# both in the tile's square; reflectance x 10000, as the composites of L1C files hold it.
VEGETATION_TILE = Tile("52N_625_6878", 32652, 625, 6878, 640.0, 10.0, halo_px=16)
FIELD = (slice(24, 44), slice(24, 44))
ROOF = (slice(52, 72), slice(52, 72))
BANDS = ("B02", "B03", "B04", "B08")
#: B02, B03, B04, B08 of each surface; NDVI (B08 - B04) / (B08 + B04) in the comment.
GRASS = (400.0, 700.0, 500.0, 2833.0)  # 0.70
SOIL = (900.0, 1200.0, 1600.0, 2400.0)  # 0.20
MEADOW = (450.0, 750.0, 600.0, 2400.0)  # 0.60
ROOF_TOP = (1800.0, 1900.0, 2000.0, 2210.0)  # 0.05


def _pair() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    side = VEGETATION_TILE.read_pixels
    texture = 1 + 0.05 * rng.standard_normal((side, side))
    before = np.array(GRASS, np.float32)[:, None, None] * texture[None]
    before[(slice(None), *ROOF)] = np.array(MEADOW, np.float32)[:, None, None]
    after = before.copy()
    after[(slice(None), *FIELD)] = np.array(SOIL, np.float32)[:, None, None]
    after[(slice(None), *ROOF)] = np.array(ROOF_TOP, np.float32)[:, None, None]
    noise = rng.normal(0, 25, (2, *before.shape)).astype(np.float32)
    return before + noise[0], after + noise[1]


def _settings(**changes) -> ScanSettings:
    values = {
        "band_names": BANDS,
        "tile_score": "changed",
        "vegetation_rule": default_rule("cva"),
    }
    return ScanSettings(**{**values, **changes})


def _box_of(item) -> tuple[slice, slice]:
    """The (rows, cols) of the window an object's outline covers."""
    left, bottom, right, top = reproject(item.geometry, LONLAT_EPSG, VEGETATION_TILE.epsg).bounds
    west, north = VEGETATION_TILE.read_transform.c, VEGETATION_TILE.read_transform.f
    return (
        slice(round((north - top) / 10), round((north - bottom) / 10)),
        slice(round((left - west) / 10), round((right - west) / 10)),
    )


def test_a_harvested_field_is_left_out_and_a_new_roof_stays() -> None:
    before, after = _pair()
    found = detect_tile(VEGETATION_TILE, before, after, _settings())
    assert found.vegetation_left_out == 1 and found.objects_found == 2
    (roof,) = found.objects
    assert _box_of(roof) == ROOF
    assert roof.change_class == STRUCTURAL and roof.vegetation_share == pytest.approx(0.0)


def test_kept_the_field_is_classed_vegetation_with_a_share_near_one() -> None:
    before, after = _pair()
    found = detect_tile(VEGETATION_TILE, before, after, _settings(keep_vegetation=True))
    assert found.vegetation_left_out == 0 and len(found.objects) == 2
    by_class = {item.change_class: item for item in found.objects}
    assert set(by_class) == {STRUCTURAL, VEGETATION}
    assert _box_of(by_class[VEGETATION]) == FIELD
    assert by_class[VEGETATION].vegetation_share > 0.95
    assert _box_of(by_class[STRUCTURAL]) == ROOF
    # What the client stores: the share and the class, column by column.
    columns = FoundObjects.of(found.objects)
    assert sorted(columns.change_classes()) == [STRUCTURAL, VEGETATION]
    assert sorted(columns.column("vegetation_share").tolist())[1] > 0.95


def test_without_red_and_near_infrared_nothing_is_tested_or_left_out() -> None:
    before, after = _pair()
    found = detect_tile(VEGETATION_TILE, before, after, _settings(vegetation_rule=None))
    assert found.vegetation_left_out == 0 and len(found.objects) == 2
    assert {(item.change_class, item.vegetation_share) for item in found.objects} == {(None, None)}
    columns = FoundObjects.of(found.objects)
    assert columns.change_classes() == [None, None]
    assert np.isnan(columns.column("vegetation_share")).all()


#: B02, B03, B04, B08 of water (NDWI in the comment), x 10000 as the composites hold them.
CLEAR_WATER = (600.0, 800.0, 400.0, 200.0)  # 0.60
TURBID_WATER = (1200.0, 1600.0, 1300.0, 500.0)  # 0.52
CONCRETE = (2000.0, 2200.0, 2500.0, 2700.0)  # -0.10
SEA = (slice(24, 44), slice(24, 44))
PIER = (slice(52, 72), slice(52, 72))
WATER_RULE = WaterRule(ndwi=0.2)


def _harbour_pair() -> tuple[np.ndarray, np.ndarray]:
    """Land with a patch of sea turning turbid (SEA) and a pier built on water (PIER)."""
    rng = np.random.default_rng(11)
    side = VEGETATION_TILE.read_pixels
    texture = 1 + 0.05 * rng.standard_normal((side, side))
    before = np.array(SOIL, np.float32)[:, None, None] * texture[None]
    for square in (SEA, PIER):
        before[(slice(None), *square)] = np.array(CLEAR_WATER, np.float32)[:, None, None]
    after = before.copy()
    after[(slice(None), *SEA)] = np.array(TURBID_WATER, np.float32)[:, None, None]
    after[(slice(None), *PIER)] = np.array(CONCRETE, np.float32)[:, None, None]
    noise = rng.normal(0, 25, (2, *before.shape)).astype(np.float32)
    return before + noise[0], after + noise[1]


def test_turbid_sea_is_left_out_and_counted_and_a_pier_stays() -> None:
    before, after = _harbour_pair()
    found = detect_tile(VEGETATION_TILE, before, after, _settings(water_rule=WATER_RULE))
    (pier,) = found.objects
    assert _box_of(pier) == PIER
    assert 0.9 * 400 <= found.water_pixels <= 400
    # The tile score still sees every changed pixel, as the tile ranker was fitted.
    halo = VEGETATION_TILE.halo_px
    sea_in_square = tuple(slice(part.start - halo, part.stop - halo) for part in SEA)
    assert found.changed[sea_in_square].mean() > 0.9


def test_kept_the_turbid_sea_is_a_candidate_and_still_counted() -> None:
    before, after = _harbour_pair()
    settings = _settings(water_rule=WATER_RULE, keep_water=True)
    found = detect_tile(VEGETATION_TILE, before, after, settings)
    assert sorted(_box_of(item) for item in found.objects) == sorted([SEA, PIER])
    assert 0.9 * 400 <= found.water_pixels <= 400


def test_without_a_water_rule_nothing_is_counted_or_left_out() -> None:
    before, after = _harbour_pair()
    found = detect_tile(VEGETATION_TILE, before, after, _settings(water_rule=None))
    assert len(found.objects) == 2 and found.water_pixels == 0
