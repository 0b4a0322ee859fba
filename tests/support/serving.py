"""``sitewatch serve`` in a subprocess for tests that need a real HTTP server.

The server is started with ``--port 0``: it binds a free port itself and prints the URL
only once its socket listens, so reading that line is the readiness signal (no port
chosen here and lost to a race, no polling against a deadline)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

import sitewatch

_URL = re.compile(r"serving on (http://\S+/)")
#: Seconds a served request may take before the test calls it hung.
SLOW_ANSWER_S = 120.0


@dataclass
class Served:
    """A running server: its base URL (ending in ``/``) and its process."""

    url: str
    process: subprocess.Popen[str]

    def client(self) -> httpx.Client:
        """An HTTP client of this server. Its timeout is generous, not httpx's 5 s: on a
        loaded machine a worker still importing the app answers late, and a test must not
        depend on the machine's load."""
        return httpx.Client(base_url=self.url, timeout=SLOW_ANSWER_S)


@contextmanager
def serving(root: Path, *options: str) -> Iterator[Served]:
    """``sitewatch serve [options]`` over the workspace ``root`` until the block ends (then
    Ctrl-C, as a user stops it: the process has exited, with its output unread, afterwards)."""
    env = {**os.environ, "PYTHONPATH": str(Path(sitewatch.__file__).parents[1])}
    entry = "from sitewatch.cli.main import run; run()"
    command = [
        sys.executable,
        "-c",
        entry,
        "--workspace",
        str(root),
        "serve",
        "--port",
        "0",
        *options,
    ]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        first_line = process.stdout.readline()  # blocks until the socket listens, or EOF
        found = _URL.search(first_line)
        if found is None:
            process.kill()
            raise AssertionError(
                f"sitewatch serve did not start: {first_line!r} {process.communicate()}"
            )
        yield Served(found.group(1), process)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=120)
