"""``sitewatch ledger list / verify / export / verify-package`` through the real app."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from sitewatch.errors import ExitCode
from sitewatch.evidence.keys import load_private_key
from sitewatch.evidence.ledger import Problem
from tests.cli.conftest import RunCli
from tests.evidence.forgery import read_members, resign_manifest, rewrite_entry, write_members
from tests.support.readonly import write_protected


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
        "do not match its hash",
        "(1 more problems after it)",  # the site row no longer matches the edited entry
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
    checked = json.loads(recorded("ledger", "verify-package", str(package), "--json").stdout)
    assert checked["ok"] and checked["entries"] == 2 and list(checked["analysts"]) == ["workspace"]
    missing = recorded("ledger", "export", "--site", "nowhere", "--out", str(tmp_path / "n.zip"))
    assert missing.exit_code == 3
    assert missing.output.strip() == "error: the ledger holds no entries about site 'nowhere'"
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"PK not really")
    bad = recorded("ledger", "verify-package", str(junk))
    assert bad.exit_code == 2 and len(bad.output.strip().splitlines()) == 1


def _checksums(root: Path) -> dict[str, str]:
    """Every file under ``root`` (``-wal``/``-shm`` included) with its SHA-256."""
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_verify_checks_a_write_protected_copy(recorded: RunCli) -> None:
    """An auditor's copy may be read-only: verification must not need to write anything."""
    root = recorded.root  # type: ignore[attr-defined]
    before = _checksums(root)
    with write_protected(root):
        ok = recorded("ledger", "verify")
        listed = recorded("ledger", "list", "--json")
    assert ok.exit_code == 0, ok.output
    assert "ledger ok: 3 entries" in ok.output
    assert [row["seq"] for row in json.loads(listed.output)] == [1, 2, 3]
    assert _checksums(root) == before


def test_verify_never_writes_to_the_workspace(recorded: RunCli) -> None:
    """Not even the journal mode of a database copied out of WAL mode (a ``.backup``)."""
    root = recorded.root  # type: ignore[attr-defined]
    with sqlite3.connect(root / "sitewatch.db") as connection:
        assert connection.execute("PRAGMA journal_mode=DELETE").fetchone() == ("delete",)
    before = _checksums(root)
    assert recorded("ledger", "verify").exit_code == 0
    assert recorded("ledger", "verify", "--json").exit_code == 0
    with sqlite3.connect(root / "sitewatch.db") as connection:
        connection.execute("UPDATE ledger_entries SET payload = payload || ' ' WHERE seq = 2")
    before = _checksums(root)
    assert recorded("ledger", "verify").exit_code == ExitCode.VERIFICATION_FAILED
    assert _checksums(root) == before


def test_verify_sees_commits_still_in_the_write_ahead_log(recorded: RunCli) -> None:
    """A writer holding the log open: its commits are verified, not silently skipped."""
    root = recorded.root  # type: ignore[attr-defined]
    writer = sqlite3.connect(root / "sitewatch.db")
    try:
        writer.execute("PRAGMA wal_autocheckpoint=0")
        writer.execute("UPDATE ledger_entries SET payload = payload || ' ' WHERE seq = 3")
        writer.commit()
        assert (root / "sitewatch.db-wal").stat().st_size > 0
        bad = recorded("ledger", "verify")
    finally:
        writer.close()
    assert bad.exit_code == ExitCode.VERIFICATION_FAILED
    assert bad.output.startswith("error: entry 3: recorded contents")


