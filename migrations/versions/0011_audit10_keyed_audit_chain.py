"""the audit chain is keyed (HMAC under a key in the key store) from this upgrade on

Revision ID: 0010_audit10_keyed_audit_chain
Revises: 0010_finish131415_probe_runs
Create Date: 2026-12-01 17:30:00

Rows already written keep their plain SHA-256 links: a migration cannot reach the key store,
and rewriting audit rows is exactly what the trail forbids. `audit_head.keyed_from` records the
first row to be keyed (the row after the current head); the first row appended after the
upgrade links to the last unkeyed row under the MAC, so a later rewrite of the older rows breaks
that row's MAC. `airlock db upgrade` then signs a checkpoint of the head (which carries
keyed_from), re-anchoring the old rows outside the database. docs/security.md says what this
means for the rows from before the upgrade.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_audit10_keyed_audit_chain"
down_revision = "0010_finish131415_probe_runs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_head") as batch:
        batch.add_column(
            sa.Column("keyed_from", sa.BigInteger(), nullable=False, server_default="1")
        )
    op.execute("UPDATE audit_head SET keyed_from = seq + 1")


def downgrade() -> None:
    with op.batch_alter_table("audit_head") as batch:
        batch.drop_column("keyed_from")
