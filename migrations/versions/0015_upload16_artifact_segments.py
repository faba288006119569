"""an artifact may be stored as the upload's sealed chunks, listed in order

Revision ID: 0010_upload16_artifact_segments
Revises: 0010_report12_transparency
Create Date: 2026-12-01 17:30:00
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0010_upload16_artifact_segments"
down_revision = "0010_report12_transparency"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("artifacts") as batch:
        batch.add_column(sa.Column("segments", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("bound_to", sa.String(64), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("artifacts") as batch:
        batch.drop_column("bound_to")
        batch.drop_column("segments")
