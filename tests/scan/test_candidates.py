"""Candidate triage: listing, nearest site, promotion to the catalog, dismissal, ledger."""

from __future__ import annotations

import json

import numpy as np
import pytest
from rasterio.transform import Affine
from shapely.geometry import Point, box
from sqlalchemy.orm import Session

from sitewatch.analysis.objects import polygonise
from sitewatch.catalog.records import SiteRecord
from sitewatch.catalog.sites import add_site
from sitewatch.db.models import Candidate, LedgerEntry, Scan, Site
from sitewatch.errors import ConflictError, InputError, NotFoundError
from sitewatch.evidence.ledger import verify_ledger
from sitewatch.scan.candidates import (
    KNOWN_WITHIN_M,
    candidate_to_dict,
    dismiss_candidate,
    get_candidate,
    list_candidates,
    nearest_site,
    promote_candidate,
)
from sitewatch.scan.grid import tiles_for
from sitewatch.workspace import Workspace
from tests.scan.candidate_rows import add_candidate, add_scan, write_chips


@pytest.fixture
def triage(workspace: Workspace) -> Workspace:
    """One scan with three new candidates (one known) and one dismissed."""
    chips = write_chips(workspace.products / "scans" / "scan-1", "c-high")
    with workspace.session() as session:
        add_scan(session)
        add_scan(session, "scan-2")
        session.flush()
        add_candidate(session, "c-high", score=9.0, chips=chips)
        add_candidate(session, "c-low", score=2.0, lon=125.15)
        add_candidate(session, "c-known", score=5.0, known=True)
        add_candidate(session, "c-other", score=7.0, scan_id="scan-2")
        add_candidate(session, "c-gone", score=8.0).status = "dismissed"
    return workspace


def _ids(candidates: list[Candidate]) -> list[str]:
    return [candidate.id for candidate in candidates]


def _decisions(session: Session) -> list[LedgerEntry]:
    """The ledger's triage entries (the catalog may add its own "site.add" entry too)."""
    query = session.query(LedgerEntry).filter(LedgerEntry.kind.like("candidate.%"))
    return query.order_by(LedgerEntry.seq).all()


def test_list_sorts_by_score_and_filters(triage: Workspace) -> None:
    with triage.session() as session:
        assert _ids(list_candidates(session)) == ["c-high", "c-other", "c-low"]
        assert _ids(list_candidates(session, scan_id="scan-1")) == ["c-high", "c-low"]
        assert _ids(list_candidates(session, include_known=True, limit=3)) == [
            "c-high",
            "c-other",
            "c-known",
        ]
        assert _ids(list_candidates(session, status="dismissed")) == ["c-gone"]
        assert len(list_candidates(session, status=None, include_known=True)) == 5
        with pytest.raises(InputError, match="status"):
            list_candidates(session, status="maybe")
        with pytest.raises(NotFoundError, match="no scan"):
            list_candidates(session, scan_id="nope")


def test_show_has_every_field(triage: Workspace) -> None:
    with triage.session() as session:
        data = candidate_to_dict(get_candidate(session, "c-high"))
        with pytest.raises(NotFoundError, match="no candidate with id 'x'"):
            get_candidate(session, "x")
    assert data["score"] == 9.0 and data["max_score"] == 13.5 and data["area_m2"] == 31_416.0
    assert data["tile_key"] == "12_34" and data["scan_id"] == "scan-1"
    assert data["chips"]["after"].endswith("c-high_after.png")
    assert data["geometry"].startswith("POLYGON") and data["status"] == "new"
    json.dumps(data)


