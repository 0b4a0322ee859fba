"""``sitewatch keys create`` and ``keys list``."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from tests.cli.conftest import RunCli


def test_create_and_list(cli: RunCli) -> None:
    created = cli("keys", "create", "--name", "alice", "--json")
    assert created.exit_code == 0, created.output
    data = json.loads(created.output)
    key = Path(data["key"])
    assert key == cli.root / "keys" / "alice.pem"  # type: ignore[attr-defined]
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    listed = json.loads(cli("keys", "list", "--json").output)
    assert [(row["name"], row["fingerprint"], row["private_key_here"]) for row in listed] == [
        ("alice", data["fingerprint"], True)
    ]
    table = cli("keys", "list")
    assert "alice" in table.output and data["fingerprint"][:12] in table.output


def test_duplicate_and_bad_names_are_one_line(cli: RunCli) -> None:
    assert cli("keys", "create", "--name", "bob").exit_code == 0
    again = cli("keys", "create", "--name", "bob")
    assert again.exit_code == 4
    assert again.output.strip().splitlines() == ["error: analyst 'bob' already exists"]
    bad = cli("keys", "create", "--name", "../x")
    assert bad.exit_code == 2 and bad.output.startswith("error: name '../x': analyst names")
