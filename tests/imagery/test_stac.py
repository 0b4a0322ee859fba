"""STAC: items built at ingest, static export read by pystac and odc-stac, imports back."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pystac
import pytest
import rasterio
from pystac_client import Client
from sqlalchemy import select

from sitewatch.db.models import Scene
from sitewatch.errors import ConflictError, InputError
from sitewatch.imagery.ingest import add_scenes
from sitewatch.imagery.stac import add_stac, export_stac
from sitewatch.workspace import Workspace, init_workspace
from tests.imagery.conftest import ServeStac
from tests.imagery.ingest_helpers import oscd_band, oscd_scene


def _add_oscd(workspace: Workspace, *scenes: tuple[str, int]) -> list[str]:
    with workspace.session() as session:
        outcomes = add_scenes(session, [oscd_scene(city, number) for city, number in scenes])
    return [outcome.scene_id for outcome in outcomes]


def _scene_rows(workspace: Workspace) -> list[tuple[Any, ...]]:
    with workspace.session() as session:
        return [
            (
                scene.id,
                scene.datetime,
                scene.bands,
                scene.footprint.wkb,
                scene.crs,
                scene.platform,
                [(asset.key, asset.href, asset.sha256, asset.size) for asset in scene.assets],
            )
            for scene in session.scalars(select(Scene).order_by(Scene.datetime))
        ]


def test_export_reads_back_with_pystac(workspace: Workspace, tmp_path: Path) -> None:
    ids = _add_oscd(workspace, ("paris", 1), ("paris", 2))
    with workspace.session() as session:
        result = export_stac(session, tmp_path / "stac")
    assert result.item_count == 2
    collection = pystac.read_file(result.catalog_path)
    assert isinstance(collection, pystac.Collection)
    items = sorted(collection.get_items(), key=lambda item: item.datetime)
    assert [item.id for item in items] == ids
    b02 = items[0].assets["B02"]
    # The same file, however the shared data folder is reached (hrefs are stored resolved).
    assert Path(b02.get_absolute_href() or "").samefile(oscd_band("paris", 1, "B02"))
    assert b02.extra_fields["file:size"] == oscd_band("paris", 1, "B02").stat().st_size
    # Self-contained: every link is relative, so the folder can be moved as a whole.
    links = json.loads(result.catalog_path.read_text())["links"]
    assert all(link["href"].startswith("./") for link in links)
    with pytest.raises(ConflictError, match="not an empty folder"), workspace.session() as session:
        export_stac(session, tmp_path / "stac")


def test_exported_items_pass_core_schema_with_rustac(workspace: Workspace, tmp_path: Path) -> None:
    """rustac validates the core STAC schema offline; extension schemas would need a download."""
    rustac = Path(sys.executable).with_name("rustac")
    if not rustac.exists():
        pytest.skip("rustac is not installed")
    _add_oscd(workspace, ("paris", 1))
    with workspace.session() as session:
        result = export_stac(session, tmp_path / "stac")
    for item_file in result.catalog_path.parent.glob("*/*.json"):
        core_only = json.loads(item_file.read_text())
        core_only["stac_extensions"] = []
        checked = tmp_path / "core.json"
        checked.write_text(json.dumps(core_only))
        run = subprocess.run(
            [str(rustac), "validate", str(checked)], capture_output=True, text=True
        )
        assert run.returncode == 0, run.stdout + run.stderr


def test_odc_stac_loads_an_exported_scene(workspace: Workspace, tmp_path: Path) -> None:
    odc_stac = pytest.importorskip("odc.stac")
    from odc.geo.geobox import GeoBox

    _add_oscd(workspace, ("paris", 1))
    with workspace.session() as session:
        result = export_stac(session, tmp_path / "stac")
    items = list(pystac.read_file(result.catalog_path).get_items())
    with rasterio.open(oscd_band("paris", 1, "B04")) as source:
        native = source.read(1)
        grid = GeoBox((source.height, source.width), source.transform, "EPSG:4326")
    on_native_grid = odc_stac.load(items, bands=["B04", "B08"], geobox=grid, chunks=None)
    np.testing.assert_array_equal(on_native_grid["B04"].isel(time=0).values, native)
    coarse = odc_stac.load(items, bands=["B02", "B11"], crs="EPSG:32631", resolution=60)
    assert coarse["B11"].shape[0] == 1 and 50 < coarse["B11"].shape[1] < 120
    with rasterio.open(oscd_band("paris", 1, "B02")) as source:
        native_b02_mean = float(source.read(1).mean())
    assert float(coarse["B02"].mean()) == pytest.approx(native_b02_mean, rel=0.05)


def test_static_catalog_import_gives_the_same_scenes(workspace: Workspace, tmp_path: Path) -> None:
    _add_oscd(workspace, ("paris", 1), ("paris", 2))
    with workspace.session() as session:
        result = export_stac(session, tmp_path / "stac")
    with init_workspace(tmp_path / "second") as second, second.session() as session:
        outcomes = add_stac(session, str(tmp_path / "stac"))
    assert [outcome.status for outcome in outcomes] == ["added", "added"]
    with init_workspace(tmp_path / "second") as second:
        assert _scene_rows(second) == _scene_rows(workspace)
        with second.session() as session:
            again = add_stac(session, str(result.catalog_path))
        assert {outcome.status for outcome in again} == {"present"}


def test_stac_api_search_by_bbox_and_datetime(
    workspace: Workspace, tmp_path: Path, serve_stac: ServeStac
) -> None:
    paris_2016, paris_2017, nantes_2016, _ = _add_oscd(
        workspace, ("paris", 1), ("paris", 2), ("nantes", 1), ("nantes", 2)
    )
    with workspace.session() as session:
        items = [pystac.Item.from_dict(scene.stac_item) for scene in session.scalars(select(Scene))]
    items_file = tmp_path / "items.json"
    items_file.write_text(json.dumps(pystac.ItemCollection(items).to_dict()))
    url = serve_stac(items_file)
    assert Client.open(url).conforms_to("ITEM_SEARCH")  # searched server-side, not walked

    target = init_workspace(tmp_path / "target")
    with target, target.session() as session:
        outcomes = add_stac(
            session, url, bbox_text="2.2,48.7,2.5,48.9", datetime_text="2016-01-01/2016-12-31"
        )
        assert [outcome.scene_id for outcome in outcomes] == [paris_2016]
        # Open-ended period, no box: both 2016 scenes (Paris and Nantes), nothing from 2017.
        later = add_stac(session, url, datetime_text="../2016-12-31", limit=10)
        assert sorted(outcome.scene_id for outcome in later) == sorted([paris_2016, nantes_2016])
        assert {o.scene_id: o.status for o in later}[paris_2016] == "present"
    with target.session() as session:
        stored = session.get(Scene, paris_2016)
        assert stored is not None and stored.origin == "stac"
        assert stored.bands[:3] == ["B01", "B02", "B03"]
        assert stored.assets[1].sha256 is not None  # local asset files are hashed
        assert paris_2017 not in set(session.scalars(select(Scene.id)))


def _write_item(path: Path, **changes: Any) -> Path:
    item: dict[str, Any] = {
        "type": "Feature",
        "stac_version": "1.1.0",
        "id": "remote-1",
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[2.3, 48.8], [2.4, 48.8], [2.4, 48.9], [2.3, 48.9], [2.3, 48.8]]],
        },
        "bbox": [2.3, 48.8, 2.4, 48.9],
        "properties": {"datetime": "2021-06-01T10:50:00Z", "platform": "sentinel-2b", "gsd": 10},
        "links": [],
        "assets": {
            "B04": {
                "href": "https://example.invalid/S2B/B04.tif",
                "type": "image/tiff; application=geotiff; profile=cloud-optimized",
                "roles": ["data"],
                "file:checksum": "1220" + "ab" * 32,
            },
            "thumbnail": {"href": "https://example.invalid/t.png", "roles": ["thumbnail"]},
        },
    }
    for key, value in changes.items():
        if key == "properties":
            item["properties"] = value
        else:
            item[key] = value
    path.write_text(json.dumps(item))
    return path


def test_remote_assets_are_kept_as_hrefs_and_not_fetched(
    workspace: Workspace, tmp_path: Path
) -> None:
    item_file = _write_item(tmp_path / "remote.json")
    with workspace.session() as session:
        (outcome,) = add_stac(session, str(item_file))
    with workspace.session() as session:
        scene = session.get(Scene, outcome.scene_id)
        assert scene is not None
        assert [(asset.key, asset.href) for asset in scene.assets] == [
            ("B04", "https://example.invalid/S2B/B04.tif")
        ]
        assert scene.assets[0].sha256 == "ab" * 32  # declared, not computed
        assert scene.platform == "sentinel-2b" and scene.resolution_m == 10


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"geometry": None}, "has no geometry"),
        ({"properties": {"platform": "x"}}, "has no datetime"),
    ],
)
def test_items_without_geometry_or_datetime_are_refused(
    workspace: Workspace, tmp_path: Path, changes: dict[str, Any], message: str
) -> None:
    item_file = _write_item(tmp_path / "bad.json", id="bad-item-7", **changes)
    expected = rf"\[item bad-item-7\]: {message}"
    with pytest.raises(InputError, match=expected), workspace.session() as session:
        add_stac(session, str(item_file))


@pytest.mark.parametrize(
    ("changes", "where"),
    [
        (
            {"properties": {"datetime": "2021-06-01T10:50:00Z", "eo:cloud_cover": math.nan}},
            "properties.eo:cloud_cover",
        ),
        ({"bbox": [2.3, 48.8, math.inf, 48.9]}, "bbox.2"),
    ],
)
def test_items_with_non_finite_numbers_are_refused_by_place(
    workspace: Workspace, tmp_path: Path, changes: dict[str, Any], where: str
) -> None:
    """NaN/Infinity would be stored, then break ``--json`` output (not JSON): refused."""
    item_file = _write_item(tmp_path / "bad.json", id="bad-item-8", **changes)
    expected = rf"\[item bad-item-8\.{re.escape(where)}\]: (nan|inf) is not a finite number"
    with pytest.raises(InputError, match=expected), workspace.session() as session:
        add_stac(session, str(item_file))
    with workspace.session() as session:
        assert list(session.scalars(select(Scene.id))) == []


def test_local_asset_that_changed_since_cataloguing_is_refused(
    workspace: Workspace, tmp_path: Path
) -> None:
    band = tmp_path / "B04.tif"
    band.write_bytes(oscd_band("paris", 1, "B04").read_bytes())
    item_file = _write_item(
        tmp_path / "local.json",
        assets={"B04": {"href": str(band), "roles": ["data"], "file:checksum": "1220" + "0" * 64}},
    )
    checksum_error = "does not match its file:checksum"
    with pytest.raises(InputError, match=checksum_error), workspace.session() as session:
        add_stac(session, str(item_file))
