"""Appends from several processes never fork the chain; a killed process loses no commit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sitewatch.evidence import ledger
from sitewatch.workspace import Workspace, init_workspace

REPO = Path(__file__).resolve().parents[2]
PROCESSES = 4
PER_PROCESS = 25


def _appender(root: Path, count: int, tag: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.evidence.appender", str(root), str(count), tag],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )


def _concurrent_appends(workspace: Workspace) -> None:
    workers = [_appender(workspace.root, PER_PROCESS, f"p{n}") for n in range(PROCESSES)]
    outputs = [worker.communicate(timeout=240) for worker in workers]
    for worker, (_, stderr) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, stderr
    committed = sorted(int(line) for stdout, _ in outputs for line in stdout.split())
    assert committed == list(range(1, PROCESSES * PER_PROCESS + 1))
    report = ledger.verify_ledger(workspace)
    assert report.ok, report.problems[:3]
    assert report.entries == PROCESSES * PER_PROCESS
    with workspace.session() as session:
        tags = [entry.subject_id for entry in ledger.list_entries(session)]
    assert {tag: tags.count(tag) for tag in set(tags)} == {
        f"p{n}": PER_PROCESS for n in range(PROCESSES)
    }


def test_four_processes_on_sqlite_leave_one_valid_chain(workspace: Workspace) -> None:
    _concurrent_appends(workspace)


def test_four_processes_on_postgresql_leave_one_valid_chain(
    postgres_url: str, tmp_path: Path
) -> None:
    with init_workspace(tmp_path / "pg-ws") as workspace:
        assert workspace.engine.dialect.name == "postgresql"
        _concurrent_appends(workspace)


def test_a_process_killed_mid_append_loses_nothing_committed(workspace: Workspace) -> None:
    worker = _appender(workspace.root, 100_000, "killed")
    assert worker.stdout is not None
    committed: list[int] = []
    deadline = time.monotonic() + 120
    while len(committed) < 30 and time.monotonic() < deadline:
        line = worker.stdout.readline()
        if not line:
            break
        committed.append(int(line))
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=30)
    assert worker.returncode == -signal.SIGKILL
    assert len(committed) == 30, worker.stderr.read() if worker.stderr else ""

    report = ledger.verify_ledger(workspace)
    assert report.ok, report.problems[:3]
    assert report.entries >= committed[-1]  # maybe one more, committed before it could print
    with workspace.session() as session:
        assert ledger.head_seq(session) == report.entries
        ledger.record(session, kind="scan", payload={"after": "the kill"})
    assert ledger.verify_ledger(workspace).ok


def test_appends_do_not_wait_on_a_reader(workspace: Workspace) -> None:
    """A long read transaction elsewhere (WAL) does not stop an append."""
    with workspace.engine.connect() as reader:
        reader.exec_driver_sql("BEGIN")
        reader.exec_driver_sql("SELECT count(*) FROM ledger_entries").all()
        with workspace.session() as session:
            ledger.record(session, kind="scan", payload={})
        reader.exec_driver_sql("COMMIT")
    assert ledger.verify_ledger(workspace).entries == 1
