"""``/api/runs``: the runs of a site and one run's change objects as GeoJSON."""

from __future__ import annotations

import pytest

from tests.web.conftest import USERS, DemoBench, Workbench


def test_a_sites_runs_and_their_objects(demo_bench: DemoBench) -> None:
    client, _ = demo_bench.signed_in("vera")
    site_id, run_id = demo_bench.demo.site_id, demo_bench.demo.run_id
    runs = client.get("/api/runs", params={"site_id": site_id}).json()["items"]
    assert [run["id"] for run in runs] == [run_id]
    assert runs[0]["method"] and runs[0]["before_scene_id"] and runs[0]["after_scene_id"]

    objects = client.get(f"/api/runs/{run_id}/objects").json()
    assert objects["type"] == "FeatureCollection" and objects["run_id"] == run_id
    features = objects["features"]
    assert len(features) == runs[0]["summary"]["object_count"] > 0
    assert [f["id"] for f in features] == list(range(1, len(features) + 1))
    first = features[0]
    assert first["geometry"]["type"] in {"Polygon", "MultiPolygon"}
    assert set(first["properties"]) >= {"area_m2", "mean_score", "max_score", "pixel_count"}
    assert first["properties"]["area_m2"] > 0


def test_one_run_with_its_lineage(demo_bench: DemoBench) -> None:
    client, _ = demo_bench.signed_in("vera")
    run = client.get(f"/api/runs/{demo_bench.demo.run_id}").json()
    assert run["id"] == demo_bench.demo.run_id and "lineage" in run


def test_no_runs_of_another_site(bench: Workbench) -> None:
    client, _ = bench.signed_in("vera")
    assert client.get("/api/runs", params={"site_id": "sino-ri"}).json() == {"items": []}


@pytest.mark.parametrize("path", ["/api/runs/no-such-run", "/api/runs/no-such-run/objects"])
def test_an_unknown_run_is_404_in_one_line(bench: Workbench, path: str) -> None:
    client, _ = bench.signed_in("vera")
    answer = client.get(path)
    assert answer.status_code == 404
    message = answer.json()["error"]
    assert "no-such-run" in message and "\n" not in message


@pytest.mark.parametrize("path", ["/api/runs", "/api/runs/x", "/api/runs/x/objects"])
def test_runs_need_a_session(bench: Workbench, path: str) -> None:
    assert bench.client().get(path).status_code == 401


@pytest.mark.parametrize("name", sorted(USERS))
def test_every_role_reads_runs(demo_bench: DemoBench, name: str) -> None:
    client, _ = demo_bench.signed_in(name)
    run_id = demo_bench.demo.run_id
    for path in ("/api/runs", f"/api/runs/{run_id}", f"/api/runs/{run_id}/objects"):
        assert client.get(path).status_code == 200, path
