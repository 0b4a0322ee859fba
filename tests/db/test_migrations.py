"""The migrations build exactly the tables the ORM models describe, and undo cleanly."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from sitewatch.db.engine import current_revision, shipped_revision
from sitewatch.db.migrate import _alembic_config, head_revision, upgrade_database
from sitewatch.db.models import Base


def test_migrated_schema_matches_the_models(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'schema.db'}")
    upgrade_database(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_every_migration_downgrades_to_an_empty_schema(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'schema.db'}")
    assert upgrade_database(engine) == head_revision()
    command.downgrade(_alembic_config(engine), "base")
    assert current_revision(engine) is None
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}


def test_the_revision_named_by_the_files_is_alembics_head() -> None:
    """Opening a workspace trusts the migration files' names instead of importing Alembic."""
    assert shipped_revision() == head_revision()
