"""Scan tiles name the acquisitions they compared; candidates say whether they touch nodata.

``scan_tiles.acquisitions``: the scenes that gave at least one clear pixel to the tile's
BEFORE and AFTER composites (``{"before": [{"scene_id", "acquired"}], "after": [...]}``),
so a candidate, its chips and the triage view name the dates compared, not only the
requested windows. Empty for tiles stored before this revision (their scenes are found
again from the catalog as before).

``candidates.edge``: the object touches pixels the scan could not compare (nodata, a
scene footprint's edge, clouds): its outline may be cut there, so places holding it are
marked and the place ranking takes it into account.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 15:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("scan_tiles", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("acquisitions", sa.JSON(), nullable=False, server_default="{}")
        )
    with op.batch_alter_table("candidates", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("edge", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("candidates", schema=None) as batch_op:
        batch_op.drop_column("edge")
    with op.batch_alter_table("scan_tiles", schema=None) as batch_op:
        batch_op.drop_column("acquisitions")
