"""dossier schema versions are semantic

Revision ID: 0007_dossier_schema_semver
Revises: 0006_coverage
Create Date: 2026-12-01 14:30:00

Submissions already record the schema version their dossier was written against; the
label "1.0" of the first schema is now the semantic version "1.0.0". The dossiers keep the
label they were written with and are upgraded when read (airlock.dossiers.versions).
"""

from __future__ import annotations

from alembic import op

revision = "0007_dossier_schema_semver"
down_revision = "0006_coverage"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "UPDATE submissions SET dossier_schema_version = '1.0.0' "
        "WHERE dossier_schema_version = '1.0'"
    )


def downgrade() -> None:
    op.execute(
        "UPDATE submissions SET dossier_schema_version = '1.0' "
        "WHERE dossier_schema_version = '1.0.0'"
    )
