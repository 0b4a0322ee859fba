"""Output read by scripts and people through a pipe: hashes, ids and paths come out whole.

The README tells users to publish the ledger head and the key fingerprints; a console that
wraps them at ``COLUMNS`` (or rich's 80-column default off a terminal) publishes a broken
hash. These run the real ``sitewatch`` executable with stdout a pipe and ``COLUMNS=40``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SITEWATCH = str(Path(sys.executable).parent / "sitewatch")


@pytest.fixture
def run(tmp_path: Path):
    """``run(args...)``: the CLI in a subprocess, piped, in a 40-column environment."""
    deep = tmp_path / ("a-rather-long-folder-name-" * 3) / "workspace"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SITEWATCH_")}
    env |= {"COLUMNS": "40", "SITEWATCH_WORKSPACE": str(deep)}

    def invoke(*args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [SITEWATCH, *args], env=env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr
        return done

    invoke("init", str(deep))
    invoke.root = deep  # type: ignore[attr-defined]
    return invoke


def _lines_holding(text: str, needle: str) -> list[str]:
    return [line for line in text.splitlines() if needle in line]


def test_hashes_fingerprints_and_paths_are_never_wrapped(run) -> None:
    created = run("keys", "create", "--name", "alice-with-a-long-analyst-name")
    fingerprint = json.loads(run("keys", "list", "--json").stdout)[0]["fingerprint"]
    assert _lines_holding(created.stdout, fingerprint), created.stdout
    assert _lines_holding(run("keys", "list").stdout, fingerprint)

    name = "Sohae Satellite Launching Station engine test stand"
    run("sites", "add", "--name", name, "--lat", "39.66", "--lon", "124.705")
    listed = run("sites", "list").stdout
    assert _lines_holding(listed, name) and _lines_holding(listed, "39.66"), listed

    verified = run("ledger", "verify")
    head = json.loads(run("ledger", "verify", "--json").stdout)["head_hash"]
    assert len(head) == 64 and _lines_holding(verified.stdout, head), verified.stdout

    status = run("db", "status").stdout
    assert _lines_holding(status, str(run.root)), status  # type: ignore[attr-defined]


def test_an_eighty_column_terminal_keeps_fingerprints_whole(run) -> None:
    """On a terminal rows may wrap, but a fingerprint or an id column never breaks."""
    run("keys", "create", "--name", "alice-with-a-long-analyst-name")
    fingerprint = json.loads(run("keys", "list", "--json").stdout)[0]["fingerprint"]
    env = {**os.environ, "TTY_COMPATIBLE": "1", "COLUMNS": "80"}
    env["SITEWATCH_WORKSPACE"] = str(run.root)  # type: ignore[attr-defined]
    shown = subprocess.run(
        [SITEWATCH, "keys", "list"], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert _lines_holding(shown, fingerprint), shown
