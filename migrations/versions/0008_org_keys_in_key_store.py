"""organisation keys live in the key store

Revision ID: 0008_org_keys_in_key_store
Revises: 0008_cases
Create Date: 2026-12-01 15:50:00

Organisation keys move out of the database into the key store (AIRLOCK_KEYSTORE_URL). The
rows keep the version, state and dates; `in_store` says the key is in the store and
`store_ref` holds what the store needs to find it. Existing wrapped keys are moved by
`airlock keys move-to-store`, which every server also runs on start
(airlock.vault.keyring.move_keys_to_store): a migration cannot reach the key store.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_org_keys_in_key_store"
down_revision = "0008_cases"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("vault_org_keys") as batch:
        batch.add_column(
            sa.Column("in_store", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("store_ref", sa.LargeBinary(4096), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("vault_org_keys") as batch:
        batch.drop_column("store_ref")
        batch.drop_column("in_store")