def test_nearest_site_measures_on_the_ground(workspace: Workspace) -> None:
    with workspace.session() as session:
        assert nearest_site(session, Point(125.1, 39.1)) is None
        add_site(session, SiteRecord(id="far", name="far", geometry=Point(125.3, 39.1)))
        add_site(
            session, SiteRecord(id="area", name="area", geometry=box(125.0, 39.0, 125.1, 39.1))
        )
        add_site(session, SiteRecord(id="unlocated", name="unlocated"))
        inside = nearest_site(session, Point(125.05, 39.05))
        east = nearest_site(session, Point(125.11, 39.05))
    assert inside is not None and (inside.site_id, inside.distance_m) == ("area", 0.0)
    assert inside.known
    # 0.01 degree of longitude at 39 N is about 865 m.
    assert east is not None and east.site_id == "area"
    assert east.distance_m == pytest.approx(865, abs=5) and east.distance_m < KNOWN_WITHIN_M


def test_promote_creates_a_site_with_provenance_and_a_ledger_entry(triage: Workspace) -> None:
    with triage.session() as session:
        site = promote_candidate(
            session,
            "c-high",
            site_id="new-base",
            name="New base",
            category="missile operating base",
        )
    with triage.session() as session:
        site = session.get(Site, "new-base")
        candidate = session.get(Candidate, "c-high")
        (entry,) = session.query(LedgerEntry).filter_by(kind="candidate.promote").all()
        assert site.name == "New base" and site.category == "missile-operating-base"
        assert site.geometry.equals(candidate.geometry)
        assert site.uncertainty_m == 100.0  # a disc of 31 416 m2 has a 100 m radius
        assert "scan-1" in site.notes and "cva" in site.notes and "2019-03-01" in site.notes
        assert site.sources[0].title == "sitewatch scan scan-1, tile 12_34, candidate c-high"
        assert (candidate.status, candidate.promoted_site_id) == ("promoted", "new-base")
        assert (entry.site_id, entry.subject_id) == ("new-base", "c-high")
        payload = json.loads(entry.payload)
        assert payload["candidate"]["score"] == 9.0
        assert payload["candidate"]["scan"]["after"][0].startswith("2019-03-01")
        assert payload["site"]["id"] == "new-base" and payload["previous_status"] == "new"
        assert sorted(file["path"] for file in entry.files) == [
            "products/scans/scan-1/c-high_after.png",
            "products/scans/scan-1/c-high_before.png",
        ]
    assert verify_ledger(triage).ok


def test_promote_defaults_and_dismissed_candidates_can_be_promoted(triage: Workspace) -> None:
    with triage.session() as session:
        site = promote_candidate(session, "c-gone")
        assert (site.id, site.name, site.category) == (
            "scan-candidate-c-gone",
            "Scan candidate c-gone",
            "other",
        )
        entry = _decisions(session)[0]
        assert json.loads(entry.payload)["previous_status"] == "dismissed" and entry.files == []


def test_an_outline_touching_itself_at_a_pixel_corner_is_promoted_as_its_parts(
    triage: Workspace,
) -> None:
    """Two blocks of changed pixels meeting at one corner are one 8-connected object, which
    the polygoniser traces as one ring through that corner twice: a faithful outline, but
    not a valid OGC polygon, so the catalog refused it until promotion repaired it."""
    mask = np.zeros((6, 6), dtype=bool)
    mask[1:3, 1:3] = mask[3:5, 3:5] = True
    grid = Affine(10.0, 0.0, 400_000.0, 0.0, -10.0, 4_420_000.0)
    (pinched,) = polygonise(mask, mask.astype(np.float32), transform=grid, crs="EPSG:32652")
    assert not pinched.geometry.is_valid
    with triage.session() as session:
        candidate = add_candidate(session, "c-pinched", score=3.0)
        candidate.geometry = pinched.geometry
        site = promote_candidate(session, "c-pinched", site_id="pinched")
        footprint = site.geometry
    assert footprint.is_valid and footprint.geom_type == "MultiPolygon"
    assert len(footprint.geoms) == 2
    assert footprint.symmetric_difference(pinched.geometry).area < 1e-15
    assert footprint.area == pytest.approx(pinched.geometry.area, rel=1e-12)


def _engine_id(scan: Scan, lon: float, lat: float, number: int = 1) -> str:
    """The id the scan engine gives a candidate there: SCAN:TILE:NUMBER."""
    (tile,) = tiles_for(Point(lon, lat).buffer(1e-7), scan.tile_size_m, 10.0)
    return f"{scan.id}:{tile.key}:{number}"


