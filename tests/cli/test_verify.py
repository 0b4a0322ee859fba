"""``sitewatch declare``, ``assess``, ``assessments`` and ``verify`` end to end in-process."""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import update

from sitewatch.db.models import DeclarationItem
from sitewatch.evidence.keys import create_key
from sitewatch.workspace import open_workspace
from tests.cli.conftest import RunCli
from tests.verify.rows import KAL_GOL, SINO_RI, add_run, add_scene, add_sites, declaration_file

BASE = {"category": "missile-operating-base"}


def _catalog(cli: RunCli) -> Path:
    root = cli.root  # type: ignore[attr-defined]
    with open_workspace(root) as workspace, workspace.session() as session:
        add_sites(session)
        add_scene(session, "s-sino-1", date(2022, 8, 1), SINO_RI)
        add_scene(session, "s-sino-2", date(2023, 3, 1), SINO_RI)
        add_scene(session, "s-kal-1", date(2022, 4, 1), KAL_GOL)
        add_scene(session, "s-kal-2", date(2022, 10, 1), KAL_GOL)
        add_run(session, "run-sino", "sino-ri", "s-sino-1", "s-sino-2", 12_000)
    return root


def test_acceptance_verify_exits_non_zero_with_the_evidence(cli: RunCli, tmp_path: Path) -> None:
    root = _catalog(cli)
    with open_workspace(root) as workspace:
        create_key(workspace, "alice")
    assessed = cli(
        "assess", "kal-gol", "--date", "2022-10-01", "--status", "construction",
        "--confidence", "high", "--evidence", "s-kal-2", "--analyst", "alice", "--json",
    )  # fmt: skip
    assert assessed.exit_code == 0, assessed.output
    assessment_id = json.loads(assessed.output)["id"]
    path = declaration_file(
        tmp_path,
        [
            {**BASE, "name": "Sin-o-ri", "status": "dismantled", "status_date": "2022-07-01"},
            {**BASE, "name": "Yongnim", "status": "operational"},
        ],
    )
    imported = cli("declare", "import", str(path))
    assert imported.exit_code == 0, imported.output
    assert "dprk-2023-01-01-1" in imported.output

    result = cli("verify", "dprk-2023-01-01-1", "--json")
    assert result.exit_code == 5, result.output
    verdicts = json.loads(result.output)
    found = {(v["verdict"], v["site_id"], v["item_index"]): v["evidence"] for v in verdicts}
    assert found == {
        ("contradicted", "sino-ri", 0): ["run-sino"],
        ("not-observed", "yongnim", 1): [],
        ("undeclared", "kal-gol", None): [assessment_id],
    }
    assert all(v["reasons"] for v in verdicts)

    table = cli("verify", "dprk-2023-01-01-1")
    assert table.exit_code == 5 and "contradicted" in table.output and "undeclared" in table.output


def test_verify_exits_zero_when_nothing_is_wrong(cli: RunCli, tmp_path: Path) -> None:
    _catalog(cli)
    path = declaration_file(
        tmp_path,
        [
            {**BASE, "name": "신오리", "status": "operational"},
            {**BASE, "name": "Kalgol-dong", "status": "closed", "status_date": "2022-12-01"},
            {**BASE, "name": "New place", "lat": 41.0, "lon": 128.0, "status": "converted"},
        ],
    )
    assert cli("declare", "import", str(path)).exit_code == 0
    result = cli("verify", "dprk-2023-01-01-1", "--json")
    assert result.exit_code == 0, result.output
    verdicts = {v["item_index"]: v["verdict"] for v in json.loads(result.output)}
    assert verdicts == {0: "consistent", 1: "not-observed", 2: "unknown-site", None: "not-observed"}


