"""transparency report snapshots, and each firm's consent to be named publicly

Revision ID: 0010_report12_transparency
Revises: 0010_auth10_sign_in
Create Date: 2026-12-01 17:30:00
"""

from __future__ import annotations

import sqlalchemy as sa

import airlock.core.db
from alembic import op

revision = "0010_report12_transparency"
down_revision = "0010_auth10_sign_in"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_snapshots",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("period", sa.String(8), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("min_cell", sa.Integer(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("change", sa.Text(), nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(32), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("created_at", airlock.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.String(32), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("published_at", airlock.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("period", "version", name="uq_report_snapshots_version"),
    )
    op.create_index("ix_report_snapshots_period", "report_snapshots", ["period"])
    with op.batch_alter_table("participations") as batch:
        batch.add_column(
            sa.Column(
                "public_name_consent", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("participations") as batch:
        batch.drop_column("public_name_consent")
    op.drop_index("ix_report_snapshots_period", "report_snapshots")
    op.drop_table("report_snapshots")
