"""finding attachments: evidence rows keep their wrapped data key and its key version

Revision ID: 0007_finding_attachments
Revises: 0006_findings
Create Date: 2026-12-01 15:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_finding_attachments"
down_revision = "0006_findings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("finding_evidence", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key_version", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("wrapped_data_key", sa.LargeBinary(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("finding_evidence", schema=None) as batch_op:
        batch_op.drop_column("wrapped_data_key")
        batch_op.drop_column("key_version")
