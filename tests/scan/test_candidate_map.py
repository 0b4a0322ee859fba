"""Candidates in a map viewport: points up to the bound, grid clusters past it, on SQLite
and PostgreSQL (the grid index is compiled per backend)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sitewatch import limits
from sitewatch.db.models import Candidate
from sitewatch.errors import InputError, NotFoundError
from sitewatch.scan.candidate_map import candidates_in_view, cell_size
from sitewatch.workspace import Workspace, init_workspace
from tests.scan.candidate_rows import add_candidate, add_scan

WORLD = (-180.0, -90.0, 180.0, 90.0)
#: Two groups 3 degrees apart, each within 0.03 degrees: at zoom 6 a cell is
#: 360 / (64 * 4) = 1.4 degrees wide, so each group is one cluster.
WEST_GROUP = [(125.0 + 0.01 * i, 39.0 + 0.01 * i, 0.1 * (i + 1)) for i in range(4)]
EAST_GROUP = [(128.0 + 0.01 * i, 41.0, 0.5 + 0.1 * i) for i in range(3)]


def _fill(session: Session) -> None:
    add_scan(session, "scan-1")
    add_scan(session, "scan-2")
    session.flush()  # the scans before their candidates (no relationship orders them)
    for number, (lon, lat, score) in enumerate(WEST_GROUP):
        add_candidate(session, f"w{number}", score=score, lon=lon, lat=lat)
    for number, (lon, lat, score) in enumerate(EAST_GROUP):
        add_candidate(session, f"e{number}", score=score, lon=lon, lat=lat, scan_id="scan-2")


@pytest.fixture
def filled(workspace: Workspace) -> Workspace:
    with workspace.session() as session:
        _fill(session)
    return workspace


def test_a_viewport_within_the_bound_gets_its_points_best_score_first(filled: Workspace) -> None:
    with filled.session() as session:
        view = candidates_in_view(session, WORLD, 2, max_points=7)
    assert (view.kind, view.total, view.truncated) == ("points", 7, False)
    scores = [item["score"] for item in view.items]
    assert scores == sorted(scores, reverse=True)
    assert set(view.items[0]) == {
        "id",
        "scan_id",
        "lon",
        "lat",
        "score",
        "area_m2",
        "status",
        "known",
    }


def test_one_more_than_the_bound_switches_to_clusters_that_count_every_candidate(
    filled: Workspace,
) -> None:
    with filled.session() as session:
        view = candidates_in_view(session, WORLD, 6, max_points=6)
    assert (view.kind, view.total, view.truncated) == ("clusters", 7, False)
    assert sorted(c["count"] for c in view.items) == [3, 4]
    west = next(c for c in view.items if c["count"] == 4)
    assert west["max_score"] == pytest.approx(0.4)
    assert west["mean_score"] == pytest.approx(0.25)
    assert west["lon"] == pytest.approx(125.015) and west["lat"] == pytest.approx(39.015)


def test_at_street_zoom_the_answer_is_the_best_points_said_to_be_truncated(
    filled: Workspace,
) -> None:
    with filled.session() as session:
        view = candidates_in_view(session, WORLD, limits.MAP_POINTS_FROM_ZOOM, max_points=2)
    assert (view.kind, view.total, view.truncated) == ("points", 7, True)
    assert [item["id"] for item in view.items] == ["e2", "e1"]


def test_the_viewport_scan_and_score_narrow_the_candidates(filled: Workspace) -> None:
    with filled.session() as session:
        west_only = candidates_in_view(session, (124.0, 38.0, 126.0, 40.0), 8)
        of_scan = candidates_in_view(session, WORLD, 8, scan_id="scan-2")
        strong = candidates_in_view(session, WORLD, 8, min_score=0.35)
    assert {item["id"] for item in west_only.items} == {"w0", "w1", "w2", "w3"}
    assert {item["id"] for item in of_scan.items} == {"e0", "e1", "e2"}
    assert {item["id"] for item in strong.items} == {"w3", "e0", "e1", "e2"}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"zoom": 23}, "zoom: 23 is out of range"),
        ({"zoom": -1}, "zoom: -1 is out of range"),
        ({"zoom": 5, "min_score": float("nan")}, "min_score: nan is out of range"),
        ({"zoom": 5, "min_score": 2.0}, "min_score: 2 is out of range"),
    ],
)
def test_out_of_range_options_are_one_line_input_errors(
    filled: Workspace, options: dict[str, float], message: str
) -> None:
    with filled.session() as session, pytest.raises(InputError, match=message):
        candidates_in_view(session, WORLD, **options)  # type: ignore[arg-type]


def test_an_unknown_scan_is_not_found(filled: Workspace) -> None:
    with filled.session() as session, pytest.raises(NotFoundError, match="no scan"):
        candidates_in_view(session, WORLD, 5, scan_id="nope")


def test_reading_the_view_writes_nothing(filled: Workspace) -> None:
    with filled.session() as session:
        candidates_in_view(session, WORLD, 6, max_points=1)
        assert not (session.new or session.dirty or session.deleted)
        assert session.scalar(select(func.count()).select_from(Candidate)) == 7


def test_cells_are_narrower_in_latitude_away_from_the_equator() -> None:
    lon_cell, lat_cell = cell_size((124.0, 38.0, 131.0, 43.0), 7)
    assert lon_cell == pytest.approx(360 / (128 * limits.MAP_CELLS_PER_TILE))
    assert lat_cell == pytest.approx(lon_cell * 0.7604, rel=1e-3)


def test_clusters_are_the_same_on_postgresql(tmp_path, postgres_url: str) -> None:  # type: ignore[no-untyped-def]
    with init_workspace(tmp_path / "ws") as workspace:
        assert workspace.engine.dialect.name == "postgresql"
        with workspace.session() as session:
            _fill(session)
        with workspace.session() as session:
            view = candidates_in_view(session, WORLD, 6, max_points=6)
    assert view.kind == "clusters"
    assert sorted(c["count"] for c in view.items) == [3, 4]