def test_promoting_flags_the_new_candidates_near_the_new_site_as_known(
    workspace: Workspace,
) -> None:
    """Another part of the same place (~260 m east, on the next tile) leaves the "new" list
    when the first becomes a site, as does the same place found by another scan; a
    candidate ~4 km away and a dismissed one nearby stay as they were."""
    with workspace.session() as session:
        scans = [add_scan(session, name) for name in ("scan-a", "scan-b")]
        for scan in scans:
            scan.parameters = {**scan.parameters, "resolution_m": 10.0}
            scan.crs = "EPSG:32651"
        session.flush()
        # A tile edge (2.56 km grid of zone 51) runs at 125.1222 E between these two.
        spots = {
            "promoted": (scans[0], 125.12, 39.1),
            "near": (scans[0], 125.125, 39.1),
            "other scan": (scans[1], 125.12, 39.1),
            "far": (scans[0], 125.17, 39.1),
            "dismissed": (scans[0], 125.12, 39.103),
        }
        ids = {
            name: _engine_id(scan, lon, lat, number)
            for number, (name, (scan, lon, lat)) in enumerate(spots.items(), start=1)
        }
        assert ids["promoted"].rsplit(":", 1)[0] != ids["near"].rsplit(":", 1)[0]
        for name, (scan, lon, lat) in spots.items():
            add_candidate(session, ids[name], score=4.0, scan_id=scan.id, lon=lon, lat=lat)
        session.get(Candidate, ids["dismissed"]).status = "dismissed"
        session.flush()
        promote_candidate(session, ids["promoted"], site_id="new-base")
    with workspace.session() as session:
        near = session.get(Candidate, ids["near"])
        assert near.known and near.nearest_site_id == "new-base"
        assert near.nearest_site_m == pytest.approx(259, abs=3)  # 0.003 deg of lon at 39.1 N
        assert not session.get(Candidate, ids["far"]).known
        assert session.get(Candidate, ids["dismissed"]).nearest_site_id is None
        assert _ids(list_candidates(session)) == [ids["far"]]
        (entry,) = session.query(LedgerEntry).filter_by(kind="candidate.promote").all()
        assert json.loads(entry.payload)["now_known"] == sorted([ids["near"], ids["other scan"]])


def test_repeated_or_conflicting_decisions_change_nothing(triage: Workspace) -> None:
    with triage.session() as session:
        promote_candidate(session, "c-high", site_id="new-base")
    with triage.session() as session:
        with pytest.raises(ConflictError, match="already promoted to site 'new-base'"):
            promote_candidate(session, "c-high")
        with pytest.raises(ConflictError, match="already promoted as site 'new-base'"):
            dismiss_candidate(session, "c-high", "cloud")
        with pytest.raises(ConflictError, match="already dismissed"):
            dismiss_candidate(session, "c-gone", "again")
        # A site id that exists already: the candidate stays new and nothing is recorded.
        with pytest.raises(ConflictError, match="already exists"):
            promote_candidate(session, "c-low", site_id="new-base")
    with triage.session() as session:
        assert session.get(Candidate, "c-low").status == "new"
        assert len(_decisions(session)) == 1


def test_dismiss_records_the_reason(triage: Workspace) -> None:
    with triage.session() as session:
        with pytest.raises(InputError, match="needs a reason"):
            dismiss_candidate(session, "c-low", "  ")
        dismiss_candidate(session, "c-low", "seasonal flooding of a paddy field")
    with triage.session() as session:
        candidate = session.get(Candidate, "c-low")
        (entry,) = _decisions(session)
    assert (candidate.status, candidate.status_reason) == (
        "dismissed",
        "seasonal flooding of a paddy field",
    )
    assert (entry.kind, entry.subject_id, entry.site_id) == ("candidate.dismiss", "c-low", None)
    assert json.loads(entry.payload)["reason"] == "seasonal flooding of a paddy field"
