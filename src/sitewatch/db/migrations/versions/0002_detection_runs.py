"""Detection runs and their change objects.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 01:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "detection_runs",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("site_id", sa.String(length=100), nullable=True),
        sa.Column("method", sa.String(length=100), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("before_scene_id", sa.String(length=200), nullable=True),
        sa.Column("after_scene_id", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("lineage", sa.JSON(), nullable=False),
        sa.Column("products", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("detection_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_detection_runs_site_id"), ["site_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_detection_runs_created_at"), ["created_at"], unique=False
        )

    op.create_table(
        "change_objects",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("geometry", sa.LargeBinary(), nullable=False),
        sa.Column("area_m2", sa.Float(), nullable=True),
        sa.Column("centroid_lon", sa.Float(), nullable=True),
        sa.Column("centroid_lat", sa.Float(), nullable=True),
        sa.Column("mean_score", sa.Float(), nullable=False),
        sa.Column("max_score", sa.Float(), nullable=False),
        sa.Column("direction", sa.Integer(), nullable=False),
        sa.Column("pixel_count", sa.Integer(), nullable=False),
        sa.Column("min_lon", sa.Float(), nullable=True),
        sa.Column("min_lat", sa.Float(), nullable=True),
        sa.Column("max_lon", sa.Float(), nullable=True),
        sa.Column("max_lat", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["detection_runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("change_objects", schema=None) as batch_op:
        batch_op.create_index(
            "ix_change_objects_bbox", ["min_lon", "max_lon", "min_lat", "max_lat"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_change_objects_run_id"), ["run_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("change_objects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_change_objects_run_id"))
        batch_op.drop_index("ix_change_objects_bbox")
    op.drop_table("change_objects")
    with op.batch_alter_table("detection_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_detection_runs_created_at"))
        batch_op.drop_index(batch_op.f("ix_detection_runs_site_id"))
    op.drop_table("detection_runs")
