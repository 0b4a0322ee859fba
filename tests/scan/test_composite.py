from __future__ import annotations

import numpy as np
from shapely.geometry import box

from sitewatch.scan.composite import (
    TileScene,
    acquisitions_of,
    composite,
    composite_of,
    median_of,
    read_clear,
)
from sitewatch.scan.grid import Tile
from sitewatch.scan.runner import prepare_scan
from sitewatch.scan.tasks import TileTask
from sitewatch.workspace import Workspace
from tests.scan import synthetic


def test_median_of_ignores_nan_and_takes_the_middle() -> None:
    nan = np.nan
    images = [np.array([[[1.0, nan, nan, 4.0]]], np.float32) for _ in range(3)]
    images[1][0, 0] = [3.0, 2.0, nan, 8.0]
    images[2][0, 0] = [2.0, 6.0, nan, nan]
    result = median_of(images)
    np.testing.assert_allclose(result[0, 0], [2.0, 4.0, nan, 6.0])
    pair = median_of(images[:2])
    np.testing.assert_allclose(pair[0, 0], [2.0, 2.0, nan, 6.0])


def _first_tile(workspace: Workspace) -> tuple[Tile, TileTask, list[str]]:
    """The synthetic scan's north-west 64 px tile, its task and the scan's bands."""
    plan = prepare_scan(workspace, synthetic.scan_request())
    tile = plan.tiles[0]
    return tile, plan.task_for(tile, tile.lonlat_outline()), list(plan.settings.band_names)


def test_clouded_scene_is_left_out_of_the_before_composite(scan_workspace: Workspace) -> None:
    tile, task, bands = _first_tile(scan_workspace)  # rows and columns 0-63
    windows = [read_clear(scene, tile, bands) for scene in task.before]
    # The window read is the tile and its halo: beyond the files' north and west edges
    # nothing (NaN), to the east and south the neighbouring tiles' pixels.
    halo = tile.halo_px
    assert halo > 0 and windows[1].shape[1:] == (64 + 2 * halo, 64 + 2 * halo)
    assert np.isnan(windows[1][:, :halo]).all() and np.isnan(windows[1][:, :, :halo]).all()
    assert np.isfinite(windows[1][:, halo:, halo:]).all()
    clouded, clear = (window[(slice(None), *tile.core)] for window in windows)
    rows, cols = slice(synthetic.CLOUD[0].start, 64), slice(synthetic.CLOUD[1].start, 64)
    assert np.isnan(clouded[:, rows, cols]).all()
    # The cloud test widens a cloud by 10 px (soft edges): rows and columns 10-19 go too.
    assert np.isnan(clouded[:, 10:20, 10:20]).all()
    assert np.isfinite(clouded[:, :10, :10]).all()
    before = composite(task.before, tile, bands)[(slice(None), *tile.core)]
    np.testing.assert_array_equal(before[:, rows, cols], clear[:, rows, cols])
    np.testing.assert_allclose(before[:, :10, :10], (clouded[:, :10, :10] + clear[:, :10, :10]) / 2)


def test_a_composite_names_the_scenes_it_was_made_of(scan_workspace: Workspace) -> None:
    tile, task, bands = _first_tile(scan_workspace)
    image, used = composite_of(task.before, tile, bands)
    np.testing.assert_array_equal(image, composite(task.before, tile, bands))
    assert used == task.before  # the cloud covers part of the tile: both scenes count
    assert [item["acquired"][:10] for item in acquisitions_of(used)] == [
        "2019-05-01",
        "2019-05-11",
    ]
    # A scene that reaches the tile on paper but gives it no clear pixel was not composited:
    # here, one whose footprint on the tile is a sliver outside the pixels of its window.
    (first, second) = task.before
    window = box(*tile.read_bounds)
    outside = TileScene(first.plan, window.buffer(1.0).difference(window))
    _, used = composite_of((outside, second), tile, bands)
    assert used == (second,)
