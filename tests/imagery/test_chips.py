"""Chips: dated quicklooks with a shared stretch and valid COGs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import rasterio
import xarray as xr
from PIL import Image
from shapely.geometry import shape

from sitewatch.demo.synthetic import SyntheticScenes, write_synthetic_pair
from sitewatch.errors import NotFoundError
from sitewatch.imagery.chips import (
    quicklook_images,
    short_scene_id,
    true_colour_bands,
    write_site_chips,
)
from sitewatch.imagery.stack import load_site_stack
from sitewatch.workspace import Workspace
from tests.conftest import shared_data
from tests.imagery.scene_rows import add_oscd_scene, add_point_site, add_synthetic_pair


@pytest.fixture
def synthetic(workspace: Workspace, tmp_path: Path) -> SyntheticScenes:
    pair = write_synthetic_pair(tmp_path / "synthetic", size=256)
    with workspace.session() as session:
        add_synthetic_pair(session, pair)
    return pair


def _label_box_is_drawn(png: Path) -> bool:
    """The top-left corner holds the date label: an opaque black box with white text."""
    with Image.open(png) as image:
        corner = np.asarray(image.convert("RGBA"))[:12, :60]
    black = np.all(corner == (0, 0, 0, 255), axis=-1).mean()
    white = np.all(corner[..., :3] > 200, axis=-1).mean()
    return black > 0.3 and white > 0.03


def test_chips_per_date_png_and_cog(
    workspace: Workspace, synthetic: SyntheticScenes, tmp_path: Path
) -> None:
    out = tmp_path / "chips"
    results = write_site_chips(workspace, synthetic.site_id, out)

    assert [r.scene_id for r in results] == [s.scene_id for s in synthetic.scenes]
    assert results[0].rgb_bands == ("red", "green", "blue")
    stack = load_site_stack(workspace, synthetic.site_id)
    written = sorted(path.name for path in out.iterdir())
    assert written == sorted(name for r in results for name in (r.png.name, r.cog.name))
    for index, (result, scene) in enumerate(zip(results, synthetic.scenes, strict=True)):
        assert result.png.name.startswith(f"{synthetic.site_id}_{scene.acquired:%Y%m%d}_")
        assert result.png.stem == result.cog.stem
        with Image.open(result.png) as image:
            assert image.format == "PNG" and image.mode == "RGBA"
        assert _label_box_is_drawn(result.png)
        with rasterio.open(result.cog) as cog:
            assert cog.driver == "GTiff" and cog.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
            assert cog.overviews(1) and cog.block_shapes[0] == (256, 256)
            assert cog.crs.to_epsg() == 32753 and cog.transform == stack.rio.transform()
            assert cog.descriptions == ("blue", "green", "red", "nir")
            assert cog.dtypes[0] == "float32" and np.isnan(cog.nodata)
            tags = cog.tags()
            assert tags["TIFFTAG_DATETIME"] == f"{scene.acquired:%Y:%m:%d %H:%M:%S}"
            assert tags["SCENE_ID"] == scene.scene_id and str(scene.path) in tags["SOURCE_ASSETS"]
            np.testing.assert_array_equal(cog.read(), stack.values[index])


def test_real_sentinel2_chips_use_b04_b03_b02(workspace: Workspace, tmp_path: Path) -> None:
    folder = shared_data("oscd", "images", "paris")
    footprint = shape(json.loads((folder / "paris.geojson").read_text())["features"][0]["geometry"])
    with workspace.session() as session:
        when = datetime(2016, 11, 30, 10, 50, tzinfo=UTC)
        add_oscd_scene(session, folder / "imgs_1", "paris-2016", when, footprint)
        add_point_site(session, "paris-site", 2.333, 48.821, uncertainty_m=500)
    (result,) = write_site_chips(workspace, "paris-site", tmp_path)
    assert result.rgb_bands == ("B04", "B03", "B02") and len(result.bands) == 13
    assert result.png.name == "paris-site_20161130_paris-2016.png"
    with Image.open(result.png) as image:
        # 101 px enlarged by a whole factor so the date stays readable.
        assert image.size == (303, 303)
    assert _label_box_is_drawn(result.png)


def _toy_stack(values: np.ndarray, bands: list[str]) -> xr.DataArray:
    times = np.array(["2020-01-01T10:00", "2021-01-01T10:00"], dtype="datetime64[ns]")
    return xr.DataArray(
        values.astype(np.float32),
        dims=("time", "band", "y", "x"),
        coords={"time": times[: values.shape[0]], "band": bands},
    )


def test_stretch_is_shared_so_a_darker_date_looks_darker() -> None:
    rng = np.random.default_rng(0)
    bright = rng.uniform(1000, 3000, size=(3, 300, 300))
    stack = _toy_stack(np.stack([bright, bright * 0.6]), ["red", "green", "blue"])
    first, second = (np.asarray(image)[40:, :, :3].mean() for image in quicklook_images(stack))
    assert second < 0.8 * first  # a per-image stretch would make them equal


def test_nan_is_transparent_and_single_band_is_grey() -> None:
    values = np.full((1, 1, 300, 300), 500.0)
    values[0, 0, 100:, :] = np.linspace(0, 1000, 300)
    values[0, 0, 200:, 150:] = np.nan
    (image,) = quicklook_images(_toy_stack(values, ["pan"]))
    pixels = np.asarray(image)
    assert pixels[250, 250, 3] == 0 and pixels[150, 10, 3] == 255
    assert np.array_equal(pixels[150, :, 0], pixels[150, :, 1])  # grey: R == G == B


@pytest.mark.parametrize(
    ("bands", "expected"),
    [
        (["blue", "green", "red", "nir"], ("red", "green", "blue")),
        (["Red", "Green", "Blue"], ("Red", "Green", "Blue")),
        (["B01", "B02", "B03", "B04", "B08"], ("B04", "B03", "B02")),
        (["vv", "vh", "ratio", "x"], ("vv", "vh", "ratio")),
        (["pan"], ("pan",)),
        (["a", "b"], ("a",)),
    ],
)
def test_true_colour_bands(bands: list[str], expected: tuple[str, ...]) -> None:
    assert true_colour_bands(bands) == expected


def test_short_scene_ids_are_safe_and_unique() -> None:
    # Underscores separate the parts of a chip name, so they do not appear inside a part.
    assert short_scene_id("T31UDQ_20171107T105229") == "T31UDQ-20171107T105229"
    long_a = "S2A_MSIL2A_20230510T005231_N0509_R016_T53JNM_20230510T030000"
    long_b = long_a.replace("T53JNM", "T53JNN")
    assert len(short_scene_id(long_a)) <= 32 and "/" not in short_scene_id("a/b c")
    assert short_scene_id(long_a) != short_scene_id(long_b)


def test_nothing_is_written_without_imagery(workspace: Workspace, tmp_path: Path) -> None:
    with workspace.session() as session:
        add_point_site(session, "empty", 10.0, 10.0)
    with pytest.raises(NotFoundError, match="no imagery covers site empty"):
        write_site_chips(workspace, "empty", tmp_path / "out")
    assert not (tmp_path / "out").exists()
