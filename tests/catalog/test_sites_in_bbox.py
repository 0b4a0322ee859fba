"""The sites of a map viewport, found on the bbox columns, and their marker fields."""

from __future__ import annotations

from shapely.geometry import Point, box

from sitewatch.catalog.records import SiteRecord
from sitewatch.catalog.sites import add_site, site_marker_to_dict, sites_in_bbox
from sitewatch.workspace import Workspace


def test_a_viewport_holds_the_sites_whose_bounds_meet_it(workspace: Workspace) -> None:
    with workspace.session() as session:
        add_site(session, SiteRecord(id="point", name="P", geometry=Point(125.5, 39.6)))
        add_site(session, SiteRecord(id="wide", name="W", geometry=box(124.0, 38.0, 125.1, 39.1)))
        add_site(session, SiteRecord(id="far", name="F", geometry=Point(10, 10)))
        add_site(session, SiteRecord(id="nowhere", name="N"))
        found = sites_in_bbox(session, (125.0, 39.0, 126.0, 40.0))
        assert [site.id for site in found] == ["point", "wide"]
        assert sites_in_bbox(session, (0.0, 0.0, 1.0, 1.0)) == []
        assert not (session.new or session.dirty)


def test_a_marker_shows_stored_control_characters_as_visible_escapes(
    workspace: Workspace,
) -> None:
    with workspace.session() as session:
        add_site(session, SiteRecord(id="p", name="Sino-ri", geometry=Point(125.5, 39.6)))
        site = sites_in_bbox(session, (125.0, 39.0, 126.0, 40.0))[0]
        site.name = "bad\u202ename"  # as an older version could have stored it
        marker = site_marker_to_dict(site)
        session.rollback()
    assert marker["name"] != "bad\u202ename" and "\u202e" not in marker["name"]
    assert (marker["lon"], marker["lat"], marker["declared"]) == (125.5, 39.6, False)
