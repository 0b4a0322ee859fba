"""What the workbench shows of scan candidates: the queue of places, one candidate in
context, and "more like this" over a real scan of the demo's synthetic pair."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from distributed import Client
from shapely.geometry import box
from sqlalchemy import select

from sitewatch.catalog.records import SiteRecord
from sitewatch.catalog.sites import add_site
from sitewatch.db.models import Candidate
from sitewatch.errors import InputError, NotFoundError
from sitewatch.scan.candidates import count_candidates, list_candidates
from sitewatch.scan.like import candidates_like
from sitewatch.scan.places import list_places
from sitewatch.scan.triage import CONTEXT_M, candidate_view, place_queue
from sitewatch.workspace import Workspace
from tests.scan.candidate_rows import add_candidate, add_scan
from tests.scan.synthetic import scan_demo_pair
from tests.verify.rows import add_scene


@pytest.fixture
def rows(workspace: Workspace) -> Workspace:
    """Seven candidates of one scan, about a kilometre apart but for a touching pair (one
    place): five new in four places, one near a known site, one dismissed."""
    with workspace.session() as session:
        add_scan(session)
        session.flush()
        add_candidate(session, "pair-strong", score=5.0, lon=125.10)
        add_candidate(session, "pair-weak", score=4.0, lon=125.102).edge = True  # touching
        for number, score in enumerate((9.0, 7.0, 3.0), start=1):
            add_candidate(session, f"c{number}", score=score, lon=125.1 + 0.01 * (number + 1))
        add_candidate(session, "c-known", score=8.0, lon=125.16, known=True)
        add_candidate(session, "c-gone", score=6.0, lon=125.17).status = "dismissed"
    return workspace


def test_the_queue_pages_places_most_probable_first(rows: Workspace) -> None:
    with rows.session() as session:
        queue = place_queue(session, "scan-1", limit=2)
        rest = place_queue(session, "scan-1", offset=2)
        items = queue["items"] + rest["items"]
        assert (queue["total"], queue["known_hidden"]) == (4, 1)  # places; candidates hidden
        assert [item["id"] for item in items] == [
            p.id for p in list_places(session, scan_id="scan-1")
        ]
        assert sorted(item["id"] for item in items) == ["c1", "c2", "c3", "pair-strong"]
        listed = [item["listed_by"] for item in items]
        assert listed == sorted(listed, reverse=True)
        pair = next(item for item in items if item["id"] == "pair-strong")
        assert (pair["member_count"], pair["members"]) == (2, ["pair-strong", "pair-weak"])
        assert pair["edge"] and pair["listed_by"] < pair["probability"] < 1.0
        assert pair["score"] == 5.0 and pair["area_m2"] == pytest.approx(31_416.0)  # the named
        assert pair["place_area_m2"] == pytest.approx(2 * 31_416.0)
        assert pair["place_outline"]["type"] == "Polygon"  # the halves as one outline
        # Framed on the whole place: both halves and the context around them.
        west, south, east, north = pair["place_context_bounds"]
        named = candidate_view(session, "pair-strong")["context_bounds"]
        assert west == pytest.approx(named[0]) and east > named[2]  # reaches the second half
        assert south == pytest.approx(named[1]) and north == pytest.approx(named[3])
        lone = next(item for item in items if item["id"] == "c1")
        assert (lone["member_count"], lone["edge"]) == (1, False)
        assert lone["listed_by"] == lone["probability"]
        every = place_queue(session, "scan-1", status=None, include_known=True)
        assert (every["total"], every["known_hidden"], every["status"]) == (6, 0, "all")
        assert {item["id"] for item in every["items"]} >= {"c-known", "c-gone"}
        assert count_candidates(session, scan_id="scan-1", status="dismissed") == 1
        assert [c.id for c in list_candidates(session, limit=1, offset=1)] == ["c2"]
        with pytest.raises(InputError, match="limit"):
            place_queue(session, "scan-1", limit=0)
        with pytest.raises(InputError, match="offset"):
            place_queue(session, "scan-1", offset=-1)
        with pytest.raises(InputError, match="status"):
            place_queue(session, "scan-1", status="maybe")
        with pytest.raises(NotFoundError, match="no scan"):
            place_queue(session, "scan-x")


@pytest.fixture
def scanned(workspace: Workspace, tmp_path: Path, client: Client) -> tuple[Workspace, str]:
    return workspace, scan_demo_pair(workspace, tmp_path / "imagery", client)


def test_a_candidate_in_context_names_its_scenes_and_todays_nearest_site(
    scanned: tuple[Workspace, str],
) -> None:
    workspace, scan_id = scanned
    with workspace.session() as session:
        best = list_candidates(session, scan_id=scan_id, limit=1)[0]
        view = candidate_view(session, best.id)
        assert view["nearest"] is None  # an empty catalog
        west, south, east, north = view["context_bounds"]
        assert box(west, south, east, north).contains(best.geometry)
        assert view["context_m"] == CONTEXT_M
        assert [s["datetime"][:10] for s in view["before_scenes"]] == ["2023-05-10"]
        assert [s["datetime"][:10] for s in view["after_scenes"]] == ["2024-04-24"]
        # The scan's tile recorded the scenes its composites were made of.
        assert [s["composited"] for s in view["before_scenes"] + view["after_scenes"]] == [
            True,
            True,
        ]
        assert [a["scene_id"] for a in view["acquisitions"]["after"]] == [
            view["after_scenes"][0]["id"]
        ]
        # A scene catalogued after the scan was not compared by it, so it is not named.
        add_scene(session, "later-scene", date(2024, 4, 24), (best.centroid_lon, best.centroid_lat))
        # A site added since the scan is the nearest today.
        add_site(session, SiteRecord(id="here", name="Here", geometry=best.geometry.centroid))
        session.flush()
        again = candidate_view(session, best.id)
        assert [s["id"] for s in again["after_scenes"]] == [view["after_scenes"][0]["id"]]
        assert again["nearest"] == {"site_id": "here", "distance_m": 0.0, "known": True}
        with pytest.raises(NotFoundError, match="no candidate"):
            candidate_view(session, "nope")


def test_more_like_this_ranks_the_other_candidates_and_writes_nothing(
    scanned: tuple[Workspace, str],
) -> None:
    workspace, scan_id = scanned
    with workspace.session() as session:
        every = list(session.scalars(select(Candidate)))
        target = list_candidates(session, scan_id=scan_id, limit=1)[0]
        found = candidates_like(session, target.id, limit=5)
        assert len(found) == 5 and target.id not in {c.id for c, _ in found}
        similarities = [value for _, value in found]
        assert similarities == sorted(similarities, reverse=True)
        assert all(0 < value <= 1 for value in similarities)
        assert len(candidates_like(session, target.id, limit=1000)) == len(every) - 1
        assert not session.dirty and not session.new
        with pytest.raises(NotFoundError):
            candidates_like(session, "nope")
    assert not (workspace.products / "scans").exists()
