"""The triage API and pages over a real scan: every route for every role, the decisions
signed by the analyst in the ledger, CSRF, hostile ids, and reads that write nothing.

The workspace of :mod:`tests.web.conftest` gets the demo's synthetic scene pair and a real
scan of it (the scan service on an in-process Dask cluster): about twenty candidates, none
near a catalog site (the catalog's sites are in North Korea, the pair in Australia).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest
from distributed import Client
from fastapi.testclient import TestClient
from httpx import Response
from shapely import wkt
from shapely.geometry import box
from sqlalchemy import select

from sitewatch.db.models import Candidate, LedgerEntry, Scan, Site
from sitewatch.evidence.audit import verify_workspace
from sitewatch.evidence.keys import create_key
from sitewatch.workspace import init_workspace, open_workspace
from tests.scan.synthetic import scan_demo_pair
from tests.web.conftest import USERS, Workbench, _fill

API_READS = [
    "/api/scans",
    "/api/scans/{scan}/candidates",
    "/api/candidates/{candidate}",
    "/api/candidates/{candidate}/like?limit=3",
]
PAGES = [
    "/scans",
    "/scans/{scan}/triage",
    "/scans/{scan}/triage?candidate={candidate}",
    "/candidates/{candidate}",
]
DECISIONS = ["promote", "dismiss"]
BODIES = {"promote": {}, "dismiss": {"reason": "a cloud shadow, not a structure"}}


@pytest.fixture(scope="module")
def _filled_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The web workspace plus a real scan of the synthetic pair (overrides the conftest's;
    built once per module, copied for each test). The admin has a signing key too."""
    root = tmp_path_factory.mktemp("triage") / "ws"
    with init_workspace(root) as workspace:
        _fill(workspace, root.parent)
        create_key(workspace, "ada")
        with Client(
            processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None
        ) as client:
            scan_demo_pair(workspace, root.parent / "imagery", client)
    return root


def _ids(bench: Workbench) -> tuple[str, list[str]]:
    """The scan's id and its candidates' ids, best first."""
    with open_workspace(bench.root) as workspace, workspace.session() as session:
        found = list(session.scalars(select(Candidate).order_by(Candidate.score.desc())))
    return found[0].scan_id, [candidate.id for candidate in found]


def _statuses(bench: Workbench) -> dict[str, str]:
    with open_workspace(bench.root) as workspace, workspace.session() as session:
        return {c.id: c.status for c in session.scalars(select(Candidate))}


def _paths(bench: Workbench, templates: list[str]) -> list[str]:
    scan, candidates = _ids(bench)
    return [t.format(scan=scan, candidate=quote(candidates[0], safe="")) for t in templates]


def _post(client: TestClient, path: str, body: dict, token: str | None) -> Response:
    headers = {} if token is None else {"x-csrf-token": token}
    return client.post(path, json=body, headers=headers)


def test_without_a_session_the_api_is_401_and_pages_go_to_sign_in(bench: Workbench) -> None:
    client = bench.client()
    for path in _paths(bench, API_READS):
        assert client.get(path).status_code == 401, path
    for path in _paths(bench, PAGES):
        answer = client.get(path)
        assert answer.status_code == 303 and answer.headers["location"] == "/login", path
    _, candidates = _ids(bench)
    for decision in DECISIONS:
        path = f"/api/candidates/{quote(candidates[0], safe='')}/{decision}"
        assert client.post(path, json=BODIES[decision]).status_code == 401


@pytest.mark.parametrize("name", sorted(USERS))
def test_every_role_reads_the_queue_and_nothing_is_written(bench: Workbench, name: str) -> None:
    before, statuses = bench.ledger_count(), _statuses(bench)
    client, _ = bench.signed_in(name)
    for path in _paths(bench, API_READS + PAGES):
        assert client.get(path).status_code == 200, path
    assert bench.ledger_count() == before and _statuses(bench) == statuses
    assert not (bench.root / "products" / "scans").exists()  # no chips drawn by a read


def test_the_queue_pages_places_most_probable_first(bench: Workbench) -> None:
    scan, candidates = _ids(bench)
    client, _ = bench.signed_in("vera")
    assert [s["id"] for s in client.get("/api/scans").json()] == [scan]
    every = client.get(f"/api/scans/{scan}/candidates?limit=100").json()
    places = every["items"]
    # Every candidate is in one place; two of the scan's touch, so there is one place fewer.
    assert sorted(m for place in places for m in place["members"]) == sorted(candidates)
    assert every["total"] == len(places) < len(candidates) and every["known_hidden"] == 0
    assert [place["member_count"] for place in places].count(2) >= 1
    listed = [place["listed_by"] for place in places]
    assert listed == sorted(listed, reverse=True) and all(0 < p < 1 for p in listed)
    first = client.get(f"/api/scans/{scan}/candidates?limit=5").json()
    second = client.get(f"/api/scans/{scan}/candidates?limit=5&offset=5").json()
    assert [i["id"] for i in first["items"] + second["items"]] == [i["id"] for i in places[:10]]
    assert first["total"] == every["total"]
    assert client.get(f"/api/scans/{scan}/candidates?status=dismissed").json()["total"] == 0
    assert client.get(f"/api/scans/{scan}/candidates?status=all").json()["total"] == len(places)
    for query, field in (("status=maybe", "status"), ("limit=0", "limit"), ("offset=-1", "offset")):
        answer = client.get(f"/api/scans/{scan}/candidates?{query}")
        assert answer.status_code == 400 and field in answer.json()["error"], query


