"""Tiles of a detection run's score and mask, from the demo's run."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from rio_tiler.constants import WEB_MERCATOR_TMS as WEB_MERCATOR

from sitewatch.db.models import DetectionRun
from sitewatch.detect.product_tiles import product_layer, product_tilejson, render_product_tile
from sitewatch.detect.runs import list_runs
from sitewatch.errors import InputError, NotFoundError
from sitewatch.imagery.tiles import empty_tile
from sitewatch.workspace import Workspace, open_workspace


@pytest.fixture(scope="module")
def demo(demo_workspace_root: Path) -> Iterator[Workspace]:
    with open_workspace(demo_workspace_root) as workspace:
        yield workspace


def _run_id(workspace: Workspace) -> str:
    with workspace.session() as session:
        return list_runs(session)[0].id


def _tile(workspace: Workspace, product: str) -> tuple[dict, np.ndarray]:
    with workspace.session() as session:
        layer = product_layer(session, _run_id(workspace), product)
    meta = product_tilejson(layer, "/t/{z}/{x}/{y}.png")
    west, south, east, north = meta["bounds"]
    tile = WEB_MERCATOR.tile((west + east) / 2, (south + north) / 2, meta["maxzoom"])
    png = render_product_tile(layer, tile.z, tile.x, tile.y)
    return meta, np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


def test_the_score_is_coloured_and_dated(demo):
    meta, rgba = _tile(demo, "score")
    assert meta["product"] == "score" and meta["legend"]["range"] == [0.0, 1.0]
    assert meta["acquired"] > meta["before"]
    opaque = rgba[..., 3] == 255
    assert opaque.mean() > 0.5
    assert len(np.unique(rgba[opaque][:, :3], axis=0)) > 10  # a colour map, not one colour


def test_the_mask_overlays_changed_pixels_only(demo):
    _meta, rgba = _tile(demo, "mask")
    alpha = np.unique(rgba[..., 3])
    assert set(alpha.tolist()) <= {0, 153} and 153 in alpha
    drawn = rgba[rgba[..., 3] == 153]
    assert (drawn[:, 0] == 255).all()


def test_outside_the_run_the_tile_is_empty(demo):
    with demo.session() as session:
        layer = product_layer(session, _run_id(demo), "score")
    assert render_product_tile(layer, 10, 0, 0) == empty_tile()


def test_unknown_runs_and_products_are_refused(demo):
    with demo.session() as session:
        with pytest.raises(NotFoundError):
            product_layer(session, "no-such-run", "score")
        with pytest.raises(InputError, match="not a tiled product"):
            product_layer(session, _run_id(demo), "objects")


def test_a_product_path_leaving_the_workspace_is_never_opened(demo):
    with demo.session() as session:
        run = session.get(DetectionRun, _run_id(demo))
        tampered = DetectionRun(
            id="tampered",
            method=run.method,
            products={"score": "../../../../etc/passwd"},
        )
        session.add(tampered)
        session.flush()
        try:
            with pytest.raises(InputError, match="outside the workspace"):
                product_layer(session, "tampered", "score")
        finally:
            session.rollback()
