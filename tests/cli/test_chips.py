"""``sitewatch chips``: a table or JSON of written files; errors as one line, nothing written."""

from __future__ import annotations

import json
from pathlib import Path

from sitewatch.demo.synthetic import SyntheticScenes, write_synthetic_pair
from sitewatch.workspace import open_workspace
from tests.cli.conftest import RunCli
from tests.imagery.scene_rows import add_synthetic_pair


def _synthetic_in_cli_workspace(cli: RunCli, tmp_path: Path) -> SyntheticScenes:
    pair = write_synthetic_pair(tmp_path / "synthetic", size=256)
    with open_workspace(cli.root) as workspace, workspace.session() as session:  # type: ignore[attr-defined]
        add_synthetic_pair(session, pair)
    return pair


def test_cli_chips_prints_a_table_and_json(cli: RunCli, tmp_path: Path) -> None:
    pair = _synthetic_in_cli_workspace(cli, tmp_path)
    out = tmp_path / "out"

    result = cli("chips", pair.site_id, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "2023-05-10 00:52" in result.output and "2024-04-24 00:52" in result.output
    assert "2 date(s)" in result.output and "red/green/blue" in result.output
    assert len(list(out.glob("*.png"))) == 2 and len(list(out.glob("*.tif"))) == 2

    result = cli("chips", pair.site_id, "--out", str(out), "--from", "2024-01-01", "--json")
    assert result.exit_code == 0, result.output
    (chip,) = json.loads(result.output)
    assert chip["date"] == "2024-04-24T00:52:29Z" and Path(chip["cog"]).exists()


def test_cli_chips_errors_are_one_line(cli: RunCli, tmp_path: Path) -> None:
    pair = _synthetic_in_cli_workspace(cli, tmp_path)
    for args, code, message in [
        (("nope", "--out", str(tmp_path)), 3, "no site with id 'nope'"),
        ((pair.site_id, "--out", str(tmp_path), "--from", "May 2023"), 2, "--from: not a date"),
        ((pair.site_id, "--out", str(tmp_path), "--to", "2020-01-01"), 3, "no imagery covers"),
    ]:
        result = cli("chips", *args)
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert result.exit_code == code and len(lines) == 1, result.output
        assert lines[0].startswith("error:") and message in lines[0]
    assert not list(tmp_path.glob("*.png"))
