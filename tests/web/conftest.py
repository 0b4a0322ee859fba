"""A workbench over a small workspace: three roles, sites, a scene, a declaration, verdicts."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import Point
from sqlalchemy import func, select

from sitewatch.auth.users import add_user
from sitewatch.catalog.records import SiteRecord
from sitewatch.catalog.sites import add_site
from sitewatch.db.models import LedgerEntry
from sitewatch.demo.runner import DemoResult, run_demo
from sitewatch.evidence.keys import create_key
from sitewatch.verify.service import verify_declaration
from sitewatch.verify.store import import_declaration
from sitewatch.web.app import create_app
from sitewatch.workspace import Workspace, init_workspace, open_workspace
from tests.cli.conftest import cli  # noqa: F401  (the command line, for `serve`)
from tests.verify.rows import SINO_RI, add_scene, add_sites, declaration_file

PASSWORD = "correct horse battery"
#: name -> role; "alice" has a signing key on the server, "bob" (an analyst too) has none.
USERS = {"vera": "viewer", "alice": "analyst", "bob": "analyst", "ada": "admin"}
HOSTILE_NAME = "<script>alert('x')</script> & Co"


@dataclass
class Workbench:
    """The app's workspace folder, a fresh client factory and a ledger counter."""

    root: Path
    client: Callable[[], TestClient]

    def ledger_count(self) -> int:
        with open_workspace(self.root) as workspace, workspace.session() as session:
            return int(session.scalar(select(func.count()).select_from(LedgerEntry)) or 0)

    def signed_in(self, name: str) -> tuple[TestClient, str]:
        """A client signed in as ``name`` and its CSRF token."""
        client = self.client()
        answer = client.post("/api/login", json={"name": name, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        return client, answer.json()["csrf_token"]


def _fill(workspace: Workspace, tmp_path: Path) -> None:
    with workspace.session() as session:
        add_sites(session)
        add_site(session, SiteRecord(id="hostile", name=HOSTILE_NAME, geometry=Point(1, 1)))
        add_scene(session, "scene-2023-03-01", date(2023, 3, 1), SINO_RI)
        for name, role in USERS.items():
            add_user(session, name, role, PASSWORD)
    create_key(workspace, "alice")
    base = {"lat": SINO_RI[1], "lon": SINO_RI[0], "category": "missile-operating-base"}
    path = declaration_file(tmp_path, [{**base, "name": "Sino-ri", "status": "operational"}])
    declaration = import_declaration(workspace, path)
    with workspace.session() as session:
        verify_declaration(session, declaration.id)


@pytest.fixture(scope="module")
def _filled_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built once per test module (argon2 hashing is deliberately slow); each test gets a
    copy, so what one test writes no other sees."""
    root = tmp_path_factory.mktemp("web") / "ws"
    with init_workspace(root) as workspace:
        _fill(workspace, root.parent)
    return root


@pytest.fixture
def bench(_filled_workspace: Path, tmp_path: Path) -> Iterator[Workbench]:
    yield from _workbench(_filled_workspace, tmp_path)


@dataclass
class DemoBench(Workbench):
    """A workbench over the demo's workspace: a site with two scenes (with files), a run
    with change objects, a declaration with verdicts; the same users as :func:`bench`."""

    demo: DemoResult


@pytest.fixture(scope="session")
def _demo_workspace(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DemoResult]:
    """``sitewatch demo`` once per test session (about 16 s), with the users added."""
    result = run_demo(tmp_path_factory.mktemp("web-demo") / "ws")
    with open_workspace(result.workspace) as workspace:
        with workspace.session() as session:
            for name, role in USERS.items():
                add_user(session, name, role, PASSWORD)
        create_key(workspace, "alice")
    return result.workspace, result


@pytest.fixture
def demo_bench(_demo_workspace: tuple[Path, DemoResult], tmp_path: Path) -> Iterator[DemoBench]:
    source, result = _demo_workspace
    for plain in _workbench(source, tmp_path):
        yield DemoBench(plain.root, plain.client, result)


def _workbench(source: Path, tmp_path: Path) -> Iterator[Workbench]:
    """A copy of the workspace ``source`` (so what one test writes no other sees) served
    by apps made on demand, closed afterwards."""
    root = tmp_path / "ws"
    shutil.copytree(source, root)
    apps = []

    def client() -> TestClient:
        test_client = TestClient(create_app(root), follow_redirects=False)
        apps.append(test_client)
        return test_client

    yield Workbench(root, client)
    for test_client in apps:
        test_client.close()
