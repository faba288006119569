"""the dossier editor's working copies and the form keys that make creating forms idempotent

Revision ID: 0010_editor11_drafts_form_keys
Revises: 0010_audit10_keyed_audit_chain
Create Date: 2026-12-01 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa

import airlock.core.db
from alembic import op

revision = "0010_editor11_drafts_form_keys"
down_revision = "0010_audit10_keyed_audit_chain"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dossier_drafts",
        sa.Column(
            "submission_id", sa.String(32), sa.ForeignKey("submissions.id"), primary_key=True
        ),
        sa.Column("doc", sa.JSON(), nullable=False),
        sa.Column("checked", sa.Boolean(), nullable=False),
        sa.Column("saved_by", sa.String(32), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("saved_at", airlock.core.db.UTCDateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "form_keys",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("form", sa.String(80), nullable=False),
        sa.Column("result_url", sa.String(500), nullable=False),
        sa.Column("created_at", airlock.core.db.UTCDateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("form_keys")
    op.drop_table("dossier_drafts")