def test_dismissing_a_place_dismisses_every_part_and_it_leaves_the_queue(
    bench: Workbench,
) -> None:
    scan, _ = _ids(bench)
    client, token = bench.signed_in("alice")
    queue = f"/api/scans/{scan}/candidates?limit=100"
    before = client.get(queue).json()
    pair = next(place for place in before["items"] if place["member_count"] == 2)
    named, other = pair["members"]
    path = f"/api/candidates/{quote(other, safe='')}/dismiss"  # any part names the place
    answer = _post(client, path, {"reason": "two halves of a new car park"}, token)
    assert answer.status_code == 200, answer.text
    assert answer.json()["dismissed"] == [other, named]
    statuses = _statuses(bench)
    assert statuses[named] == statuses[other] == "dismissed"
    after = client.get(queue).json()
    assert after["total"] == before["total"] - 1
    assert not {named, other} & {m for place in after["items"] for m in place["members"]}
    with open_workspace(bench.root) as workspace, workspace.session() as session:
        entries = session.scalars(
            select(LedgerEntry).where(LedgerEntry.kind == "candidate.dismiss")
        ).all()
        assert sorted(e.subject_id for e in entries) == sorted([named, other])
        assert {e.author for e in entries} == {"alice"}


def test_a_candidate_comes_with_context_nearest_site_and_scenes(bench: Workbench) -> None:
    _, candidates = _ids(bench)
    client, _ = bench.signed_in("vera")
    view = client.get(f"/api/candidates/{quote(candidates[0], safe='')}").json()
    outline = wkt.loads(view["geometry"])
    west, south, east, north = view["context_bounds"]
    assert box(west, south, east, north).contains(outline.buffer(0.003))  # ~300 m and more
    assert east - west < 0.05  # the place in context, not the whole scene
    assert view["nearest"]["site_id"] and view["nearest"]["distance_m"] > 1e6
    assert [s["datetime"][:10] for s in view["before_scenes"]] == ["2023-05-10"]
    assert [s["datetime"][:10] for s in view["after_scenes"]] == ["2024-04-24"]
    assert view["outline"]["type"] in ("Polygon", "MultiPolygon")


def test_more_like_this_ranks_the_scans_other_candidates(bench: Workbench) -> None:
    _, candidates = _ids(bench)
    client, _ = bench.signed_in("vera")
    path = f"/api/candidates/{quote(candidates[0], safe='')}/like?limit=4"
    items = client.get(path).json()["items"]
    similarities = [item["similarity"] for item in items]
    assert len(items) == 4 and candidates[0] not in {item["id"] for item in items}
    assert similarities == sorted(similarities, reverse=True)
    assert all(0 < value <= 1 for value in similarities)


@pytest.mark.parametrize("name", ["alice", "ada"])
@pytest.mark.parametrize("decision", DECISIONS)
def test_a_decision_is_signed_by_the_analyst_in_the_ledger(
    bench: Workbench, name: str, decision: str
) -> None:
    _, candidates = _ids(bench)
    before = bench.ledger_count()
    client, token = bench.signed_in(name)
    path = f"/api/candidates/{quote(candidates[0], safe='')}/{decision}"
    answer = _post(client, path, BODIES[decision], token)
    assert answer.status_code == 200, answer.text
    expected = "promoted" if decision == "promote" else "dismissed"
    assert answer.json()["candidate"]["status"] == expected
    assert _statuses(bench)[candidates[0]] == expected
    with open_workspace(bench.root) as workspace, workspace.session() as session:
        entry = session.scalars(
            select(LedgerEntry).where(LedgerEntry.kind == f"candidate.{decision}")
        ).one()
        assert (entry.author, entry.subject_id) == (name, candidates[0])
        if decision == "promote":  # the new site is the analyst's claim too
            site_id = answer.json()["site"]["id"]
            assert session.get(Site, site_id) is not None
            added = session.scalars(
                select(LedgerEntry).where(
                    LedgerEntry.kind == "site.add", LedgerEntry.site_id == site_id
                )
            ).one()
            assert added.author == name
    assert bench.ledger_count() > before
    assert _post(client, path, BODIES[decision], token).status_code == 409  # decided already
    with open_workspace(bench.root, read_only=True) as workspace:
        report = verify_workspace(workspace)
    assert report.ok, report.problems


