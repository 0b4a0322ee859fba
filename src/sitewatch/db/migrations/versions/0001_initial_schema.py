"""Initial schema: sites, their sources, scenes and their assets.

Revision ID: 0001
Revises:
Create Date: 2026-11-26 01:12:56.676260
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scenes",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("datetime", sa.DateTime(), nullable=False),
        sa.Column("footprint", sa.LargeBinary(), nullable=False),
        sa.Column("crs", sa.String(length=2000), nullable=False),
        sa.Column("resolution_m", sa.Float(), nullable=True),
        sa.Column("bands", sa.JSON(), nullable=False),
        sa.Column("platform", sa.String(length=100), nullable=True),
        sa.Column("instrument", sa.String(length=100), nullable=True),
        sa.Column("cloud_cover", sa.Float(), nullable=True),
        sa.Column("collection", sa.String(length=200), nullable=True),
        sa.Column("origin", sa.String(length=20), nullable=False),
        sa.Column("stac_item", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("min_lon", sa.Float(), nullable=True),
        sa.Column("min_lat", sa.Float(), nullable=True),
        sa.Column("max_lon", sa.Float(), nullable=True),
        sa.Column("max_lat", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("scenes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_scenes_bbox", ["min_lon", "max_lon", "min_lat", "max_lat"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_scenes_datetime"), ["datetime"], unique=False)

    op.create_table(
        "sites",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("geometry", sa.LargeBinary(), nullable=True),
        sa.Column("country", sa.String(length=3), nullable=True),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("missile_classes", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("declared", sa.Boolean(), nullable=False),
        sa.Column("uncertainty_m", sa.Float(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("min_lon", sa.Float(), nullable=True),
        sa.Column("min_lat", sa.Float(), nullable=True),
        sa.Column("max_lon", sa.Float(), nullable=True),
        sa.Column("max_lat", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sites_bbox", ["min_lon", "max_lon", "min_lat", "max_lat"], unique=False
        )

    op.create_table(
        "scene_assets",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("scene_id", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("href", sa.String(length=2000), nullable=False),
        sa.Column("bands", sa.JSON(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("media_type", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["scene_id"], ["scenes.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("scene_assets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scene_assets_scene_id"), ["scene_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_scene_assets_sha256"), ["sha256"], unique=False)

    op.create_table(
        "site_sources",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("site_id", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column("date", sa.String(length=10), nullable=True),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("site_sources", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_site_sources_site_id"), ["site_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("site_sources", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_site_sources_site_id"))

    op.drop_table("site_sources")
    with op.batch_alter_table("scene_assets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scene_assets_sha256"))
        batch_op.drop_index(batch_op.f("ix_scene_assets_scene_id"))

    op.drop_table("scene_assets")
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_index("ix_sites_bbox")

    op.drop_table("sites")
    with op.batch_alter_table("scenes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scenes_datetime"))
        batch_op.drop_index("ix_scenes_bbox")

    op.drop_table("scenes")
