"""A real Dask cluster: scheduler and worker as separate processes on loopback; the scan
client is killed with SIGKILL half way and a second run finishes the rest."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from sitewatch.db.models import Scan, ScanTile
from sitewatch.workspace import Workspace
from tests.scan import synthetic

ROOT = Path(__file__).resolve().parents[2]
TILE_SIZE_M = "320"  # 32 px tiles: 64 of them, enough to stop a scan half way


def _dask(*args: str, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", *args],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )


@pytest.fixture
def scheduler(tmp_path: Path) -> Iterator[str]:
    """``tcp://127.0.0.1:PORT`` of a fresh scheduler with one single-threaded worker."""
    address_file = tmp_path / "scheduler.json"
    processes = [
        _dask(
            "distributed.cli.dask_scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--no-dashboard",
            "--scheduler-file",
            str(address_file),
            log=tmp_path / "scheduler.log",
        )
    ]
    try:
        deadline = time.monotonic() + 60
        while not address_file.exists():
            assert time.monotonic() < deadline, (tmp_path / "scheduler.log").read_text()
            time.sleep(0.1)
        address = json.loads(address_file.read_text())["address"]
        processes.append(
            _dask(
                "distributed.cli.dask_worker",
                address,
                "--nthreads",
                "1",
                "--nworkers",
                "1",
                "--no-dashboard",
                "--host",
                "127.0.0.1",
                log=tmp_path / "worker.log",
            )
        )
        yield address
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _scan_command(workspace: Workspace, address: str) -> list[str]:
    return [
        sys.executable, "-c", "from sitewatch.cli.main import run; run()",
        "--workspace", str(workspace.root),
        "scan", synthetic.inner_bbox(), "--before", synthetic.BEFORE, "--after", synthetic.AFTER,
        "--tile-size", TILE_SIZE_M, "--scheduler", address, "--json",
    ]  # fmt: skip


def _finished(workspace: Workspace) -> dict[str, object]:
    with workspace.session() as session:
        return {row.tile_key: row.finished_at for row in session.scalars(select(ScanTile))}


def test_killed_scan_on_a_real_cluster_resumes(scan_workspace: Workspace, scheduler: str) -> None:
    process = subprocess.Popen(
        _scan_command(scan_workspace, scheduler), cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while len(_finished(scan_workspace)) < 3:
        assert process.poll() is None, process.stdout.read().decode()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    before_kill = _finished(scan_workspace)
    assert 3 <= len(before_kill) < 64

    rerun = subprocess.run(
        _scan_command(scan_workspace, scheduler), cwd=ROOT,
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    outcome = json.loads(rerun.stdout)
    assert outcome["resumed"] and outcome["tiles"] == 64
    assert outcome["tiles_run"] == 64 - len(before_kill)
    after = _finished(scan_workspace)
    assert len(after) == 64
    assert {key: after[key] for key in before_kill} == before_kill
    with scan_workspace.session() as session:
        assert session.get(Scan, outcome["scan"]).status == "done"