@pytest.mark.parametrize(
    "damage, words",
    [
        ("truncate", "the database cannot be read"),
        ("empty", "the database is empty"),
        ("drop", "the database holds no ledger"),
        ("delete", "database file is missing"),
    ],
)
def test_a_damaged_database_is_one_line(recorded: RunCli, damage: str, words: str) -> None:
    database = recorded.root / "sitewatch.db"  # type: ignore[attr-defined]
    if damage == "truncate":
        data = database.read_bytes()
        database.write_bytes(data[: len(data) // 3])
    elif damage == "empty":
        database.write_bytes(b"")
    elif damage == "drop":
        with closing(sqlite3.connect(database)) as connection:
            connection.execute("DROP TABLE ledger_entries")
            connection.commit()
    else:
        database.unlink()
    result = recorded("ledger", "verify")
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], result.output
    expected = ExitCode.VERIFICATION_FAILED if damage == "drop" else ExitCode.WORKSPACE
    assert result.exit_code == expected
    assert not database.with_name("sitewatch.db-wal").exists()


@pytest.mark.parametrize(
    "column, value, words",
    [
        ("payload", "'not json {'", "do not match its hash"),
        ("payload", "NULL", "payload is NoneType, not text"),
        ("payload", "X'6869'", "payload is bytes, not text"),
        ("entry_hash", "NULL", "entry_hash is NoneType, not text"),
        ("files", "'[not json'", "is malformed"),
        ("created_at", "'yesterday'", "is malformed"),
        ("created_at", "42", "created_at is int, not a time"),
        ("signature", "NULL", "signature is NoneType, not bytes"),
    ],
)
def test_a_malformed_entry_is_named_by_seq(
    recorded: RunCli, column: str, value: str, words: str
) -> None:
    """The forger first copies the table without its constraints, so NULLs go in too."""
    with sqlite3.connect(recorded.root / "sitewatch.db") as connection:  # type: ignore[attr-defined]
        connection.executescript(
            "CREATE TABLE loose AS SELECT * FROM ledger_entries; DROP TABLE ledger_entries; "
            "ALTER TABLE loose RENAME TO ledger_entries;"
            f"UPDATE ledger_entries SET {column} = {value} WHERE seq = 2;"
        )
    bad = recorded("ledger", "verify")
    assert bad.exit_code == ExitCode.VERIFICATION_FAILED, bad.output
    first = bad.output.strip().splitlines()[0]
    assert first.startswith("error: entry 2: ") and words in first, first
    report = json.loads(recorded("ledger", "verify", "--json").stdout)
    assert report["first_bad_entry"] == 2


def test_list_shows_a_payload_that_is_not_json(recorded: RunCli) -> None:
    with sqlite3.connect(recorded.root / "sitewatch.db") as connection:  # type: ignore[attr-defined]
        connection.execute("UPDATE ledger_entries SET payload = 'not json {' WHERE seq = 2")
    listed = recorded("ledger", "list", "--json")
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.stdout)[1]["payload"] == "not json {"


