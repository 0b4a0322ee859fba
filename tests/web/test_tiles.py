"""The tile API over the demo's workspace: roles, metadata, PNGs, hostile ids and numbers."""

from __future__ import annotations

import hashlib
import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from rio_tiler.constants import WEB_MERCATOR_TMS as WEB_MERCATOR

from sitewatch.auth.users import add_user
from sitewatch.detect.runs import list_runs
from sitewatch.imagery.scenes import list_scenes
from sitewatch.web.app import create_app
from sitewatch.workspace import open_workspace
from tests.web.conftest import PASSWORD

ROLES = {"vera": "viewer", "alice": "analyst", "ada": "admin"}


@pytest.fixture(scope="module")
def tiled(demo_workspace_root: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A copy of the demo workspace with one user per role, its scene and run ids."""
    root = tmp_path_factory.mktemp("tiles") / "ws"
    shutil.copytree(demo_workspace_root, root)
    with open_workspace(root) as workspace, workspace.session() as session:
        for name, role in ROLES.items():
            add_user(session, name, role, PASSWORD)
        scene_id = list_scenes(session)[0].id
        run_id = list_runs(session)[0].id
    return {"root": root, "scene": scene_id, "run": run_id}


@pytest.fixture
def client(tiled: dict) -> Iterator[TestClient]:
    with TestClient(create_app(tiled["root"]), follow_redirects=False) as test_client:
        yield test_client


def _sign_in(client: TestClient, name: str = "vera") -> TestClient:
    answer = client.post("/api/login", json={"name": name, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return client


def _centre_tile_url(meta: dict, zoom: int) -> str:
    west, south, east, north = meta["bounds"]
    tile = WEB_MERCATOR.tile((west + east) / 2, (south + north) / 2, zoom)
    template = meta["tiles"][0]
    return (
        template.replace("{z}", str(tile.z)).replace("{x}", str(tile.x)).replace("{y}", str(tile.y))
    )


def _files(root: Path) -> dict[str, str]:
    """Every file of the workspace but its database (sign-ins write sessions there)."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.name.startswith("sitewatch.db")
    }


@pytest.mark.parametrize("name", sorted(ROLES))
def test_every_role_reads_scene_tiles(client, tiled, name):
    _sign_in(client, name)
    meta = client.get(f"/api/scenes/{tiled['scene']}/tiles.json")
    assert meta.status_code == 200, meta.text
    body = meta.json()
    assert body["tiles"] == [
        f"/api/tiles/scenes/{tiled['scene']}/{{z}}/{{x}}/{{y}}.png?bands=red,green,blue"
    ]
    assert body["bands"] == ["red", "green", "blue"]
    tile = client.get(_centre_tile_url(body, body["maxzoom"]))
    assert tile.status_code == 200
    assert tile.headers["content-type"] == "image/png"
    assert tile.headers["x-sitewatch-acquired"] == body["acquired"]
    assert tile.headers["x-sitewatch-sensor"] == body["sensor"]
    assert tile.headers["cache-control"].startswith("private")
    assert tile.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'self'" in tile.headers["content-security-policy"]
    alpha = np.asarray(Image.open(io.BytesIO(tile.content)).convert("RGBA"))[..., 3]
    assert (alpha == 255).mean() > 0.5


def test_chosen_bands_and_run_products(client, tiled):
    _sign_in(client)
    grey = client.get(f"/api/scenes/{tiled['scene']}/tiles.json", params={"bands": "nir"})
    assert grey.status_code == 200 and grey.json()["bands"] == ["nir"]
    assert client.get(_centre_tile_url(grey.json(), 14)).status_code == 200
    for product in ("score", "mask"):
        meta = client.get(f"/api/runs/{tiled['run']}/tiles.json", params={"product": product})
        assert meta.status_code == 200, meta.text
        body = meta.json()
        assert body["tiles"] == [f"/api/tiles/runs/{tiled['run']}/{product}/{{z}}/{{x}}/{{y}}.png"]
        tile = client.get(_centre_tile_url(body, body["maxzoom"]))
        assert tile.status_code == 200 and tile.headers["content-type"] == "image/png"
        assert tile.headers["x-sitewatch-acquired"] == body["acquired"]


