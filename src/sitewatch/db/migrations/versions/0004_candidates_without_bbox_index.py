"""Candidates lose their lon/lat bounds index.

Candidates are listed by scan and score and opened by id; the one query by place, for the
new candidates near a site an analyst has just promoted, reads the bounds columns once per
decision. A scan of dense change inserts hundreds of candidates per tile, each into
every index: this one cost the scan's client, which shares the cores with the workers,
a third of its insert time (SQLite alone, the 218 candidates of a 5.12 km tile of the
benchmark's dense change: 6.8 -> 4.1 ms of CPU). The bounds columns stay, filled as
before, for a spatial index when a query needs one.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 12:40:00
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("candidates", schema=None) as batch_op:
        batch_op.drop_index("ix_candidates_bbox")


def downgrade() -> None:
    with op.batch_alter_table("candidates", schema=None) as batch_op:
        batch_op.create_index(
            "ix_candidates_bbox", ["min_lon", "max_lon", "min_lat", "max_lat"], unique=False
        )
