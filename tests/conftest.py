"""Fixtures shared by the whole suite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sitewatch.workspace import ENV_DB_URL, ENV_WORKSPACE, Workspace, init_workspace
from tests.support.postgres import PostgresServer, postgres_bin, running_postgres

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def shared_data(*parts: str) -> Path:
    """A path under ../shared/data, skipping the test with a reason when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real imagery not available: {path} is absent (it is present in CI)")
    return path


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may pick up the developer's own workspace or database."""
    monkeypatch.delenv(ENV_WORKSPACE, raising=False)
    monkeypatch.delenv(ENV_DB_URL, raising=False)


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    """A fresh, empty workspace in a temporary folder."""
    with init_workspace(tmp_path / "ws") as ws:
        yield ws


@pytest.fixture(scope="session")
def demo_workspace_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic demo's workspace (scenes, a detection run), built once per session
    (~10 s): tests only read it, or copy it before writing."""
    from sitewatch.demo.runner import run_demo

    return run_demo(tmp_path_factory.mktemp("demo") / "ws").workspace


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One real PostgreSQL server for the session (skipped where none is installed)."""
    if postgres_bin() is None:
        pytest.skip("PostgreSQL server binaries are not installed (.ci/run installs them)")
    with running_postgres() as server:
        yield server


@pytest.fixture
def postgres_url(postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh PostgreSQL database, also set as SITEWATCH_DB_URL for the test."""
    url = postgres_server.new_database()
    monkeypatch.setenv(ENV_DB_URL, url)
    return url
