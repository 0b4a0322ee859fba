"""A real STAC API on loopback: ``rustac serve`` holding items in memory."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ServeStac = Callable[[Path], str]
_STARTUP_SECONDS = 15.0


def _rustac() -> str:
    beside_python = Path(sys.executable).with_name("rustac")
    found = str(beside_python) if beside_python.exists() else shutil.which("rustac")
    if found is None:
        pytest.skip("rustac (the STAC API server used for these tests) is not installed")
    return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_answering(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + _STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            output = server.stdout.read().decode(errors="replace") if server.stdout else ""
            pytest.fail(f"rustac serve exited with {server.returncode}: {output}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    pytest.fail(f"rustac serve did not answer at {url} within {_STARTUP_SECONDS} s")


@pytest.fixture
def serve_stac() -> Iterator[ServeStac]:
    """``serve_stac(items_json)`` starts a STAC API serving those items; returns its URL."""
    servers: list[subprocess.Popen[bytes]] = []

    def start(items_file: Path) -> str:
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [
                _rustac(),
                "serve",
                "--addr",
                f"127.0.0.1:{port}",
                "--create-collections",
                str(items_file),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        servers.append(server)
        _wait_until_answering(url + "/", server)
        return url

    yield start
    for server in servers:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
