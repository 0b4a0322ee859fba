"""Workspace creation and discovery."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from sitewatch.db.engine import current_revision
from sitewatch.db.migrate import head_revision
from sitewatch.errors import WorkspaceError
from sitewatch.workspace import init_workspace, open_workspace


def test_init_creates_config_wal_database_and_products(tmp_path: Path) -> None:
    with init_workspace(tmp_path / "w") as ws:
        assert (ws.root / "sitewatch.toml").is_file()
        assert ws.products.is_dir()
        assert current_revision(ws.engine) == head_revision()
    mode = (
        sqlite3.connect(tmp_path / "w" / "sitewatch.db").execute("PRAGMA journal_mode").fetchone()
    )
    assert mode[0] == "wal"


def test_init_twice_keeps_config(tmp_path: Path) -> None:
    init_workspace(tmp_path, name="first").close()
    init_workspace(tmp_path, name="second").close()
    assert 'name = "first"' in (tmp_path / "sitewatch.toml").read_text()


def test_found_from_a_subfolder_like_git(tmp_path: Path) -> None:
    init_workspace(tmp_path).close()
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    with open_workspace(start=deep) as ws:
        assert ws.root == tmp_path.resolve()


def test_environment_variable_wins_over_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    init_workspace(tmp_path / "env").close()
    monkeypatch.setenv("SITEWATCH_WORKSPACE", str(tmp_path / "env"))
    with open_workspace(start=tmp_path) as ws:
        assert ws.root == (tmp_path / "env").resolve()


def test_database_url_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    init_workspace(tmp_path / "w").close()
    other = tmp_path / "elsewhere.db"
    monkeypatch.setenv("SITEWATCH_DB_URL", f"sqlite:///{other}")
    init_workspace(tmp_path / "w").close()
    assert other.exists()


def test_no_workspace_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="no sitewatch workspace"):
        open_workspace(start=tmp_path)


def test_old_schema_is_refused(tmp_path: Path) -> None:
    init_workspace(tmp_path).close()
    sqlite3.connect(tmp_path / "sitewatch.db").execute(
        "DELETE FROM alembic_version"
    ).connection.commit()
    with pytest.raises(WorkspaceError, match="sitewatch db upgrade"):
        open_workspace(tmp_path)


def test_package_exposes_the_service_api_lazily() -> None:
    import sitewatch

    for name in sitewatch.__all__:
        assert getattr(sitewatch, name) is not None
    with pytest.raises(AttributeError):
        _ = sitewatch.no_such_function
