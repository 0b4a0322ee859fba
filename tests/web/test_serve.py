"""``sitewatch serve`` for real: uvicorn on 127.0.0.1 in a subprocess, real HTTP requests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

import sitewatch
from sitewatch.cli.main import app
from sitewatch.errors import ExitCode
from tests.cli.conftest import RunCli
from tests.web.conftest import PASSWORD, Workbench
from tests.web.test_roles import ASSESSMENT

#: How long the server may take to import and open the workspace on a loaded machine.
STARTUP_DEADLINE_S = 120.0


#: Between two readiness probes: a pause so that polling leaves the cores to the server.
POLL_INTERVAL_S = 0.05


def _still_running_after(server: subprocess.Popen[str], seconds: float) -> None:
    """Wait up to ``seconds`` for the server to exit; it exiting is the failure."""
    try:
        server.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        return
    raise AssertionError(f"sitewatch serve exited: {server.communicate()}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def _serving(root: Path, port: int) -> Iterator[subprocess.Popen[str]]:
    """``sitewatch serve`` running until the block ends, ready when it is entered: polls
    ``/api/health`` until it answers (or the server exits), never waits a fixed time."""
    env = {**os.environ, "PYTHONPATH": str(Path(sitewatch.__file__).parents[1])}
    entry = "from sitewatch.cli.main import run; run()"
    command = [sys.executable, "-c", entry, "--workspace", str(root), "serve"]
    server = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + STARTUP_DEADLINE_S
        while True:
            assert time.monotonic() < deadline, "the server did not answer /api/health"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                _still_running_after(server, POLL_INTERVAL_S)  # not listening yet
        yield server
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=60)


def test_serve_answers_real_http_requests(bench: Workbench) -> None:
    before = bench.ledger_count()
    port = _free_port()
    with _serving(bench.root, port) as server:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base) as client:
            assert client.get("/api/sites").status_code == 401
            login = client.post("/api/login", json={"name": "alice", "password": PASSWORD})
            assert login.status_code == 200
            assert "HttpOnly" in login.headers["set-cookie"]
            csrf = login.json()["csrf_token"]
            assert client.get("/api/sites").json()["total"] == 5
            forged = client.post(
                "/api/sites/sino-ri/assessments", json=ASSESSMENT, headers={"x-csrf-token": "x"}
            )
            assert forged.status_code == 403
            assert bench.ledger_count() == before
            written = client.post(
                "/api/sites/sino-ri/assessments", json=ASSESSMENT, headers={"x-csrf-token": csrf}
            )
            assert written.status_code == 201, written.text
            assert client.get("/api/docs").status_code == 200
    assert server.returncode == ExitCode.INTERRUPTED  # Ctrl-C, as every command
    stdout, stderr = server.communicate()
    assert f"http://127.0.0.1:{port}/" in stdout
    assert stderr.strip() == "error: interrupted; what was committed is intact"
    assert bench.ledger_count() == before + 1


def test_serve_on_a_port_in_use_is_one_line_and_exit_7(cli: RunCli) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = cli("serve", "--port", str(port))
    assert result.exit_code == ExitCode.ENVIRONMENT
    assert result.output.strip().startswith("error: --port: cannot listen on 127.0.0.1:")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--port", "0"], "--port"),
        (["--port", "70000"], "--port"),
        (["--host", "no such host.invalid"], "--host"),
    ],
)
def test_serve_refuses_bad_options(cli: RunCli, args: list[str], words: str) -> None:
    result = cli("serve", *args)
    assert result.exit_code == ExitCode.INPUT
    assert result.output.startswith(f"error: {words}")


def test_serve_outside_a_workspace_is_exit_1(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["--workspace", str(tmp_path / "none"), "serve"])
    assert result.exit_code == ExitCode.WORKSPACE
    assert "not a sitewatch workspace" in result.output
