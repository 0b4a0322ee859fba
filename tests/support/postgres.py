"""A throw-away PostgreSQL server for tests: initdb, start on a Unix socket, stop, delete.

The tests talk to a real server, never a mock, so that the schema, migrations and queries
are proven on the backend teams will use. PostgreSQL refuses to run as root, so when the
tests run as root the server runs as the ``postgres`` system user.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


def postgres_bin() -> Path | None:
    """The folder of initdb/pg_ctl of the newest installed PostgreSQL, if any."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    found = shutil.which("initdb")
    if candidates:
        return Path(candidates[-1]).parent
    return Path(found).parent if found else None


def _as_server_user() -> tuple[list[str], int | None, int | None]:
    if os.geteuid() != 0:
        return [], None, None
    user = pwd.getpwnam("postgres")
    return ["runuser", "-u", "postgres", "--"], user.pw_uid, user.pw_gid


@dataclass
class PostgresServer:
    """A running private server; :meth:`new_database` gives each test its own database."""

    bin_dir: Path
    socket_dir: Path
    prefix: list[str]
    _count: int = 0

    def new_database(self) -> str:
        """Create an empty database and return its SQLAlchemy URL."""
        self._count += 1
        name = f"sitewatch_test_{self._count}"
        createdb = str(self.bin_dir / "createdb")
        subprocess.run(
            [*self.prefix, createdb, "-h", str(self.socket_dir), "-U", "postgres", name],
            check=True,
            capture_output=True,
        )
        return f"postgresql+psycopg://postgres@/{name}?host={self.socket_dir}"


@contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    """Start a private server on a Unix socket in a temporary folder; stop and delete it after."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        raise FileNotFoundError("PostgreSQL server binaries (initdb) are not installed")
    prefix, uid, gid = _as_server_user()
    root = Path(tempfile.mkdtemp(prefix="sitewatch-pg-"))
    data, socket_dir = root / "data", root / "socket"
    socket_dir.mkdir()
    if uid is not None and gid is not None:
        for path in (root, socket_dir):
            os.chown(path, uid, gid)
    pg_ctl = [*prefix, str(bin_dir / "pg_ctl"), "-D", str(data)]
    try:
        subprocess.run(
            [*prefix, str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"],
            check=True,
            capture_output=True,
        )
        options = f"-k {socket_dir} -c listen_addresses='' -c fsync=off"
        # The server inherits pg_ctl's stdout: a pipe would never reach EOF, so it logs to a file.
        subprocess.run(
            [*pg_ctl, "-o", options, "-l", str(root / "server.log"), "-w", "start"],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            yield PostgresServer(bin_dir=bin_dir, socket_dir=socket_dir, prefix=prefix)
        finally:
            subprocess.run([*pg_ctl, "-m", "fast", "stop"], check=False, capture_output=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
