"""Schema migrations: Alembic revisions shipped inside the package, run programmatically.

No alembic.ini. Only creating or upgrading a workspace imports this (and Alembic);
opening one checks the revision with :func:`sitewatch.db.engine.check_schema`.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine

from sitewatch.db.engine import current_revision


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


def upgrade_database(engine: Engine, revision: str = "head") -> str:
    """Bring the schema to ``revision`` (default: the newest) and return it."""
    command.upgrade(_alembic_config(engine), revision)
    current = current_revision(engine)
    assert current is not None
    return current
