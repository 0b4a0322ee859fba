"""``sitewatch declare import`` killed or interrupted on either side of its commit: the
copy the ledger entry names is in place whenever the entry is committed."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sitewatch.cli.main import app
from sitewatch.errors import ExitCode
from sitewatch.workspace import Workspace
from tests.support.crash import LEDGER_COMMIT, LEDGER_RECORD, run_crashing
from tests.verify.rows import declaration_file

BASE = {"category": "missile-operating-base"}
COPY = Path("products", "declarations", "dprk-2023-01-01-1.json")


@pytest.mark.parametrize(("action", "code"), [("kill", -signal.SIGKILL), ("interrupt", 130)])
def test_a_crash_after_the_commit_keeps_the_named_copy(
    workspace: Workspace, tmp_path: Path, action: str, code: int
) -> None:
    path = declaration_file(tmp_path, [{"name": "Sino-ri", "status": "operational", **BASE}])
    crashed = run_crashing(
        action, "after", LEDGER_COMMIT, "--workspace", str(workspace.root), "declare", "import",
        str(path),
    )  # fmt: skip
    assert crashed.returncode == code, crashed.stderr
    assert (workspace.root / COPY).read_bytes() == path.read_bytes()
    verify = CliRunner().invoke(app, ["--workspace", str(workspace.root), "ledger", "verify"])
    assert verify.exit_code == 0, verify.output


def test_a_crash_before_the_commit_leaves_a_copy_the_next_import_replaces(
    workspace: Workspace, tmp_path: Path
) -> None:
    first = declaration_file(tmp_path, [{"name": "Sino-ri", "status": "operational", **BASE}])
    crashed = run_crashing(
        "kill", "after", LEDGER_RECORD, "--workspace", str(workspace.root), "declare", "import",
        str(first),
    )  # fmt: skip
    assert crashed.returncode == -signal.SIGKILL
    cli = CliRunner()
    assert cli.invoke(app, ["--workspace", str(workspace.root), "ledger", "verify"]).exit_code == 0

    interrupted = run_crashing(
        "interrupt", "after", LEDGER_RECORD, "--workspace", str(workspace.root), "declare",
        "import", str(first),
    )  # fmt: skip
    assert interrupted.returncode == ExitCode.INTERRUPTED
    assert not (workspace.root / COPY).exists()  # removed with its rolled-back rows

    second = declaration_file(tmp_path, [{"name": "Kal-gol", "status": "closed", **BASE}])
    imported = cli.invoke(
        app, ["--workspace", str(workspace.root), "declare", "import", str(second)]
    )
    assert imported.exit_code == 0, imported.output
    assert (workspace.root / COPY).read_bytes() == second.read_bytes()
    folder = workspace.root / COPY.parent
    assert [path.name for path in folder.iterdir()] == [COPY.name]  # no staging left behind
    assert cli.invoke(app, ["--workspace", str(workspace.root), "ledger", "verify"]).exit_code == 0
