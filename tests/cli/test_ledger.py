"""``sitewatch ledger list / verify / export / verify-package`` through the real app."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from sitewatch.errors import ExitCode
from tests.cli.conftest import RunCli


@pytest.fixture
def recorded(cli: RunCli, tmp_path: Path) -> RunCli:
    """Two sites added and one edited through the CLI: three signed entries."""
    assert cli("sites", "add", "--name", "Alpha Base", "--lat", "39", "--lon", "125").exit_code == 0
    assert cli("sites", "add", "--name", "Bravo", "--lat", "40", "--lon", "126").exit_code == 0
    edit = cli("sites", "edit", "alpha-base", "--notes", "runway extended")
    assert edit.exit_code == 0, edit.output
    return cli


def test_list_and_verify(recorded: RunCli) -> None:
    rows = json.loads(recorded("ledger", "list", "--json").output)
    assert [(r["seq"], r["kind"], r["site_id"]) for r in rows] == [
        (1, "site.add", "alpha-base"),
        (2, "site.add", "bravo"),
        (3, "site.edit", "alpha-base"),
    ]
    only = json.loads(recorded("ledger", "list", "--site", "bravo", "--json").output)
    assert [r["seq"] for r in only] == [2]
    assert "site.edit" in recorded("ledger", "list").output
    ok = recorded("ledger", "verify")
    assert ok.exit_code == 0 and "ledger ok: 3 entries" in ok.output
    report = json.loads(recorded("ledger", "verify", "--json").output)
    assert report["ok"] and report["head_hash"] == rows[-1]["entry_hash"]


def test_verify_names_the_first_bad_entry(recorded: RunCli) -> None:
    database = recorded.root / "sitewatch.db"  # type: ignore[attr-defined]
    with sqlite3.connect(database) as connection:
        connection.execute(
            "UPDATE ledger_entries SET payload = replace(payload, 'runway', 'runwaY') WHERE seq = 3"
        )
    bad = recorded("ledger", "verify")
    assert bad.exit_code == ExitCode.VERIFICATION_FAILED == 6
    assert bad.output.strip().splitlines() == [
        "error: entry 3: recorded contents (payload, files, kind, site, author or time) "
        "do not match its hash"
    ]
    report = json.loads(recorded("ledger", "verify", "--json").stdout)
    assert report["first_bad_entry"] == 3


def test_export_and_verify_package_without_a_workspace(recorded: RunCli, tmp_path: Path) -> None:
    package = tmp_path / "alpha.zip"
    exported = recorded("ledger", "export", "--site", "alpha-base", "--out", str(package))
    assert exported.exit_code == 0, exported.output
    assert "2 entries" in exported.output

    clean = tmp_path / "clean"
    clean.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SITEWATCH_")}
    command = [str(Path(sys.executable).parent / "sitewatch"), "ledger", "verify-package"]
    done = subprocess.run(
        [*command, str(package)], cwd=clean, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "package ok: site alpha-base, 2 entries" in done.stdout


def test_verify_package_in_process_and_errors(recorded: RunCli, tmp_path: Path) -> None:
    package = tmp_path / "alpha.zip"
    assert (
        recorded("ledger", "export", "--site", "alpha-base", "--out", str(package)).exit_code == 0
    )
    checked = json.loads(recorded("ledger", "verify-package", str(package), "--json").output)
    assert checked["ok"] and checked["entries"] == 2 and list(checked["analysts"]) == ["workspace"]
    missing = recorded("ledger", "export", "--site", "nowhere", "--out", str(tmp_path / "n.zip"))
    assert missing.exit_code == 3
    assert missing.output.strip() == "error: the ledger holds no entries about site 'nowhere'"
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"PK not really")
    bad = recorded("ledger", "verify-package", str(junk))
    assert bad.exit_code == 2 and len(bad.output.strip().splitlines()) == 1