@pytest.mark.parametrize("decision", DECISIONS)
def test_refused_decisions_write_nothing(bench: Workbench, decision: str) -> None:
    _, candidates = _ids(bench)
    path = f"/api/candidates/{quote(candidates[0], safe='')}/{decision}"
    before, statuses = bench.ledger_count(), _statuses(bench)
    viewer, viewer_token = bench.signed_in("vera")
    answer = _post(viewer, path, BODIES[decision], viewer_token)
    assert answer.status_code == 403 and "needs the role analyst" in answer.json()["error"]
    alice, token = bench.signed_in("alice")
    for forged in (None, "forged", ""):
        answer = _post(alice, path, BODIES[decision], forged)
        assert answer.status_code == 403 and "CSRF" in answer.json()["error"]
    _, other_token = bench.signed_in("alice")
    assert _post(alice, path, BODIES[decision], other_token).status_code == 403
    form = alice.post(path, data=BODIES[decision], headers={"x-csrf-token": token})
    assert form.status_code == 400 and "application/json" in form.json()["error"]
    bob, bob_token = bench.signed_in("bob")  # an analyst without a key on the server
    answer = _post(bob, path, BODIES[decision], bob_token)
    assert answer.status_code == 409 and "signing key" in answer.json()["error"]
    assert bench.ledger_count() == before and _statuses(bench) == statuses


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "body.reason"),
        ({"reason": "   "}, "--reason"),
        ({"reason": 3}, "body.reason"),
        ({"reason": "x", "site": "y"}, "body.site"),
    ],
    ids=["missing", "blank", "not-text", "unknown-field"],
)
def test_a_dismissal_needs_a_reason(bench: Workbench, body: dict, field: str) -> None:
    _, candidates = _ids(bench)
    before, statuses = bench.ledger_count(), _statuses(bench)
    client, token = bench.signed_in("alice")
    answer = _post(client, f"/api/candidates/{quote(candidates[0], safe='')}/dismiss", body, token)
    assert answer.status_code == 400 and field in answer.json()["error"]
    assert "\n" not in answer.json()["error"]
    assert bench.ledger_count() == before and _statuses(bench) == statuses


HOSTILE_IDS = [
    "nope",
    "../../etc/passwd",
    "..%2F..%2Fsitewatch.db",
    "x' OR '1'='1",
    'x"; DROP TABLE candidates; --',
    "%00",
    "<script>alert(1)</script>",
    "a" * 5000,
]


@pytest.mark.parametrize("hostile", HOSTILE_IDS, ids=range(len(HOSTILE_IDS)))
def test_unknown_and_hostile_ids_are_refused_harmlessly(bench: Workbench, hostile: str) -> None:
    before, statuses = bench.ledger_count(), _statuses(bench)
    client, token = bench.signed_in("alice")
    segment = quote(hostile, safe="")
    for path in (
        f"/api/candidates/{segment}",
        f"/api/candidates/{segment}/like",
        f"/api/scans/{segment}/candidates",
        f"/candidates/{segment}",
        f"/scans/{segment}/triage",
    ):
        answer = client.get(path)
        assert answer.status_code == 404, (path, answer.status_code)
        assert "<script>" not in answer.text
    for decision in DECISIONS:
        answer = _post(client, f"/api/candidates/{segment}/{decision}", BODIES[decision], token)
        assert answer.status_code == 404
    assert bench.ledger_count() == before and _statuses(bench) == statuses


def test_the_pages_show_decisions_to_analysts_only(bench: Workbench) -> None:
    scan, candidates = _ids(bench)
    viewer, _ = bench.signed_in("vera")
    analyst, _ = bench.signed_in("alice")
    path = f"/scans/{scan}/triage?candidate={quote(candidates[0], safe='')}"
    seen_by_viewer, seen_by_analyst = viewer.get(path).text, analyst.get(path).text
    assert 'id="btn-promote"' not in seen_by_viewer and 'id="dismiss-form"' not in seen_by_viewer
    assert 'id="btn-promote"' in seen_by_analyst and 'id="dismiss-form"' in seen_by_analyst
    assert 'data-can-decide="0"' in seen_by_viewer and 'data-can-decide="1"' in seen_by_analyst
    assert '<a href="/scans">Scans</a>' in seen_by_viewer
    assert "/static/js/triage.js" in seen_by_viewer and "leaflet.js" in seen_by_viewer
    listing = viewer.get("/scans").text
    assert f'href="/scans/{scan}/triage"' in listing


def test_the_queue_says_what_the_scans_masks_left_out(bench: Workbench) -> None:
    """An analyst must know what change the list does not show, and how to get it back."""
    scan, _ = _ids(bench)
    with open_workspace(bench.root) as workspace, workspace.session() as session:
        summary = session.get(Scan, scan).summary
    viewer, _ = bench.signed_in("vera")
    page = viewer.get(f"/scans/{scan}/triage").text
    expected = (
        f"Masks of this scan: vegetation filter: {summary['vegetation_filter']}; "
        f"open water: {summary['water_mask']}"
    )
    assert expected in page
    assert "<code>--keep-water</code>" in page
