"""Plates: a scene cropped to a north-up metric square, objects outlined where they lie."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from shapely.geometry import Point, box

from sitewatch.detect.runs import list_runs
from sitewatch.imagery.plates import PLATE_PX, plate_frame, render_plate, scale_length
from sitewatch.imagery.tiles import scene_layer
from sitewatch.workspace import open_workspace


@pytest.mark.parametrize(
    ("pixel_m", "longest_px", "expected"),
    [(10.0, 160, 1000.0), (1.0, 160, 100.0), (55.0, 160, 5000.0), (0.5, 100, 50.0)],
)
def test_the_scale_bar_has_a_round_length_that_fits(
    pixel_m: float, longest_px: float, expected: float
) -> None:
    assert scale_length(pixel_m, longest_px) == expected


def test_a_frame_is_a_metric_square_at_least_the_minimum_across() -> None:
    frame = plate_frame(Point(35.5, 33.9))
    left, bottom, right, top = frame.bounds
    assert right - left == pytest.approx(top - bottom) == pytest.approx(600.0)
    assert frame.crs.to_epsg() == 32636  # UTM 36N
    assert plate_frame(box(35.5, 33.9, 35.6, 34.0)).side_m > 10_000


def test_a_plate_shows_the_scene_and_the_objects_where_they_lie(demo_workspace_root: Path) -> None:
    with open_workspace(demo_workspace_root) as workspace, workspace.session() as session:
        run = list_runs(session)[0]
        largest = max(run.objects, key=lambda row: row.area_m2 or 0)
        frame = plate_frame(largest.geometry.buffer(0.003))
        plate = render_plate(
            scene_layer(session, run.after_scene_id), frame, [(1, largest.geometry)]
        )
    assert plate.covered and plate.pixel_m == pytest.approx(frame.side_m / PLATE_PX)
    rgb = np.asarray(Image.open(io.BytesIO(plate.png)).convert("RGB")).astype(int)
    yellow = (rgb[..., 0] > 200) & (rgb[..., 1] > 180) & (rgb[..., 2] < 90)
    rows, cols = np.nonzero(yellow)
    # the outline is drawn around the object, which sits at the frame's centre
    assert abs(rows.mean() - PLATE_PX / 2) < PLATE_PX / 5
    assert abs(cols.mean() - PLATE_PX / 2) < PLATE_PX / 5
    assert rgb.std() > 20  # imagery, not a flat fill


def test_a_frame_the_scene_does_not_reach_is_a_grey_plate_not_an_error(
    demo_workspace_root: Path,
) -> None:
    with open_workspace(demo_workspace_root) as workspace, workspace.session() as session:
        run = list_runs(session)[0]
        plate = render_plate(scene_layer(session, run.after_scene_id), plate_frame(Point(2, 48)))
    assert not plate.covered
    assert Image.open(io.BytesIO(plate.png)).size == (PLATE_PX, PLATE_PX)
