"""Top-level commands: init, db, errors as one line."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from sitewatch.cli.main import app
from tests.cli.conftest import RunCli


def test_init_and_db_status(cli: RunCli) -> None:
    result = cli("db", "status")
    assert result.exit_code == 0
    assert "schema: 0004" in result.output


def test_missing_workspace_is_one_line_and_nonzero(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["--workspace", str(tmp_path / "none"), "db", "status"])
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:")


def test_db_upgrade_is_idempotent(cli: RunCli) -> None:
    assert cli("db", "upgrade").exit_code == 0
    assert "-> 0004" in cli("db", "upgrade").output
