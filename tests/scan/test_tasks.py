"""A tile task: an object cut by tile edges found whole and once (the halo), and the
compared pixels beside the ones it could not compare."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import shapely
from scipy import ndimage
from shapely.geometry import box

from sitewatch.analysis.threshold import EIGHT_CONNECTED
from sitewatch.scan.grid import LONLAT_EPSG, reproject
from sitewatch.scan.plan import ScanRequest
from sitewatch.scan.runner import prepare_scan
from sitewatch.scan.tasks import beside_gaps, scan_tile
from sitewatch.workspace import Workspace
from tests.scan import synthetic

#: 50 px tiles: their edges (x = k * 500 m, y likewise) cut the synthetic change block
#: (rows 100-129, cols 140-169 of the files) at file row 106 and column 150, into four.
CUTTING_TILE_SIZE_M = 500.0


def _objects_on_the_change(workspace: Workspace, halo_px: int | None) -> list[tuple[str, object]]:
    """(tile key, outline in the tile's CRS) of every object the tasks of the tiles under
    the change block find on it, read with the plan's halo (None) or ``halo_px``."""
    plan = prepare_scan(
        workspace,
        ScanRequest(
            synthetic.inner_bbox(),
            synthetic.BEFORE,
            synthetic.AFTER,
            tile_size_m=CUTTING_TILE_SIZE_M,
        ),
    )
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
