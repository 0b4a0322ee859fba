"""Scan tiles count the changed pixels of open water on both dates they found.

The scan now applies the detection's open-water test (NDWI of both dates,
:mod:`sitewatch.analysis.water`): changed pixels that are water on both dates (sea colour,
turbidity, glint) are left out before the tile's objects are traced, unless the scan keeps
them.

``scan_tiles.water_pixels``: those pixels in the tile's square, left out or kept (0 for
tiles stored before this revision and when the scan could not test).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 22:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("scan_tiles", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("water_pixels", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("scan_tiles", schema=None) as batch_op:
        batch_op.drop_column("water_pixels")
