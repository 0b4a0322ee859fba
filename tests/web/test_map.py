"""``/map`` and its viewport reads, through HTTP: roles, hostile input, the points/clusters
switch, escaping, and that reading writes nothing."""

from __future__ import annotations

import hashlib
import sqlite3

import pytest

from sitewatch import limits
from sitewatch.workspace import open_workspace
from tests.scan.candidate_rows import add_candidate, add_scan
from tests.verify.rows import SINO_RI
from tests.web.conftest import HOSTILE_NAME, USERS, Workbench

DPRK = "124,37.5,131,43"
HOSTILE_SCAN = "scan-<b>bold</b>"
READS = [
    f"/api/map/sites?bbox={DPRK}",
    f"/api/map/candidates?bbox={DPRK}&zoom=7",
    f"/api/map/candidates?bbox={DPRK}&zoom=15&scan_id=scan-1&min_score=0.2",
    f"/api/map/scenes?bbox={DPRK}&from=2023-01-01&to=2023-12-31",
]


@pytest.fixture
def mapped(bench: Workbench) -> Workbench:
    """The workbench with a scan of five candidates near Sino-ri (and a scan whose id is
    markup: ids are shown on the page)."""
    with open_workspace(bench.root) as workspace, workspace.session() as session:
        add_scan(session, "scan-1")
        add_scan(session, HOSTILE_SCAN)
        session.flush()
        for number in range(5):
            lon, lat = SINO_RI[0] + 0.01 * number, SINO_RI[1]
            add_candidate(session, f"c{number}", score=0.1 * (number + 1), lon=lon, lat=lat)
    return bench


def _content_digest(bench: Workbench) -> str:
    """Every row of the workspace but the web sessions (signing in writes those)."""
    with sqlite3.connect(bench.root / "sitewatch.db") as connection:
        rows = [line for line in connection.iterdump() if "web_sessions" not in line]
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()


@pytest.mark.parametrize("path", READS)
def test_no_session_is_401(mapped: Workbench, path: str) -> None:
    answer = mapped.client().get(path)
    assert answer.status_code == 401
    assert answer.json() == {"error": "sign in first (POST /api/login)"}


def test_no_session_sends_the_page_to_the_sign_in_form(mapped: Workbench) -> None:
    answer = mapped.client().get("/map")
    assert answer.status_code == 303 and answer.headers["location"] == "/login"


@pytest.mark.parametrize("name", sorted(USERS))
def test_every_role_reads_the_map_and_nothing_is_written(mapped: Workbench, name: str) -> None:
    client, _ = mapped.signed_in(name)
    before = _content_digest(mapped)
    page = client.get("/map")
    assert page.status_code == 200
    assert "/static/js/map.js" in page.text and "/static/vendor/leaflet/leaflet.js" in page.text
    for path in READS:
        assert client.get(path).status_code == 200, path
    assert _content_digest(mapped) == before


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("bbox=1e400,0,1,1", "bbox: inf is out of range"),
        ("bbox=a,b,c,d", "bbox: 'a,b,c,d' is not min_lon,min_lat,max_lon,max_lat"),
        ("bbox=125,40,126,39", "bbox: '125,40,126,39': need min_lon < max_lon and min_lat"),
        ("bbox=-181,0,1,1", "bbox: -181 is out of range"),
        ("bbox=1,2,3", "bbox: '1,2,3' is not min_lon,min_lat"),
        ("zoom=7", "query.bbox: Field required"),
    ],
)
@pytest.mark.parametrize("route", ["sites", "candidates", "scenes"])
def test_a_bad_bbox_is_a_one_line_400_naming_it(
    mapped: Workbench, route: str, query: str, message: str
) -> None:
    client, _ = mapped.signed_in("vera")
    answer = client.get(f"/api/map/{route}?{query}&zoom=7")
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error.startswith(message) and "\n" not in error


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("zoom=abc", "query.zoom: Input should be a valid integer"),
        ("zoom=99", "zoom: 99 is out of range"),
        ("zoom=5&min_score=nan", "min_score: nan is out of range"),
        ("zoom=5&min_score=1e400", "min_score: inf is out of range"),
    ],
)
def test_bad_candidate_options_are_400(mapped: Workbench, query: str, message: str) -> None:
    client, _ = mapped.signed_in("vera")
    answer = client.get(f"/api/map/candidates?bbox={DPRK}&{query}")
    assert answer.status_code == 400 and answer.json()["error"].startswith(message)


