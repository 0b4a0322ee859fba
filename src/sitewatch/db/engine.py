"""Engine creation and schema migrations.

SQLite gets WAL journaling (readers never block the writer), foreign keys and a busy
timeout so that several sitewatch processes can share one workspace. Migrations are
Alembic revisions shipped inside the package, run programmatically: no alembic.ini.
"""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event

from sitewatch.errors import WorkspaceError


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


def _alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", "sitewatch.db:migrations")
    config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    """The newest migration shipped with this version of sitewatch."""
    script = ScriptDirectory.from_config(_alembic_config(create_engine("sqlite://")))
    head = script.get_current_head()
    assert head is not None, "the package ships no migrations"
    return head


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at, or None for an empty database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade_database(engine: Engine, revision: str = "head") -> str:
    """Bring the schema to ``revision`` (default: the newest) and return it."""
    command.upgrade(_alembic_config(engine), revision)
    current = current_revision(engine)
    assert current is not None
    return current


def check_schema(engine: Engine) -> None:
    """Refuse to work on a database whose schema is not the one this code expects."""
    current = current_revision(engine)
    head = head_revision()
    if current != head:
        raise WorkspaceError(
            f"database schema is at {current or 'nothing'}, this sitewatch needs {head}: "
            "run 'sitewatch db upgrade'"
        )