def test_declare_list_show_and_bad_input(cli: RunCli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"party": "X", "date": "2023-01-01", "items": [{"name": "A"}]}))
    result = cli("declare", "import", str(bad))
    assert result.exit_code == 2
    assert result.output.strip() == f"error: {bad} [items[0].category]: is required"
    assert json.loads(cli("declare", "list", "--json").output) == []

    csv_path = tmp_path / "d.csv"
    csv_path.write_text("party,date,name,category,status\nX,2023-01-01,Sino-ri,base,closed\n")
    assert cli("declare", "import", str(csv_path)).exit_code == 0
    again = cli("declare", "import", str(csv_path))
    assert again.exit_code == 4 and "already imported" in again.output
    [listed] = json.loads(cli("declare", "list", "--json").output)
    assert listed["id"] == "x-2023-01-01-1" and listed["item_count"] == 1
    shown = cli("declare", "show", "x-2023-01-01-1")
    assert shown.exit_code == 0 and "Sino-ri" in shown.output
    missing = cli("declare", "show", "nope")
    assert missing.exit_code == 3 and "x-2023-01-01-1" in missing.output


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("1e400", "inf is not a finite number"),
        ("1" + "0" * 5000, "a number of 5001 digits is too large to read"),
        ("250000", "out of range (maximum 100000)"),
        ('"x", "name": "Sino\\ud800ri"', "lone surrogate"),
    ],
)
def test_declare_import_refuses_unbounded_numbers_and_lone_surrogates(
    cli: RunCli, tmp_path: Path, value: str, words: str
) -> None:
    """An item claiming an infinite radius would match every catalog site: refused, named,
    nothing written (no declaration, no ledger entry)."""
    root = _catalog(cli)
    entries = json.loads(cli("ledger", "list", "--json").output)
    path = tmp_path / "claim.json"
    path.write_text(
        '{"party": "X", "date": "2023-01-01", "items": [{"lat": 39.6, "lon": 125.5, '
        f'"category": "base", "status": "closed", "uncertainty_m": {value}}}]}}',
        encoding="utf-8",
    )
    result = cli("declare", "import", str(path))
    assert result.exit_code == 2, result.output
    field = "name" if "surrogate" in words else "uncertainty_m"
    [line] = result.output.splitlines()
    assert line.startswith(f"error: {path} [items[0].{field}]: ") and words in line, line
    assert json.loads(cli("declare", "list", "--json").output) == []
    assert json.loads(cli("ledger", "list", "--json").output) == entries
    assert root.is_dir()


def test_json_output_never_holds_infinity(cli: RunCli, tmp_path: Path) -> None:
    """A workspace written before numbers were bounded may hold an infinite radius:
    ``--json`` reports the bug (exit 70) instead of printing ``Infinity``, which is not JSON."""
    root = cli.root  # type: ignore[attr-defined]
    path = tmp_path / "d.json"
    path.write_text(json.dumps({"party": "X", "date": "2023-01-01", "items": [{**BASE,
        "name": "Sino-ri", "status": "closed", "uncertainty_m": 100}]}))  # fmt: skip
    assert cli("declare", "import", str(path)).exit_code == 0
    with open_workspace(root) as workspace, workspace.session() as session:
        session.execute(update(DeclarationItem).values(uncertainty_m=math.inf))
    result = cli("declare", "show", "x-2023-01-01-1", "--json")
    assert result.exit_code == 70
    assert "Infinity" not in result.stdout
    assert result.stderr.startswith("error: internal error (ValueError: Out of range float")


def test_assess_errors_and_listing(cli: RunCli) -> None:
    root = _catalog(cli)
    args = ("assess", "sino-ri", "--date", "2023-03-01", "--status", "active")
    unknown = cli(*args, "--confidence", "high", "--analyst", "zed")
    assert unknown.exit_code == 3 and "sitewatch keys create --name zed" in unknown.output
    with open_workspace(root) as workspace:
        create_key(workspace, "alice")
    bad_date = cli("assess", "sino-ri", "--date", "March", "--status", "active",
                   "--confidence", "high", "--analyst", "alice")  # fmt: skip
    assert bad_date.exit_code == 2 and "--date" in bad_date.output
    ok = cli(*args, "--confidence", "low", "--analyst", "alice", "--evidence", "run-sino")
    assert ok.exit_code == 0, ok.output
    listed = json.loads(cli("assessments", "sino-ri", "--json").output)
    assert [(a["status"], a["evidence"]) for a in listed] == [("active", ["run-sino"])]