def test_an_unknown_scan_is_404(mapped: Workbench) -> None:
    client, _ = mapped.signed_in("vera")
    answer = client.get(f"/api/map/candidates?bbox={DPRK}&zoom=7&scan_id=nope")
    assert answer.status_code == 404


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=yesterday", "from/to: 'yesterday' is not a date or time"),
        ("from=2023-05-01&to=2023-01-01", "from/to: '2023-05-01/2023-01-01': the start is after"),
    ],
)
def test_bad_scene_dates_are_400(mapped: Workbench, query: str, message: str) -> None:
    client, _ = mapped.signed_in("vera")
    answer = client.get(f"/api/map/scenes?bbox={DPRK}&{query}")
    assert answer.status_code == 400 and answer.json()["error"].startswith(message)


def test_candidates_switch_from_points_to_clusters_past_the_bound(
    mapped: Workbench, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, _ = mapped.signed_in("vera")
    monkeypatch.setattr(limits, "MAP_POINTS", 5)
    points = client.get(f"/api/map/candidates?bbox={DPRK}&zoom=7").json()
    assert (points["kind"], points["total"], points["truncated"]) == ("points", 5, False)
    assert [item["id"] for item in points["items"]] == ["c4", "c3", "c2", "c1", "c0"]
    monkeypatch.setattr(limits, "MAP_POINTS", 4)
    clusters = client.get(f"/api/map/candidates?bbox={DPRK}&zoom=7").json()
    assert (clusters["kind"], clusters["total"]) == ("clusters", 5)
    assert sum(item["count"] for item in clusters["items"]) == 5
    assert clusters["items"][0]["max_score"] == pytest.approx(0.5)
    street = client.get(f"/api/map/candidates?bbox={DPRK}&zoom=14").json()
    assert (street["kind"], street["total"], street["truncated"]) == ("points", 5, True)
    assert len(street["items"]) == 4


def test_sites_carry_their_latest_verdict(mapped: Workbench) -> None:
    client, _ = mapped.signed_in("vera")
    items = client.get(f"/api/map/sites?bbox={DPRK}").json()["items"]
    by_id = {item["id"]: item for item in items}
    assert set(by_id) == {"sino-ri", "kal-gol", "yongnim"}
    # the bench's verification: nothing observed at any site since the declaration
    assert by_id["kal-gol"]["verdict"] == "not-observed" and by_id["kal-gol"]["finding"] is False


def test_scene_footprints_are_geojson_filtered_by_date(mapped: Workbench) -> None:
    client, _ = mapped.signed_in("vera")
    found = client.get(f"/api/map/scenes?bbox={DPRK}&from=2023-03-01&to=2023-03-01").json()
    assert found["type"] == "FeatureCollection" and found["total"] == 1
    (feature,) = found["features"]
    assert feature["geometry"]["type"] == "Polygon"
    assert feature["properties"]["id"] == "scene-2023-03-01"
    later = client.get(f"/api/map/scenes?bbox={DPRK}&from=2023-03-02").json()
    assert later["features"] == [] and later["truncated"] is False


def test_a_hostile_site_name_is_json_data_and_markup_in_the_page_is_escaped(
    mapped: Workbench,
) -> None:
    client, _ = mapped.signed_in("vera")
    answer = client.get("/api/map/sites?bbox=0,0,2,2")
    assert answer.headers["content-type"].startswith("application/json")
    assert [item["name"] for item in answer.json()["items"]] == [HOSTILE_NAME]
    page = client.get("/map").text
    assert "<b>bold</b>" not in page and "scan-&lt;b&gt;bold&lt;/b&gt;" in page
    assert "<script>alert" not in page
