"""Candidates carry their vegetation-phase share and class; tiles count what they left out.

The scan now applies the detection's vegetation-phase test (NDVI of both dates,
:mod:`sitewatch.analysis.vegetation`): objects that are mostly crops growing, harvests or
leaf fall are left out of the candidates unless the scan keeps them.

``candidates.vegetation_share``: the share of the object's changed pixels whose change is
vegetation-phase; ``candidates.change_class``: ``structural`` or ``vegetation``. Both NULL
when the scan could not test (bands without B04 or B08) and for candidates stored before
this revision.

``scan_tiles.vegetation_objects``: the vegetation-phase objects the tile left out (0 for
tiles stored before this revision).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 19:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("scan_tiles", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("vegetation_objects", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("candidates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("vegetation_share", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("change_class", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("candidates", schema=None) as batch_op:
        batch_op.drop_column("change_class")
        batch_op.drop_column("vegetation_share")
    with op.batch_alter_table("scan_tiles", schema=None) as batch_op:
        batch_op.drop_column("vegetation_objects")
