"""``sitewatch serve`` for real: uvicorn on 127.0.0.1 in a subprocess, real HTTP requests."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sitewatch.cli.main import app
from sitewatch.errors import ExitCode
from tests.cli.conftest import RunCli
from tests.support.serving import serving
from tests.web.conftest import PASSWORD, Workbench
from tests.web.test_roles import ASSESSMENT


def test_serve_answers_real_http_requests(bench: Workbench) -> None:
    before = bench.ledger_count()
    with serving(bench.root) as served, served.client() as client:
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
    assert served.process.returncode == ExitCode.INTERRUPTED  # Ctrl-C, as every command
    _, stderr = served.process.communicate()
    assert served.url.startswith("http://127.0.0.1:")
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
        (["--port", "-1"], "--port"),
        (["--workers", "0"], "--workers"),
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


def test_serve_with_two_workers_answers_and_stops_on_ctrl_c(bench: Workbench) -> None:
    """Two processes share the port; sessions live in the database, so whichever process
    answers knows the one opened at sign-in; Ctrl-C stops them all with exit 130."""
    with (
        serving(bench.root, "--workers", "2") as served,
        served.client() as client,
    ):
        login = client.post("/api/login", json={"name": "vera", "password": PASSWORD})
        assert login.status_code == 200
        answers = [client.get("/api/sites").status_code for _ in range(20)]
        assert answers == [200] * 20
    assert served.process.returncode == ExitCode.INTERRUPTED
    _, stderr = served.process.communicate()
    assert stderr.strip() == "error: interrupted; what was committed is intact"
