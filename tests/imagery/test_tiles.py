"""Scene tiles rendered by rio-tiler from the demo's synthetic scene and a real OSCD scene."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import rasterio
from morecantile import Tile
from PIL import Image
from rasterio.warp import Resampling, reproject
from rio_tiler.constants import WEB_MERCATOR_TMS as WEB_MERCATOR

from sitewatch.errors import InputError, NotFoundError
from sitewatch.imagery.ingest import add_scenes
from sitewatch.imagery.scenes import list_scenes
from sitewatch.imagery.tiles import (
    TILE_SIZE,
    SceneLayer,
    empty_tile,
    read_tile,
    render_scene_tile,
    scene_layer,
    scene_stretch,
    scene_tilejson,
)
from sitewatch.workspace import Workspace, init_workspace, open_workspace
from tests.conftest import shared_data


@pytest.fixture(scope="module")
def demo(demo_workspace_root: Path) -> Workspace:
    with open_workspace(demo_workspace_root) as workspace:
        yield workspace


def _layer(workspace: Workspace, bands: str | None = None) -> SceneLayer:
    with workspace.session() as session:
        first = list_scenes(session)[0]
        return scene_layer(session, first.id, bands)


def _centre_tile(layer: SceneLayer, zoom: int) -> Tile:
    west, south, east, north = layer.bounds
    return WEB_MERCATOR.tile((west + east) / 2, (south + north) / 2, zoom)


def _rgba(png: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(png))
    assert image.size == (TILE_SIZE, TILE_SIZE)
    return np.asarray(image.convert("RGBA"))


def test_the_default_bands_are_true_colour_and_the_metadata_says_when_and_what(demo):
    layer = _layer(demo)
    assert layer.bands == ("red", "green", "blue")
    meta = scene_tilejson(layer, "/t/{z}/{x}/{y}.png")
    assert meta["tiles"] == ["/t/{z}/{x}/{y}.png"]
    assert meta["acquired"] == layer.acquired.isoformat()
    assert meta["bands"] == ["red", "green", "blue"]
    assert meta["bands_available"] == ["blue", "green", "red", "nir"]
    assert 0 <= meta["minzoom"] <= meta["maxzoom"] <= 22
    west, south, east, north = meta["bounds"]
    assert west < meta["center"][0] < east and south < meta["center"][1] < north
    assert meta["resolution_m"] == 10.0


def test_a_tile_over_the_scene_shows_its_pixels(demo):
    layer = _layer(demo)
    tile = _centre_tile(layer, 14)
    rgba = _rgba(render_scene_tile(layer, tile.z, tile.x, tile.y))
    assert (rgba[..., 3] == 255).mean() > 0.5
    # The scene's red band warped onto the tile's grid: same picture, up to the stretch.
    left, bottom, right, top = WEB_MERCATOR.xy_bounds(tile)
    (read,) = layer.reads
    red_index = read.raster_indexes[read.stack_positions.index(0)]
    expected = np.full((TILE_SIZE, TILE_SIZE), np.nan, np.float32)
    with rasterio.open(read.href) as scene:
        reproject(
            rasterio.band(scene, red_index),
            expected,
            dst_transform=rasterio.transform.from_bounds(
                left, bottom, right, top, TILE_SIZE, TILE_SIZE
            ),
            dst_crs="EPSG:3857",
            dst_nodata=np.nan,
            resampling=Resampling.bilinear,
        )
    red = rgba[..., 0].astype(float)
    unclipped = (rgba[..., 3] == 255) & (red > 0) & (red < 255) & np.isfinite(expected)
    assert unclipped.mean() > 0.5
    correlation = np.corrcoef(red[unclipped], expected[unclipped])[0, 1]
    assert correlation > 0.9


def test_neighbouring_tiles_share_the_scene_stretch(demo):
    layer = _layer(demo)
    centre = _centre_tile(layer, 15)
    low, high = scene_stretch(layer.scene_id, layer.reads, 3)
    assert np.all(high > low)
    for x in (centre.x, centre.x + 1):
        raw = read_tile(layer.reads, 3, centre.z, x, centre.y, layer.scene_id)
        assert raw is not None
        rgba = _rgba(render_scene_tile(layer, centre.z, x, centre.y))
        valid = ~np.ma.getmaskarray(raw.array)[0]
        scaled = (raw.array.data - low[:, None, None]) / (high - low)[:, None, None]
        expected = np.clip(scaled * 255, 0, 255)
        difference = np.abs(rgba[..., :3].transpose(2, 0, 1) - expected)[:, valid]
        assert difference.max() <= 1.0


def test_a_tile_outside_the_scene_is_transparent(demo):
    layer = _layer(demo)
    png = render_scene_tile(layer, 14, 0, 0)
    assert png == empty_tile()
    assert (_rgba(png)[..., 3] == 0).all()


def test_a_tile_over_the_scene_edge_is_transparent_beyond_it(demo):
    layer = _layer(demo)
    west, _, _, north = layer.bounds
    corner = WEB_MERCATOR.tile(west, north, 13)
    alpha = _rgba(render_scene_tile(layer, corner.z, corner.x, corner.y))[..., 3]
    assert (alpha == 0).any() and (alpha == 255).any()


def test_one_band_is_grey_and_bad_band_choices_are_refused(demo):
    layer = _layer(demo, "nir")
    tile = _centre_tile(layer, 14)
    rgba = _rgba(render_scene_tile(layer, tile.z, tile.x, tile.y))
    assert (rgba[..., 0] == rgba[..., 2]).all()
    with pytest.raises(InputError, match="no band 'B99'"):
        _layer(demo, "B99")
    with pytest.raises(InputError, match=r"1 band .* or 3"):
        _layer(demo, "red,green")
    with pytest.raises(InputError, match="names no band"):
        _layer(demo, ",")


@pytest.mark.parametrize(("z", "x", "y"), [(23, 0, 0), (-1, 0, 0), (2, 4, 0), (2, 0, -1)])
def test_tiles_off_the_grid_are_refused(demo, z, x, y):
    with pytest.raises(InputError):
        render_scene_tile(_layer(demo), z, x, y)


def test_an_unknown_scene_is_not_found(demo):
    with demo.session() as session, pytest.raises(NotFoundError):
        scene_layer(session, "../../etc/passwd")


def test_a_real_sentinel2_scene_in_true_colour(tmp_path):
    city = shared_data("oscd", "images", "beihai", "imgs_1")
    with init_workspace(tmp_path / "ws") as workspace:
        with workspace.session() as session:
            scene_id = add_scenes(session, [city])[0].scene_id
        with workspace.session() as session:
            layer = scene_layer(session, scene_id)
    assert layer.bands == ("B04", "B03", "B02")
    meta = scene_tilejson(layer, "/t/{z}/{x}/{y}.png")
    assert meta["sensor"].startswith("sentinel-2")
    assert "Copernicus" in meta["attribution"]
    tile = _centre_tile(layer, 14)
    rgba = _rgba(render_scene_tile(layer, tile.z, tile.x, tile.y))
    assert (rgba[..., 3] == 255).all()
    assert rgba[..., :3].std() > 10  # a picture, not a flat fill
