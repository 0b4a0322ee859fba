"""``sitewatch detect SITE`` killed (SIGKILL) or interrupted (Ctrl-C) on either side of the
commit that names its products: the workspace always passes ``ledger verify`` and exports,
and the leftovers of a killed run are cleared by the next one."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from sitewatch.catalog.records import SiteRecord
from sitewatch.catalog.sites import import_sites
from sitewatch.cli.main import app
from sitewatch.demo.synthetic import write_synthetic_pair
from sitewatch.errors import ExitCode
from sitewatch.imagery.ingest import add_scenes
from sitewatch.workspace import Workspace
from tests.support.crash import LEDGER_COMMIT, LEDGER_RECORD, run_crashing


@pytest.fixture
def site(workspace: Workspace, tmp_path: Path) -> str:
    """A site with a synthetic before/after pair catalogued over it; its id."""
    pair = write_synthetic_pair(tmp_path / "synthetic", size=256)
    with workspace.session() as session:
        import_sites(
            session, [SiteRecord(id=pair.site_id, name=pair.site_name, geometry=pair.site_geometry)]
        )
        add_scenes(session, [scene.path for scene in pair.scenes])
    return pair.site_id


def _cli(workspace: Workspace, *args: str) -> Result:
    return CliRunner().invoke(app, ["--workspace", str(workspace.root), *args])


def _detect(
    workspace: Workspace, site_id: str, action: str, when: str, point: tuple[str, str | None]
) -> int:
    """``detect site_id`` in a child process crashing at ``point``; its return code."""
    return run_crashing(
        action, when, point, "--workspace", str(workspace.root), "detect", site_id
    ).returncode


def _runs(workspace: Workspace) -> list[str]:
    return [row["id"] for row in json.loads(_cli(workspace, "runs", "list", "--json").output)]


def _folders(workspace: Workspace) -> list[str]:
    """What is in products/runs, hidden staging folders included."""
    folder = workspace.products / "runs"
    return sorted(path.name for path in folder.iterdir()) if folder.is_dir() else []


def _assert_verifies_and_exports(workspace: Workspace, site_id: str, out: Path) -> None:
    verify = _cli(workspace, "ledger", "verify")
    assert verify.exit_code == 0, verify.output
    export = _cli(workspace, "ledger", "export", "--site", site_id, "--out", str(out))
    assert export.exit_code == 0, export.output
    assert _cli(workspace, "ledger", "verify-package", str(out)).exit_code == 0


def test_kill_right_after_the_commit_leaves_the_products_in_place(
    workspace: Workspace, site: str, tmp_path: Path
) -> None:
    assert _detect(workspace, site, "kill", "after", LEDGER_COMMIT) == -signal.SIGKILL
    [run_id] = _runs(workspace)
    _assert_verifies_and_exports(workspace, site, tmp_path / "package.zip")
    assert {name for name in _folders(workspace) if not name.startswith(".")} == {run_id}

    # The killed run's staging folder (its scratch rasters) goes with the next run.
    assert _cli(workspace, "detect", site).exit_code == 0
    assert [name for name in _folders(workspace) if name.startswith(".")] == []
    assert _folders(workspace) == sorted(_runs(workspace))
    _assert_verifies_and_exports(workspace, site, tmp_path / "again.zip")


def test_kill_before_the_commit_leaves_nothing_named_and_the_next_run_clears_it(
    workspace: Workspace, site: str, tmp_path: Path
) -> None:
    assert _detect(workspace, site, "kill", "after", LEDGER_RECORD) == -signal.SIGKILL
    assert _runs(workspace) == []
    verify = _cli(workspace, "ledger", "verify")
    assert verify.exit_code == 0 and "3 entries" in verify.output  # site, two scenes

    assert _cli(workspace, "detect", site).exit_code == 0
    [run_id] = _runs(workspace)
    assert _folders(workspace) == [run_id]  # the killed run's folders are gone
    _assert_verifies_and_exports(workspace, site, tmp_path / "package.zip")


def test_ctrl_c_on_either_side_of_the_commit(
    workspace: Workspace, site: str, tmp_path: Path
) -> None:
    """Before the commit nothing is kept; after it, the committed products are."""
    assert _detect(workspace, site, "interrupt", "after", LEDGER_RECORD) == ExitCode.INTERRUPTED
    assert _runs(workspace) == [] and _folders(workspace) == []

    assert _detect(workspace, site, "interrupt", "after", LEDGER_COMMIT) == ExitCode.INTERRUPTED
    [run_id] = _runs(workspace)
    assert _folders(workspace) == [run_id]
    assert sorted(path.name for path in (workspace.products / "runs" / run_id).iterdir()) == [
        "change_mask.tif",
        "change_score.tif",
        "objects.geojson",
        "run.json",
    ]
    _assert_verifies_and_exports(workspace, site, tmp_path / "package.zip")
