"""Ingest of local files: OSCD Sentinel-2 folders, multi-band GeoTIFFs, and bad inputs."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rasterio.transform import from_origin
from shapely.geometry import Point
from sqlalchemy import func, select

from sitewatch.db.models import Scene, SceneAsset
from sitewatch.errors import InputError
from sitewatch.files import sha256_file
from sitewatch.imagery.ingest import add_scenes
from sitewatch.workspace import Workspace
from tests.imagery.ingest_helpers import (
    oscd_band,
    oscd_scene,
    truncated_copy,
    write_multiband,
    write_small_tif,
)

MSI_ORDER = ["B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B10"]
MSI_ORDER += ["B11", "B12"]


def _scene_count(workspace: Workspace) -> int:
    with workspace.session() as session:
        return session.scalar(select(func.count()).select_from(Scene)) or 0


def test_oscd_paris_two_dates(workspace: Workspace) -> None:
    with workspace.session() as session:
        outcomes = add_scenes(session, [oscd_scene("paris", 1), oscd_scene("paris", 2)])
    assert [outcome.status for outcome in outcomes] == ["added", "added"]
    with workspace.session() as session:
        scenes = list(session.scalars(select(Scene).order_by(Scene.datetime)))
        assert [scene.datetime.date().isoformat() for scene in scenes] == [
            "2016-11-30",
            "2017-11-07",
        ]
        first, second = scenes
        assert first.bands == MSI_ORDER and second.bands == MSI_ORDER
        assert first.platform == "sentinel-2a" and second.platform == "sentinel-2"
        assert first.instrument == "msi"
        assert first.crs == "EPSG:4326"
        assert first.resolution_m == 10.0  # nominal MSI GSD, not the ~10.5 m lon/lat pixel
        assert first.footprint.contains(Point(2.33, 48.82))
        assert first.min_lon == pytest.approx(2.3101, abs=1e-3)
        assert [asset.key for asset in first.assets] == MSI_ORDER
        b04 = next(asset for asset in first.assets if asset.key == "B04")
        assert b04.sha256 == sha256_file(Path(b04.href))
        assert b04.size == Path(b04.href).stat().st_size
        assert first.id.startswith("scene-") and len(first.id) == len("scene-") + 16
        item = first.stac_item
        assert item["id"] == first.id
        assert item["assets"]["B04"]["file:checksum"] == "1220" + b04.sha256
        assert item["assets"]["B04"]["eo:bands"][0]["common_name"] == "red"
        assert item["assets"]["B04"]["proj:code"] == "EPSG:4326"
        assert item["assets"]["B01"]["proj:shape"] == [68, 65]
        assert item["properties"]["platform"] == "sentinel-2a"


def test_re_adding_is_a_no_op(workspace: Workspace) -> None:
    with workspace.session() as session:
        first = add_scenes(session, [oscd_scene("paris", 1)])
    with workspace.session() as session:
        again = add_scenes(session, [oscd_scene("paris", 1)])
    assert again[0].status == "present" and again[0].scene_id == first[0].scene_id
    assert _scene_count(workspace) == 1
    with workspace.session() as session:
        assert session.scalar(select(func.count()).select_from(SceneAsset)) == 13


def test_multiband_geotiff_with_descriptions(workspace: Workspace, tmp_path: Path) -> None:
    bands = [oscd_band("paris", 2, name) for name in ("B04", "B03", "B02", "B08")]
    stacked = write_multiband(
        tmp_path / "paris_2017-11-07_rgbn.tif",
        bands,
        descriptions=["red", "green", "blue", "nir"],
        tags={"CLOUD_COVER": "12.5"},
    )
    with workspace.session() as session:
        (outcome,) = add_scenes(session, [stacked])
    with workspace.session() as session:
        scene = session.get(Scene, outcome.scene_id)
        assert scene is not None
        assert scene.bands == ["red", "green", "blue", "nir"]
        assert scene.datetime == datetime(2017, 11, 7, tzinfo=UTC)
        assert scene.cloud_cover == 12.5
        assert [(asset.key, asset.bands) for asset in scene.assets] == [
            ("data", ["red", "green", "blue", "nir"])
        ]
        assert scene.stac_item["properties"]["eo:cloud_cover"] == 12.5


def test_multiband_without_descriptions_uses_colour_then_numbers(
    workspace: Workspace, tmp_path: Path
) -> None:
    bands = [oscd_band("paris", 1, name) for name in ("B04", "B03", "B02")]
    rgb = write_multiband(tmp_path / "rgb.tif", bands, colour_interp=["red", "green", "blue"])
    plain = write_small_tif(tmp_path / "plain.tif", count=3)
    with workspace.session() as session:
        outcomes = add_scenes(session, [rgb, plain], datetime_text="2016-11-30")
    assert [outcome.bands for outcome in outcomes] == [["red", "green", "blue"], ["b1", "b2", "b3"]]


def test_datetime_tag_and_option(workspace: Workspace, tmp_path: Path) -> None:
    tagged = write_small_tif(
        tmp_path / "tagged.tif", tags={"TIFFTAG_DATETIME": "2019:05:01 10:00:00"}
    )
    with workspace.session() as session:
        (from_tag,) = add_scenes(session, [tagged])
        assert from_tag.datetime == datetime(2019, 5, 1, 10, tzinfo=UTC)
    untagged = write_small_tif(tmp_path / "untagged.tif", size=16)
    with workspace.session() as session:
        (given,) = add_scenes(session, [untagged], datetime_text="2020-02-03T04:05:06Z")
        assert given.datetime == datetime(2020, 2, 3, 4, 5, 6, tzinfo=UTC)


def _bad_folder_mixed_crs(tmp_path: Path) -> Path:
    folder = tmp_path / "mixed_crs_20200101"
    folder.mkdir()
    write_small_tif(folder / "x_B02.tif")
    write_small_tif(folder / "x_B03.tif", crs="EPSG:32632")
    return folder


def _bad_folder_apart(tmp_path: Path) -> Path:
    folder = tmp_path / "apart_20200101"
    folder.mkdir()
    write_small_tif(folder / "x_B02.tif")
    write_small_tif(folder / "x_B03.tif", transform=from_origin(470_000, 5_410_000, 10, 10))
    return folder


def _bad_truncated(tmp_path: Path) -> Path:
    folder = tmp_path / "imgs_1"
    shutil.copytree(oscd_scene("paris", 1), folder)
    b08 = next(folder.glob("*_B08.tif"))
    truncated_copy(oscd_band("paris", 1, "B08"), b08, keep=0.5)
    return b08


def _bad_garbage(tmp_path: Path) -> Path:
    path = tmp_path / "garbage_20200101.tif"
    path.write_bytes(b"\x00\xffnot a tiff" * 100)
    return path


def _bad_no_crs(tmp_path: Path) -> Path:
    return write_small_tif(tmp_path / "nocrs_20200101.tif", crs=None)


def _bad_empty_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "notes_only"
    folder.mkdir()
    (folder / "dates.txt").write_text("date_1: 20161130\n")
    return folder


def _bad_no_date(tmp_path: Path) -> Path:
    return write_small_tif(tmp_path / "undated.tif")


BAD_INPUTS = {
    "mixed CRS": (_bad_folder_mixed_crs, "must share a CRS", "mixed_crs_20200101"),
    "no overlap": (_bad_folder_apart, "does not overlap", "apart_20200101"),
    "truncated": (_bad_truncated, "truncated or corrupt", "_B08.tif"),
    "garbage": (_bad_garbage, "not a readable raster", "garbage_20200101.tif"),
    "no CRS": (_bad_no_crs, "no coordinate reference system", "nocrs_20200101.tif"),
    "no rasters": (_bad_empty_folder, "no raster files", "notes_only"),
    "no date": (_bad_no_date, "pass --datetime", "undated.tif"),
}


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_writes_nothing(workspace: Workspace, tmp_path: Path, case: str) -> None:
    make, message, named = BAD_INPUTS[case]
    bad = make(tmp_path)
    with pytest.raises(InputError, match=message) as raised, workspace.session() as session:
        # A good scene first: it must not be written either.
        add_scenes(session, [oscd_scene("paris", 2), bad])
    assert named in str(raised.value)
    assert _scene_count(workspace) == 0


def test_unparsable_datetime_option_names_it(workspace: Workspace) -> None:
    with pytest.raises(InputError, match="--datetime"), workspace.session() as session:
        add_scenes(session, [oscd_scene("paris", 1)], datetime_text="Nov 30th")
    assert _scene_count(workspace) == 0
