"""The synthetic pair: real georeferencing, labelled SYNTHETIC, known and plausible change."""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.features import geometry_mask

from sitewatch.demo.synthetic import BANDS, SyntheticScenes, write_synthetic_pair
from sitewatch.errors import InputError
from sitewatch.geo import WGS84, to_crs


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> SyntheticScenes:
    return write_synthetic_pair(tmp_path_factory.mktemp("synthetic"), seed=0)


def _read(path: Path) -> np.ndarray:
    with rasterio.open(path) as dataset:
        return dataset.read().astype(np.float64)


def _object_mask(pair: SyntheticScenes, change: str, kind: str) -> np.ndarray:
    """Pixels covered by the truth objects of one change/kind, on the pair's grid."""
    with rasterio.open(pair.truth_path) as dataset:
        shapes = [obj.geometry for obj in pair.changes if obj.change == change and obj.kind == kind]
        projected = [to_crs(shape, WGS84, dataset.crs) for shape in shapes]
        return geometry_mask(projected, dataset.shape, dataset.transform, invert=True)


def test_scenes_are_georeferenced_dated_and_labelled_synthetic(pair: SyntheticScenes) -> None:
    assert pair.before.acquired < pair.after.acquired
    for scene in pair.scenes:
        assert scene.path.exists() and "SYNTHETIC" in scene.path.name
        assert f"{scene.acquired:%Y%m%d}" in scene.path.name
        with rasterio.open(scene.path) as dataset:
            assert dataset.crs.to_epsg() == 32753 and dataset.crs.to_string() == pair.crs
            assert dataset.count == 4 and dataset.descriptions == BANDS
            assert dataset.dtypes == ("uint16",) * 4 and dataset.nodata == 0
            assert dataset.res == (10.0, 10.0) and dataset.shape == (512, 512)
            assert dataset.overviews(1), "written as a COG with overviews"
            tags = dataset.tags()
            assert tags["SYNTHETIC"] == "YES" and "SYNTHETIC" in tags["TIFFTAG_IMAGEDESCRIPTION"]
            stamped = datetime.strptime(tags["TIFFTAG_DATETIME"], "%Y:%m:%d %H:%M:%S")
            assert stamped == scene.acquired.replace(tzinfo=None)
            reflectance = dataset.read() / 10_000
        assert 0.01 < reflectance.mean() < 0.4 and reflectance.min() > 0
    assert pair.site_geometry.within(pair.footprint)
    assert "synthetic" in pair.site_name.lower()


def test_truth_has_gain_and_loss_and_is_rare(pair: SyntheticScenes) -> None:
    assert pair.n_new >= 3 and pair.n_demolished >= 3
    assert {obj.kind for obj in pair.changes if obj.change == "new"} == {"building", "pad", "road"}
    assert all(obj.geometry.within(pair.site_geometry) for obj in pair.changes)
    with rasterio.open(pair.truth_path) as dataset:
        truth = dataset.read(1)
        assert dataset.dtypes == ("uint8",) and dataset.crs.to_string() == pair.crs
        with rasterio.open(pair.before.path) as scene:
            assert dataset.transform == scene.transform and dataset.shape == scene.shape
    assert set(np.unique(truth)) == {0, 1}
    assert 0.005 <= truth.mean() <= 0.08
    # Every truth object lies on changed pixels, and every changed pixel on a truth object.
    objects = _object_mask(pair, "new", "building") | _object_mask(pair, "new", "pad")
    objects |= _object_mask(pair, "new", "road") | _object_mask(pair, "demolished", "building")
    assert np.array_equal(objects, truth == 1)
    geojson = json.loads(pair.truth_geojson.read_text())
    assert len(geojson["features"]) == len(pair.changes)


def test_changes_look_like_construction_and_demolition(pair: SyntheticScenes) -> None:
    before, after = _read(pair.before.path), _read(pair.after.path)
    red = BANDS.index("red")
    new_buildings = _object_mask(pair, "new", "building")
    demolished = _object_mask(pair, "demolished", "building")
    # Roofs are bright: new ones brighten their spot, demolished ones leave darker rubble.
    assert after[red][new_buildings].mean() > 1.3 * before[red][new_buildings].mean()
    assert after[red][demolished].mean() < 0.9 * before[red][demolished].mean()


def test_unchanged_areas_differ_only_radiometrically(pair: SyntheticScenes) -> None:
    before, after = _read(pair.before.path), _read(pair.after.path)
    with rasterio.open(pair.truth_path) as dataset:
        unchanged = dataset.read(1) == 0
    for band in range(4):
        x, y = before[band][unchanged], after[band][unchanged]
        assert np.corrcoef(x, y)[0, 1] > 0.95
        assert not np.allclose(x, y, rtol=0.02), "the dates must not be identical"


def test_same_seed_same_files_other_seed_other_scene(tmp_path: Path) -> None:
    first = write_synthetic_pair(tmp_path / "a", seed=7, size=256)
    again = write_synthetic_pair(tmp_path / "b", seed=7, size=256)
    other = write_synthetic_pair(tmp_path / "c", seed=8, size=256)
    assert np.array_equal(_read(first.after.path), _read(again.after.path))
    assert np.array_equal(_read(first.truth_path), _read(again.truth_path))
    assert not np.array_equal(_read(first.after.path), _read(other.after.path))


def test_fast_enough_for_a_demo(tmp_path: Path) -> None:
    started = time.perf_counter()
    write_synthetic_pair(tmp_path, seed=3)
    # ~0.5 s on a laptop; the bound leaves room for slow CI machines.
    assert time.perf_counter() - started < 3.0


def test_too_small_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="size: must be at least 256"):
        write_synthetic_pair(tmp_path, size=64)
    assert not any(tmp_path.iterdir())
