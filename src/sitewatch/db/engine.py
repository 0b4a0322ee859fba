"""Engine creation and schema migrations.

SQLite gets WAL journaling (readers never block the writer), foreign keys and a busy
timeout so that several sitewatch processes can share one workspace. Running migrations
is :mod:`sitewatch.db.migrate`'s (Alembic); opening a workspace only reads the revision.
"""

from __future__ import annotations

import errno
import re
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from sitewatch.errors import ENVIRONMENT_ERRNOS, EnvironmentProblem, WorkspaceError

#: PostgreSQL's SQLSTATE class "insufficient resources" (53100 is disk full).
_POSTGRES_INSUFFICIENT_RESOURCES = "53"

WAL_SUFFIX = "-wal"
#: Where Alembic records the schema's revision (its default table name).
VERSION_TABLE = "alembic_version"


def create_db_engine(url: str) -> Engine:
    """An engine for ``url``, configured for concurrent use by several processes."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def create_read_only_engine(url: str) -> Engine:
    """An engine that cannot write, so that an auditor can check a write-protected copy.

    A SQLite file is opened as a ``mode=ro`` URI and no pragma is set (``journal_mode=WAL``
    would rewrite the header of a file that is not in WAL mode). Without a write-ahead log
    beside it the file holds every commit, and it is opened ``immutable=1``: SQLite then
    creates no ``-wal``/``-shm`` files and takes no locks, so nothing in the folder changes
    and a read-only folder works. With a non-empty log (a writer is running, or one was
    killed) the log must be read through SQLite's shared memory, which needs ``-shm`` to
    exist or be creatable; ``immutable`` would silently ignore those commits.
    """
    if not url.startswith("sqlite"):
        return create_engine(
            url, pool_pre_ping=True, execution_options={"postgresql_readonly": True}
        )
    database = make_url(url).database
    if not database or database == ":memory:":
        raise WorkspaceError(f"{url}: not a database file that can be opened read-only")
    path = Path(database)
    if not path.is_file():
        raise WorkspaceError(f"{path}: the workspace's database file is missing")
    wal = path.with_name(path.name + WAL_SUFFIX)
    immutable = not (wal.exists() and wal.stat().st_size > 0)
    uri = f"file:{quote(str(path))}?mode=ro" + ("&immutable=1" if immutable else "")

    def connect() -> sqlite3.Connection:
        return sqlite3.connect(uri, uri=True, timeout=30, check_same_thread=False)

    return create_engine(url, creator=connect)


def database_environment_problem(error: DBAPIError) -> EnvironmentProblem | None:
    """A database error that is the machine's doing (disk full or failing), in user's words.

    SQLite reports a full disk as SQLITE_FULL, or as an I/O error when the WAL index or
    log cannot grow (SQLITE_IOERR_SHMSIZE, ..._WRITE); PostgreSQL as SQLSTATE class 53
    (insufficient resources: disk full, out of memory). Either way the transaction was
    rolled back, so nothing of the command was committed. None for any other error.
    """
    original = error.orig
    code = getattr(original, "sqlite_errorcode", None)
    if code == sqlite3.SQLITE_FULL:
        reason = ENVIRONMENT_ERRNOS[errno.ENOSPC]
    elif code is not None and code & 0xFF == sqlite3.SQLITE_IOERR:
        reason = f"disk I/O error ({getattr(original, 'sqlite_errorname', code)}; is it full?)"
    elif str(getattr(original, "sqlstate", "")).startswith(_POSTGRES_INSUFFICIENT_RESOURCES):
        reason = f"the database server is out of resources ({original})"
    else:
        return None
    return EnvironmentProblem(f"{reason}; nothing of this command was committed", source="database")


#: The migrations shipped in the package, named ``NNNN_what.py`` with NNNN their revision.
_VERSIONS = Path(__file__).parent / "migrations" / "versions"
_REVISION_FILE = re.compile(r"^(\d{4})_\w+\.py$")


def shipped_revision() -> str:
    """The newest migration shipped with this version of sitewatch, from the file names.

    Every command checks the schema on opening a workspace; asking Alembic would import it
    (a third of a second) for a name the files already give. ``tests/db/test_migrations.py``
    checks this is Alembic's own head (:func:`sitewatch.db.migrate.head_revision`).
    """
    revisions = [m[1] for f in _VERSIONS.iterdir() if (m := _REVISION_FILE.match(f.name))]
    assert revisions, "the package ships no migrations"
    return max(revisions)


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at, or None for an empty database.

    A database that cannot be opened at all (a file that is not SQLite, a folder in its
    place, a server that refuses) is a WorkspaceError naming it: the first query of every
    command comes through here, so this is where such a workspace is recognised.
    """
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table(VERSION_TABLE):
                return None
            return connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
    except DBAPIError as error:
        if database_environment_problem(error) is not None:
            raise
        where = engine.url.render_as_string(hide_password=True)
        reason = str(error.orig).splitlines()[0] if error.orig is not None else str(error)
        raise WorkspaceError(f"{where}: the database cannot be read ({reason})") from None


def check_schema(engine: Engine) -> None:
    """Refuse to work on a database whose schema is not the one this code expects."""
    current = current_revision(engine)
    head = shipped_revision()
    if current is None:
        where = engine.url.render_as_string(hide_password=True)
        raise WorkspaceError(
            f"{where}: the database is empty (no sitewatch tables); "
            "a new workspace gets them with 'sitewatch db upgrade'"
        )
    if current != head:
        raise WorkspaceError(
            f"database schema is at {current}, this sitewatch needs {head}: "
            "run 'sitewatch db upgrade'"
        )
