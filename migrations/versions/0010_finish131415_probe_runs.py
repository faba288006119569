"""probe runs a reviewer starts, the probe response cache, and endpoint keys

Revision ID: 0010_finish131415_probe_runs
Revises: 0009_restricted_grants
Create Date: 2026-12-01 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa

import airlock.core.db
from alembic import op

revision = "0010_finish131415_probe_runs"
down_revision = "0009_restricted_grants"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "probe_runs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("submission_id", sa.String(32), sa.ForeignKey("submissions.id"), nullable=False),
        sa.Column("org_id", sa.String(32), sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("requested_by", sa.String(32), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("packs", sa.JSON(), nullable=False),
        sa.Column("budget_requests", sa.Integer(), nullable=False),
        sa.Column("reuse_answers", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("planned", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("succeeded", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("cache_hits", sa.Integer(), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("created_at", airlock.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", airlock.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", airlock.core.db.UTCDateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_probe_runs_submission_id", "probe_runs", ["submission_id"])
    op.create_index("ix_probe_runs_org_id", "probe_runs", ["org_id"])
    op.create_table(
        "probe_responses",
        sa.Column(
            "org_id", sa.String(32), sa.ForeignKey("organisations.id"), primary_key=True
        ),
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.Column("created_at", airlock.core.db.UTCDateTime(timezone=True), nullable=False),
    )


    op.create_table(
        "endpoint_keys",
        sa.Column(
            "submission_id", sa.String(32), sa.ForeignKey("submissions.id"), primary_key=True
        ),
        sa.Column("org_id", sa.String(32), sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.Column("set_by", sa.String(32), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("set_at", airlock.core.db.UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_endpoint_keys_org_id", "endpoint_keys", ["org_id"])


def downgrade() -> None:
    op.drop_index("ix_endpoint_keys_org_id", table_name="endpoint_keys")
    op.drop_table("endpoint_keys")
    op.drop_table("probe_responses")
    op.drop_index("ix_probe_runs_org_id", table_name="probe_runs")
    op.drop_index("ix_probe_runs_submission_id", table_name="probe_runs")
    op.drop_table("probe_runs")
