"""CLI test helpers: run ``sitewatch`` in-process against a temporary workspace."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from sitewatch.cli.main import app

RunCli = Callable[..., Result]


@pytest.fixture
def cli(tmp_path: Path) -> RunCli:
    """``cli("sites", "list")`` runs sitewatch with ``--workspace`` set to a fresh workspace."""
    runner = CliRunner()
    root = tmp_path / "cli-ws"
    init = runner.invoke(app, ["init", str(root)])
    assert init.exit_code == 0, init.output

    def run(*args: str, env: dict[str, str] | None = None) -> Result:
        return runner.invoke(app, ["--workspace", str(root), *args], env=env)

    run.root = root  # type: ignore[attr-defined]
    return run
