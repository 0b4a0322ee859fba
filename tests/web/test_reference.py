"""The maps' base layer: the shipped outlines, to signed-in users only."""

from __future__ import annotations

from tests.web.conftest import Workbench


def test_outlines_are_geojson_of_the_shipped_countries(bench: Workbench) -> None:
    client, _ = bench.signed_in("vera")
    answer = client.get("/api/outlines")
    assert answer.status_code == 200
    collection = answer.json()
    assert collection["type"] == "FeatureCollection"
    codes = {f["properties"]["iso3"] for f in collection["features"]}
    assert codes == {"PRK", "KOR", "CHN", "RUS", "JPN"}
    assert all(f["geometry"]["type"] in {"Polygon", "MultiPolygon"} for f in collection["features"])


def test_outlines_need_a_session(bench: Workbench) -> None:
    assert bench.client().get("/api/outlines").status_code == 401


def test_pages_carry_the_csrf_token_for_their_scripts(bench: Workbench) -> None:
    client, csrf = bench.signed_in("alice")
    page = client.get("/").text
    assert f'<meta name="csrf-token" content="{csrf}">' in page
    assert '<script src="/static/js/workbench.js" defer></script>' in page
    assert client.get("/static/js/workbench.js").status_code == 200
    assert client.get("/static/vendor/leaflet/leaflet.js").status_code == 200
