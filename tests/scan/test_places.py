"""Places of a scan: candidates grouped and ranked by the shipped place model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sitewatch.analysis.places import PLACE_FEATURES
from sitewatch.db.models import Candidate, LedgerEntry
from sitewatch.errors import ConflictError, InputError
from sitewatch.evidence.ledger import verify_ledger
from sitewatch.scan.places import dismiss_place, list_places, load_place_model, place_of
from sitewatch.workspace import Workspace
from tests.scan.candidate_rows import add_candidate, add_scan


@pytest.fixture
def scattered(workspace: Workspace) -> Workspace:
    """Two touching candidates (one place), a far one, and one of another scan on top."""
    with workspace.session() as session:
        add_scan(session)
        add_scan(session, "scan-2")
        session.flush()
        add_candidate(session, "west", score=6.0, lon=125.1)
        add_candidate(session, "east", score=7.0, lon=125.102).edge = True  # shares an edge
        add_candidate(session, "far", score=7.0, lon=125.2)
        add_candidate(session, "other-scan", score=7.0, lon=125.1, scan_id="scan-2")
    return workspace


def test_touching_candidates_are_one_place_named_by_the_stronger(scattered: Workspace) -> None:
    with scattered.session() as session:
        places = list_places(session, scan_id="scan-1")
        by_id = {place.id: place for place in places}
        assert set(by_id) == {"east", "far"}
        joined = by_id["east"]
        assert [member.id for member in joined.members] == ["east", "west"]
        assert joined.edge and not by_id["far"].edge
        assert joined.outline.geom_type == "Polygon"  # the halves are one outline
        assert joined.area_m2 == pytest.approx(2 * 31_416.0)
        data = joined.as_dict(members=False)
        assert data["members"] == ["east", "west"] and data["member_count"] == 2
        assert 0.0 < data["probability"] < 1.0
        # It touches nodata: listed lower than its probability, which stays calibrated.
        assert data["listed_by"] < data["probability"]
        assert by_id["far"].listed_by == by_id["far"].probability
        # Places never cross scans; the best place comes first and limit counts places.
        everything = list_places(session)
        assert {place.scan_id for place in everything} == {"scan-1", "scan-2"}
        assert len(list_places(session, limit=1)) == 1
        listed = [place.listed_by for place in everything]
        assert listed == sorted(listed, reverse=True)
        with pytest.raises(InputError, match="--limit"):
            list_places(session, limit=0)


def test_dismissing_a_part_dismisses_its_place_and_nothing_else(scattered: Workspace) -> None:
    with scattered.session() as session:
        with pytest.raises(InputError, match="--reason"):  # refused before anything is written
            dismiss_place(session, "west", "  ")
        assert session.query(LedgerEntry).count() == 0
        place = place_of(session, "west")
        assert place is not None and place.id == "east"
        dismissed = dismiss_place(session, "west", "a new car park")
        assert [candidate.id for candidate in dismissed] == ["west", "east"]  # named first
        statuses = {c.id: (c.status, c.status_reason) for c in session.query(Candidate)}
        assert statuses["east"] == statuses["west"] == ("dismissed", "a new car park")
        assert statuses["far"][0] == statuses["other-scan"][0] == "new"
        entries = session.query(LedgerEntry).filter_by(kind="candidate.dismiss").all()
        assert sorted(entry.subject_id for entry in entries) == ["east", "west"]
        assert [p.id for p in list_places(session, scan_id="scan-1")] == ["far"]
        assert place_of(session, "east") is None  # decided: in no place of new candidates
        with pytest.raises(ConflictError, match="already dismissed"):
            dismiss_place(session, "east", "again")
        # A place on its own is the candidate alone.
        assert [c.id for c in dismiss_place(session, "far", "a flooded field")] == ["far"]
    assert verify_ledger(scattered).ok


def test_a_model_file_of_other_features_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "model.json"
    broken.write_text("{}")
    with pytest.raises(InputError, match="model features"):
        load_place_model(str(broken))
    assert load_place_model().coefficients.shape == (len(PLACE_FEATURES),)


def test_a_candidates_place_is_found_in_its_neighbourhood_as_in_the_whole_listing(
    workspace: Workspace,
) -> None:
    """place_of looks only around the candidate (a country's scan lists 100,000); chains of
    touching candidates that reach far must still come out whole, as the listing groups them."""
    rng = np.random.default_rng(3)
    with workspace.session() as session:
        add_scan(session)
        session.flush()
        for number, (lon, lat) in enumerate(rng.uniform((125.0, 39.0), (125.04, 39.02), (80, 2))):
            add_candidate(session, f"c{number}", score=float(rng.uniform(4, 8)), lon=lon, lat=lat)
        # A chain of 30 touching squares, 6 km long: its ends are far from each other.
        for step in range(30):
            add_candidate(session, f"chain{step}", score=5.0, lon=125.1 + 0.002 * step, lat=39.1)
        session.flush()
        places = list_places(session, scan_id="scan-1")
        assert max(len(place.members) for place in places) >= 30  # the chain, at least
        for listed in places:
            for member in listed.members:
                found = place_of(session, member.id)
                assert found is not None
                assert {m.id for m in found.members} == {m.id for m in listed.members}
                assert found.probability == pytest.approx(listed.probability)


@pytest.mark.parametrize(("lon", "lat"), [(179.9995, 10.0), (-179.9995, 10.0), (30.0, 89.5)])
def test_near_the_antimeridian_or_a_pole_the_place_comes_from_the_whole_listing(
    workspace: Workspace, lon: float, lat: float
) -> None:
    """There the neighbourhood is no one lon/lat box; the place is still found."""
    with workspace.session() as session:
        add_scan(session)
        session.flush()
        add_candidate(session, "edge-of-map", score=6.0, lon=lon, lat=lat)
        add_candidate(session, "elsewhere", score=6.0, lon=125.1, lat=39.1)
        session.flush()
        place = place_of(session, "edge-of-map")
        assert place is not None and [m.id for m in place.members] == ["edge-of-map"]
