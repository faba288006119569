"""scheduled jobs: run_at, dispatched_at and the unique slot of a periodic task

Revision ID: 0004_scheduled_jobs
Revises: 0003_scanning
Create Date: 2026-12-01 14:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import airlock.core.db

revision = "0004_scheduled_jobs"
down_revision = "0003_scanning"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("run_at", airlock.core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("dispatched_at", airlock.core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("slot", sa.String(length=200), nullable=True))
    # Existing jobs were due when they were created, and their message went out then.
    op.execute("UPDATE jobs SET run_at = created_at, dispatched_at = created_at")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.alter_column(
            "run_at", existing_type=airlock.core.db.UTCDateTime(timezone=True), nullable=False
        )
        batch_op.create_index(batch_op.f("ix_jobs_run_at"), ["run_at"], unique=False)
        batch_op.create_unique_constraint(batch_op.f("uq_jobs_slot"), ["slot"])


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_jobs_slot"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_jobs_run_at"))
        batch_op.drop_column("slot")
        batch_op.drop_column("dispatched_at")
        batch_op.drop_column("run_at")
