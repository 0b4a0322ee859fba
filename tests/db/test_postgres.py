"""The same schema, migrations and services on a real PostgreSQL server."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
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


def test_users_sessions_and_lockout_on_postgres(tmp_path: Path, postgres_url: str) -> None:
    """Migration 0005 and the user service on PostgreSQL: lockout counts survive the
    refused sign-in, and removing a user removes their sessions (ON DELETE CASCADE)."""
    from sitewatch.auth.sessions import open_session, resolve_session
    from sitewatch.auth.users import MAX_FAILED_LOGINS, add_user, authenticate, remove_user
    from sitewatch.db.models import User, WebSession
    from sitewatch.errors import LoginRefused

    with init_workspace(tmp_path / "ws") as workspace:
        assert {"users", "web_sessions"} <= set(inspect(workspace.engine).get_table_names())
        with workspace.session() as session:
            add_user(session, "vera", "viewer", "correct horse battery")
        user = authenticate(workspace, "vera", "correct horse battery")
        with workspace.session() as session:
            token = open_session(session, user).token
        with workspace.session() as session:
            signed_in = resolve_session(session, token)
            assert signed_in is not None and signed_in.role == "viewer"
        for _ in range(MAX_FAILED_LOGINS):
            with pytest.raises(LoginRefused, match="wrong name or password"):
                authenticate(workspace, "vera", "a wrong guess!")
        with pytest.raises(LoginRefused, match="locked"):
            authenticate(workspace, "vera", "correct horse battery")
        with workspace.session() as session:
            locked = session.get(User, "vera")
            assert locked is not None and locked.locked_until is not None
            remove_user(session, "vera")
        with workspace.session() as session:
            assert session.query(WebSession).count() == 0
            assert resolve_session(session, token) is None
