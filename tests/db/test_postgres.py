"""The same schema, migrations and services on a real PostgreSQL server."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from shapely.geometry import Point
from sqlalchemy import inspect

from sitewatch.catalog.aoi import site_area_of_interest
from sitewatch.catalog.records import SiteRecord
from sitewatch.catalog.reference import load_reference
from sitewatch.catalog.sites import add_site, get_site, import_sites, list_sites
from sitewatch.db.engine import current_revision
from sitewatch.db.migrate import head_revision
from sitewatch.imagery.ingest import add_scenes
from sitewatch.imagery.search import find_scenes
from sitewatch.imagery.stack import load_site_stack
from sitewatch.workspace import init_workspace
from tests.conftest import shared_data


def test_migrations_and_catalog_on_postgres(tmp_path: Path, postgres_url: str) -> None:
    with init_workspace(tmp_path / "ws") as workspace:
        assert workspace.engine.dialect.name == "postgresql"
        assert current_revision(workspace.engine) == head_revision()
        assert {"sites", "site_sources", "scenes", "scene_assets"} <= set(
            inspect(workspace.engine).get_table_names()
        )
        records = load_reference("dprk")
        with workspace.session() as session:
            import_sites(session, records)
        with workspace.session() as session:
            sites = list_sites(session, country="PRK")
            assert len(sites) == len(records)
            sino_ri = get_site(session, "sino-ri")
            assert sino_ri.geometry.equals_exact(Point(125.355288, 39.644929), 1e-9)
            assert sino_ri.created_at.tzinfo is not None
            assert sino_ri.sources


def test_imagery_and_stack_on_postgres(tmp_path: Path, postgres_url: str) -> None:
    paris = shared_data("oscd", "images", "paris")
    with init_workspace(tmp_path / "ws") as workspace:
        with workspace.session() as session:
            add_scenes(session, [paris / "imgs_1", paris / "imgs_2"])
            again = add_scenes(session, [paris / "imgs_1"])
            assert again[0].status == "present"
        with workspace.session() as session:
            add_site(session, SiteRecord(name="Paris", geometry=Point(2.333, 48.821)))
        with workspace.session() as session:
            area = site_area_of_interest(get_site(session, "paris"))
            scenes = find_scenes(session, area, start=datetime(2017, 1, 1, tzinfo=UTC))
            assert [scene.datetime.date().isoformat() for scene in scenes] == ["2017-11-07"]
        stack = load_site_stack(workspace, "paris", bands=["B04", "B08"])
        assert stack.shape[:2] == (2, 2)
        assert str(stack.rio.crs) == "EPSG:32631"
