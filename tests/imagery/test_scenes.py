"""Listing scenes by site, box and period."""

from __future__ import annotations

import pytest
from shapely.geometry import Point

from sitewatch.db.models import Site
from sitewatch.errors import InputError, NotFoundError
from sitewatch.imagery.ingest import add_scenes
from sitewatch.imagery.scenes import get_scene, list_scenes, scene_details
from sitewatch.workspace import Workspace
from tests.imagery.ingest_helpers import oscd_scene


@pytest.fixture
def paris(workspace: Workspace) -> Workspace:
    """Paris 2016 and 2017, Nantes 2016, and sites in Paris and in Marseille."""
    with workspace.session() as session:
        add_scenes(
            session, [oscd_scene("paris", 2), oscd_scene("paris", 1), oscd_scene("nantes", 1)]
        )
        for site_id, lon, lat in [("paris-site", 2.33, 48.82), ("marseille", 5.37, 43.30)]:
            site = Site(id=site_id, name=site_id, geometry=Point(lon, lat), uncertainty_m=500)
            site.set_bbox(site.geometry)
            session.add(site)
    return workspace


def _dates(scenes: list) -> list[str]:
    return [scene.datetime.date().isoformat() for scene in scenes]


def test_scenes_covering_a_site_in_date_order(paris: Workspace) -> None:
    with paris.session() as session:
        assert _dates(list_scenes(session, site_id="paris-site")) == ["2016-11-30", "2017-11-07"]
        assert list_scenes(session, site_id="marseille") == []
        assert len(list_scenes(session)) == 3


def test_buffer_widens_a_point_site(paris: Workspace) -> None:
    with paris.session() as session:
        site = Site(id="west", name="west", geometry=Point(2.28, 48.82), uncertainty_m=500)
        site.set_bbox(site.geometry)
        session.add(site)
        session.flush()
        # The Paris scenes end ~2.2 km east of this point: its own 500 m disc misses them.
        assert list_scenes(session, site_id="west") == []
        assert len(list_scenes(session, site_id="west", buffer_m=3000)) == 2
        with pytest.raises(InputError, match="--buffer"):
            list_scenes(session, site_id="west", buffer_m=-1)


def test_period_and_box_filters(paris: Workspace) -> None:
    with paris.session() as session:
        assert _dates(list_scenes(session, site_id="paris-site", start_text="2017-01-01")) == [
            "2017-11-07"
        ]
        # A bare --to date includes that day's scenes.
        assert _dates(
            list_scenes(session, end_text="2016-11-30", bbox_text="2.3,48.8,2.4,48.9")
        ) == ["2016-11-30"]


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"start_text": "last week"}, "--from"),
        ({"end_text": "2017-02-30"}, "--to"),
        ({"bbox_text": "2.3,48.8,2.4"}, "--bbox"),
        ({"bbox_text": "2.4,48.8,2.3,48.9"}, "--bbox"),
    ],
)
def test_bad_filters_name_the_option(paris: Workspace, options: dict, named: str) -> None:
    with pytest.raises(InputError, match=named), paris.session() as session:
        list_scenes(session, **options)


def test_unknown_site_and_scene(paris: Workspace) -> None:
    with paris.session() as session:
        with pytest.raises(NotFoundError, match="nowhere"):
            list_scenes(session, site_id="nowhere")
        with pytest.raises(NotFoundError, match="scene-0"):
            get_scene(session, "scene-0")
        scene = list_scenes(session, site_id="paris-site")[0]
        details = scene_details(get_scene(session, scene.id))
        assert len(details["assets"]) == 13 and details["crs"] == "EPSG:4326"