def test_export_to_a_folder_names_the_option(recorded: RunCli, tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    result = recorded("ledger", "export", "--site", "alpha-base", "--out", str(folder))
    assert result.exit_code == ExitCode.INPUT
    assert result.output.strip() == (
        f"error: {folder} [--out]: is a folder; give the package's file name"
    )
    assert list(folder.iterdir()) == []


def _sql(cli: RunCli, script: str) -> None:
    """Edit the workspace database behind sitewatch's back, as a forger would."""
    with closing(sqlite3.connect(cli.root / "sitewatch.db")) as connection:  # type: ignore[attr-defined]
        connection.executescript(script)
        connection.commit()


def test_a_published_head_reveals_entries_cut_off_the_end(recorded: RunCli, tmp_path: Path) -> None:
    head_file = tmp_path / "published" / "head.json"
    head_file.parent.mkdir()
    published = recorded("ledger", "head", "--out", str(head_file))
    assert published.exit_code == 0, published.output
    head = json.loads(head_file.read_text())
    assert (head["seq"], head["signer"]) == (3, "workspace")
    ok = recorded("ledger", "verify", "--expect-head", str(head_file))
    assert ok.exit_code == 0 and "published head" in ok.output, ok.output
    assert recorded("ledger", "verify", "--expect-head", head["hash"]).exit_code == 0

    # The forger deletes the newest entry and puts the site back as it was before it.
    _sql(
        recorded,
        "DELETE FROM ledger_entries WHERE seq = 3; UPDATE sites SET notes = '' "
        "WHERE id = 'alpha-base';",
    )
    assert recorded("ledger", "verify").exit_code == 0  # a shorter chain is still a chain
    cut = recorded("ledger", "verify", "--expect-head", str(head_file))
    assert cut.exit_code == ExitCode.VERIFICATION_FAILED
    assert cut.output.startswith(
        "error: entry 3: is missing: the ledger ends at entry 2, but the published head"
    )
    by_hash = recorded("ledger", "verify", "--expect-head", head["hash"], "--json")
    assert by_hash.exit_code == ExitCode.VERIFICATION_FAILED
    assert (
        "no entry has the expected head hash"
        in json.loads(by_hash.stdout)["problems"][0]["message"]
    )


def test_an_edited_head_file_is_refused(recorded: RunCli, tmp_path: Path) -> None:
    head_file = tmp_path / "head.json"
    assert recorded("ledger", "head", "--out", str(head_file)).exit_code == 0
    head = json.loads(head_file.read_text())
    head["seq"] = 2
    head_file.write_text(json.dumps(head))
    result = recorded("ledger", "verify", "--expect-head", str(head_file))
    assert result.exit_code == ExitCode.INPUT
    assert result.output.strip().startswith(f"error: {head_file} [signature]: is not 'workspace'")


@pytest.mark.parametrize(
    "forgery, words",
    [
        (
            "UPDATE sites SET notes = 'nothing here' WHERE id = 'alpha-base'",
            "entry 3: site 'alpha-base' in the sites table differs from it (notes)",
        ),
        (
            "DELETE FROM sites WHERE id = 'bravo'",
            "entry 2: site 'bravo' is missing from the sites table",
        ),
        (
            "INSERT INTO sites (id, name, aliases, category, missile_classes, status, declared,"
            " notes, created_at, updated_at) SELECT 'ghost', name, aliases, category,"
            " missile_classes, status, declared, notes, created_at, updated_at FROM sites"
            " WHERE id = 'bravo'",
            "site 'ghost' in the sites table has no ledger entry vouching for it",
        ),
        (
            "UPDATE assessments SET status = 'dismantled'",
            "entry 4: assessment 'ASMT' in the assessments table differs from it (status)",
        ),
        (
            "DELETE FROM assessments",
            "entry 4: assessment 'ASMT' is missing from the assessments table",
        ),
        (
            "DELETE FROM ledger_entries WHERE seq = 4",
            "assessment 'ASMT' in the assessments table has no ledger entry vouching for it",
        ),
    ],
)
def test_domain_tables_must_agree_with_their_entries(
    recorded: RunCli, forgery: str, words: str
) -> None:
    assert recorded("keys", "create", "--name", "alice").exit_code == 0
    assessed = recorded(
        "assess", "bravo", "--date", "2024-05-01", "--status", "active",
        "--confidence", "high", "--analyst", "alice", "--json",
    )  # fmt: skip
    assert assessed.exit_code == 0, assessed.output
    assessment_id = json.loads(assessed.stdout)["id"]
    rows = json.loads(recorded("ledger", "list", "--json").stdout)
    assert [row["kind"] for row in rows][-1] == "assessment" and rows[-1]["seq"] == 4
    assert recorded("ledger", "verify").exit_code == 0
    _sql(recorded, forgery + ";")
    bad = recorded("ledger", "verify", "--json")
    assert bad.exit_code == ExitCode.VERIFICATION_FAILED
    messages = [str(Problem(p["seq"], p["message"])) for p in json.loads(bad.stdout)["problems"]]
    assert words.replace("ASMT", assessment_id) in messages, messages


def test_verify_package_pins_keys(recorded: RunCli, tmp_path: Path) -> None:
    package = tmp_path / "alpha.zip"
    assert (
        recorded("ledger", "export", "--site", "alpha-base", "--out", str(package)).exit_code == 0
    )
    unpinned = recorded("ledger", "verify-package", str(package), "--json")
    assert unpinned.exit_code == 0
    report = json.loads(unpinned.stdout)
    assert report["keys_pinned"] is False
    workspace_key = report["analysts"]["workspace"]
    assert report["untrusted_keys"] == {"workspace": workspace_key}
    assert unpinned.stderr.startswith(f"warning: keys not pinned: workspace {workspace_key} ")

    pinned = recorded("ledger", "verify-package", str(package), "--trust", workspace_key)
    assert pinned.exit_code == 0 and pinned.stderr == ""
    assert "package ok: site alpha-base, 2 entries" in pinned.stdout

    assert recorded("keys", "create", "--name", "mallory").exit_code == 0
    root = recorded.root  # type: ignore[attr-defined]
    mallory = load_private_key(root / "keys" / "mallory.pem", "mallory")
    members = read_members(package)
    rewrite_entry(members, 1, None, mallory)  # every entry the forged key must vouch for
    rewrite_entry(members, 3, '{"after":{"notes":"nothing there"}}', mallory)
    resign_manifest(members, mallory, "workspace")
    forged = write_members(tmp_path / "forged.zip", members)
    assert recorded("ledger", "verify-package", str(forged)).exit_code == 0  # self-consistent
    caught = recorded("ledger", "verify-package", str(forged), "--trust", workspace_key)
    assert caught.exit_code == ExitCode.VERIFICATION_FAILED
    assert caught.stderr.startswith("error: entry 1: is signed with 'workspace''s key "), (
        caught.stderr
    )
