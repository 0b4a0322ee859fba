"""The migrations build exactly the tables the ORM models describe, and undo cleanly."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

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


def test_rows_stored_before_0008_read_as_untested_and_nothing_left_out(tmp_path: Path) -> None:
    """A scan stored before the vegetation-phase test: its candidates have no share or
    class (NULL, not a made-up 0), its tiles left nothing out."""
    engine = create_engine(f"sqlite:///{tmp_path / 'schema.db'}")
    upgrade_database(engine, "0007")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO scans (id, aoi_spec, geometry, before_start, before_end, after_start,"
                " after_end, method, parameters, crs, tile_size_m, status, summary, created_at)"
                " VALUES ('s', 'bbox', x'00', '2019-01-01', '2019-02-01', '2020-01-01',"
                " '2020-02-01', 'cva', '{}', 'EPSG:32652', 640, 'done', '{}', '2020-03-01')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO scan_tiles (scan_id, tile_key, status, candidate_count, message,"
                " finished_at) VALUES ('s', 't', 'done', 1, '', '2020-03-01')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO candidates (id, scan_id, tile_key, geometry, centroid_lon,"
                " centroid_lat, area_m2, score, max_score, known, chips, status, status_reason,"
                " created_at) VALUES ('s:t:1', 's', 't', x'00', 0, 0, 1000, 5, 6, 0, '{}',"
                " 'new', '', '2020-03-01')"
            )
        )
    assert upgrade_database(engine) == head_revision()
    with engine.connect() as connection:
        candidate = connection.execute(
            text("SELECT vegetation_share, change_class FROM candidates")
        ).one()
        left_out = connection.execute(
            text("SELECT vegetation_objects, water_pixels FROM scan_tiles")
        ).one()
    assert tuple(candidate) == (None, None)
    assert tuple(left_out) == (0, 0)  # 0009: nor did they count water
