"""restricted dossier fields are granted to named reviewers

Revision ID: 0009_restricted_grants
Revises: 0008_org_keys_in_key_store
Create Date: 2026-12-01 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa

import airlock.core.db
from alembic import op

revision = "0009_restricted_grants"
down_revision = "0008_org_keys_in_key_store"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "restricted_grants",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("submission_id", sa.String(32), sa.ForeignKey("submissions.id"), nullable=False),
        sa.Column("user_id", sa.String(32), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("granted_by", sa.String(32), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("granted_at", airlock.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_by", sa.String(32), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("revoked_at", airlock.core.db.UTCDateTime(timezone=True), nullable=True),
    )
    op.create_index(
        "ix_restricted_grants_submission_user", "restricted_grants", ["submission_id", "user_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_restricted_grants_submission_user", table_name="restricted_grants")
    op.drop_table("restricted_grants")