def test_a_tile_outside_is_transparent_not_an_error(client, tiled):
    _sign_in(client)
    answer = client.get(f"/api/tiles/scenes/{tiled['scene']}/14/0/0.png")
    assert answer.status_code == 200
    alpha = np.asarray(Image.open(io.BytesIO(answer.content)).convert("RGBA"))[..., 3]
    assert (alpha == 0).all()


def test_no_session_no_tiles(client, tiled):
    for url in (
        f"/api/scenes/{tiled['scene']}/tiles.json",
        f"/api/tiles/scenes/{tiled['scene']}/14/0/0.png",
        f"/api/runs/{tiled['run']}/tiles.json",
        f"/api/tiles/runs/{tiled['run']}/score/14/0/0.png",
    ):
        answer = client.get(url)
        assert answer.status_code == 401
        assert answer.json() == {"error": "sign in first (POST /api/login)"}


HOSTILE = [
    # (url, status): ids only look rows up; a slash in an id never reaches a file
    ("/api/scenes/..%2F..%2Fetc%2Fpasswd/tiles.json", 404),
    ("/api/scenes/%2Fetc%2Fpasswd/tiles.json", 404),
    ("/api/scenes/no-such-scene/tiles.json", 404),
    ("/api/tiles/scenes/..%2F..%2Fetc%2Fpasswd/1/0/0.png", 404),
    ("/api/tiles/scenes/..%252F..%252Fetc%252Fpasswd/1/0/0.png", 404),
    ("/api/tiles/scenes/no-such-scene/1/0/0.png", 404),
    ("/api/runs/..%2F..%2Fetc/tiles.json", 404),
    ("/api/runs/no-such-run/tiles.json", 404),
    ("/api/tiles/runs/no-such-run/score/1/0/0.png", 404),
    ("/api/tiles/runs/{run}/..%2F..%2Fetc%2Fpasswd/1/0/0.png", 404),
    ("/api/tiles/runs/{run}/objects/1/0/0.png", 400),
    ("/api/runs/{run}/tiles.json?product=run", 400),
    ("/api/tiles/scenes/{scene}/99/0/0.png", 400),
    ("/api/tiles/scenes/{scene}/1e400/0/0.png", 400),
    ("/api/tiles/scenes/{scene}/1/-1/0.png", 400),
    ("/api/tiles/scenes/{scene}/1/0/2.png", 400),
    ("/api/tiles/scenes/{scene}/1/0/nan.png", 400),
    ("/api/tiles/scenes/{scene}/99999999999999999999999/0/0.png", 400),
    ("/api/tiles/scenes/{scene}/1/0/0.png?bands=B99", 400),
    ("/api/tiles/scenes/{scene}/1/0/0.png?bands=red,green", 400),
    ("/api/scenes/{scene}/tiles.json?bands=,", 400),
    ("/api/tiles/runs/{run}/score/-3/0/0.png", 400),
]


@pytest.mark.parametrize(("url", "status"), HOSTILE)
def test_hostile_requests_get_one_line_and_write_nothing(client, tiled, url, status):
    _sign_in(client)
    before = _files(tiled["root"])
    answer = client.get(url.format(scene=tiled["scene"], run=tiled["run"]))
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert "\n" not in error and "Traceback" not in error
    assert "root:" not in answer.text  # no file content
    assert _files(tiled["root"]) == before


def test_reading_tiles_writes_nothing(client, tiled):
    _sign_in(client)
    before = _files(tiled["root"])
    meta = client.get(f"/api/scenes/{tiled['scene']}/tiles.json").json()
    for zoom in range(meta["minzoom"], meta["maxzoom"] + 1):
        assert client.get(_centre_tile_url(meta, zoom)).status_code == 200
    run = client.get(f"/api/runs/{tiled['run']}/tiles.json").json()
    assert client.get(_centre_tile_url(run, run["maxzoom"])).status_code == 200
    assert _files(tiled["root"]) == before
