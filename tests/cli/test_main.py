"""Top-level commands: init, db, errors as one line, the lazy command table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from sitewatch.cli.main import COMMANDS, app, load_command
from sitewatch.db.engine import shipped_revision
from tests.cli.conftest import RunCli


def test_init_and_db_status(cli: RunCli) -> None:
    result = cli("db", "status")
    assert result.exit_code == 0
    assert f"schema: {shipped_revision()}" in result.output


def test_missing_workspace_is_one_line_and_nonzero(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["--workspace", str(tmp_path / "none"), "db", "status"])
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:")


def test_db_upgrade_is_idempotent(cli: RunCli) -> None:
    assert cli("db", "upgrade").exit_code == 0
    assert f"-> {shipped_revision()}" in cli("db", "upgrade").output


def test_the_listed_help_of_each_command_is_its_own() -> None:
    """``--help`` lists commands without importing them; the lines must not drift."""
    for name, entry in COMMANDS.items():
        command = load_command(name)
        assert command.get_short_help_str(limit=500) == entry.short_help, name


def test_help_lists_every_command_and_runs_one() -> None:
    listed = CliRunner().invoke(app, ["--help"])
    assert listed.exit_code == 0
    assert all(name in listed.output for name in COMMANDS)
    sub = CliRunner().invoke(app, ["ledger", "--help"])
    assert sub.exit_code == 0 and "verify-package" in sub.output


def test_short_commands_load_no_database_raster_or_cluster_code() -> None:
    """What ``--version`` and ``--help`` import: nothing of the heavy stack (rasterio's rio
    loads a subcommand's code only when it runs; so do we). Counted in modules, not seconds."""
    heavy = (
        "sqlalchemy",
        "rasterio",
        "xarray",
        "dask",
        "numpy",
        "onnxruntime",
        "torch",
        "fastapi",
        "starlette",
        "uvicorn",
        "argon2",
        "jinja2",
    )
    probe = (
        "import sys\n"
        "from sitewatch.cli.main import app\n"
        "import sitewatch.cli.options\n"  # shared by the commands: must stay as light
        "from typer.testing import CliRunner\n"
        "for args in (['--version'], ['--help']):\n"
        "    assert CliRunner().invoke(app, args).exit_code == 0\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r}))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout
