"""Open-source reporting: sources (articles, reports), their mentions and claims.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 15:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sources",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("publisher", sa.String(length=300), nullable=True),
        sa.Column("published_on", sa.String(length=10), nullable=True),
        sa.Column("authors", sa.JSON(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=True),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("byte_size", sa.BigInteger(), nullable=False),
        sa.Column("stored_path", sa.String(length=1000), nullable=False),
        sa.Column("file_name", sa.String(length=500), nullable=False),
        sa.Column("extractor", sa.String(length=50), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "source_mentions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("start", sa.Integer(), nullable=False),
        sa.Column("end", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("value", sa.String(length=300), nullable=False),
        sa.Column("site_id", sa.String(length=100), nullable=True),
        sa.Column("candidates", sa.JSON(), nullable=False),
        sa.Column("ambiguous", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("source_mentions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_source_mentions_source_id"), ["source_id"])
        batch_op.create_index(batch_op.f("ix_source_mentions_site_id"), ["site_id"])
    op.create_table(
        "claims",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("start", sa.Integer(), nullable=False),
        sa.Column("end", sa.Integer(), nullable=False),
        sa.Column("speaker", sa.String(length=300), nullable=True),
        sa.Column("claimed_on", sa.String(length=10), nullable=True),
        sa.Column("stance", sa.String(length=30), nullable=False),
        sa.Column("quote", sa.Text(), nullable=False),
        sa.Column("site_ids", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claims_source_id"), ["source_id"])
    op.create_table(
        "claim_reviews",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("claim_id", sa.String(length=100), nullable=False),
        sa.Column("analyst", sa.String(length=100), nullable=False),
        sa.Column("verdict", sa.String(length=20), nullable=False),
        sa.Column("corrections", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["claim_id"], ["claims.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["analyst"], ["analysts.name"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("claim_reviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claim_reviews_claim_id"), ["claim_id"])


def downgrade() -> None:
    with op.batch_alter_table("claim_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claim_reviews_claim_id"))
    op.drop_table("claim_reviews")
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claims_source_id"))
    op.drop_table("claims")
    with op.batch_alter_table("source_mentions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_source_mentions_site_id"))
        batch_op.drop_index(batch_op.f("ix_source_mentions_source_id"))
    op.drop_table("source_mentions")
    op.drop_table("sources")
