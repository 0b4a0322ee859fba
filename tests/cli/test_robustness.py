"""What an attacker or bad luck throws at the command line: one line, the right exit code.

Races between processes, a full disk, a file where a folder is expected, and the hostile
inputs tried by hand (empty, binary, unreadable, directory, huge line) all end in one
``error:`` line naming the file or item, never a traceback, and nothing half-written.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sitewatch.db.models import Scene
from sitewatch.imagery import drafts
from sitewatch.imagery.drafts import SceneDraft, store_drafts
from sitewatch.workspace import open_workspace
from tests.cli.conftest import RunCli
from tests.imagery.ingest_helpers import write_small_tif


def _error_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), output
    return lines[0]


def test_the_same_scene_added_by_another_process_meanwhile_is_a_conflict(
    cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between this command's "is it new?" and its insert, another process commits it."""
    scene = write_small_tif(tmp_path / "S2A_20200401_scene.tif", tags={"PLATFORM": "s2a"})
    real_scene_row = drafts._scene_row
    raced: list[str] = []

    def other_process_first(draft: SceneDraft) -> Scene:
        if not raced:  # the other writer: its own connection, committed before we insert
            raced.append(draft.id)
            with open_workspace(cli.root) as workspace, workspace.session() as session:  # type: ignore[attr-defined]
                store_drafts(session, [draft])
        return real_scene_row(draft)

    monkeypatch.setattr(drafts, "_scene_row", other_process_first)
    result = cli("imagery", "add", str(scene), "--datetime", "2020-04-01")
    assert result.exit_code == 4, result.output
    line = _error_line(result.output)
    assert f"scene {raced[0]!r}" in line and str(scene) in line and "another process" in line
    listed = json.loads(cli("imagery", "list", "--json").output)
    assert [s["id"] for s in listed] == raced  # the other process's scene, once
    entries = json.loads(cli("ledger", "list", "--json").output)
    assert [e["kind"] for e in entries] == ["scene.ingest"]
    monkeypatch.undo()
    again = cli("imagery", "add", str(scene), "--datetime", "2020-04-01", "--json")
    assert again.exit_code == 0 and json.loads(again.output)[0]["status"] == "present"
