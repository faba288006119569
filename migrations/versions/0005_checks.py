"""checks: runs record their subject (kind, id) and request; scan_findings become scan_results

Revision ID: 0005_checks
Revises: 0004_scheduled_jobs
Create Date: 2026-12-01 14:45:00

Rows are copied, never rewritten: every existing run and result was an artifact scan, so its
subject is that artifact and its request the automatic one.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import airlock.core.db

revision = "0005_checks"
down_revision = "0004_scheduled_jobs"
branch_labels = None
depends_on = None

_COPIED = (
    "id, run_id, artifact_id, submission_id, org_id, rule_id, severity, verdict, message, "
    "evidence, atlas, fingerprint, scanner_name, scanner_version, created_at"
)


def upgrade() -> None:
    with op.batch_alter_table("scan_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subject_kind", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("subject_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("request_key", sa.String(length=40), nullable=True))
    op.execute(
        "UPDATE scan_runs SET subject_kind = 'artifact', subject_id = artifact_id, "
        "request_key = 'auto'"
    )
    with op.batch_alter_table("scan_runs", schema=None) as batch_op:
        batch_op.alter_column("subject_kind", existing_type=sa.String(length=16), nullable=False)
        batch_op.alter_column("subject_id", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("request_key", existing_type=sa.String(length=40), nullable=False)
        batch_op.alter_column("artifact_id", existing_type=sa.String(length=32), nullable=True)
        batch_op.drop_constraint("uq_scan_runs_artifact_scanner_version", type_="unique")
        batch_op.create_unique_constraint(
            "uq_scan_runs_subject_check_version_request",
            ["subject_kind", "subject_id", "scanner_name", "scanner_version", "request_key"],
        )
        batch_op.create_index("ix_scan_runs_subject", ["subject_kind", "subject_id"], unique=False)

    op.create_table(
        "scan_results",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("subject_kind", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=False),
        sa.Column("artifact_id", sa.String(length=32), nullable=True),
        sa.Column("submission_id", sa.String(length=32), nullable=False),
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.Column("rule_id", sa.String(length=40), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("atlas", sa.JSON(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("scanner_name", sa.String(length=80), nullable=False),
        sa.Column("scanner_version", sa.String(length=40), nullable=False),
        sa.Column("created_at", airlock.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["artifact_id"], ["artifacts.id"], name=op.f("fk_scan_results_artifact_id_artifacts")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_scan_results_org_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["scan_runs.id"], name=op.f("fk_scan_results_run_id_scan_runs")
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_scan_results_submission_id_submissions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan_results")),
    )
    op.execute(
        f"INSERT INTO scan_results (subject_kind, subject_id, {_COPIED}) "
        f"SELECT 'artifact', artifact_id, {_COPIED} FROM scan_findings"
    )
    with op.batch_alter_table("scan_results", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_scan_results_artifact_id"), ["artifact_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_scan_results_fingerprint"), ["fingerprint"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_scan_results_org_id"), ["org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_scan_results_run_id"), ["run_id"], unique=False)
        batch_op.create_index(
            "ix_scan_results_submission_scanner", ["submission_id", "scanner_name"], unique=False
        )
    with op.batch_alter_table("scan_findings", schema=None) as batch_op:
        batch_op.drop_index("ix_scan_findings_submission_scanner")
        batch_op.drop_index(batch_op.f("ix_scan_findings_run_id"))
        batch_op.drop_index(batch_op.f("ix_scan_findings_org_id"))
        batch_op.drop_index(batch_op.f("ix_scan_findings_fingerprint"))
        batch_op.drop_index(batch_op.f("ix_scan_findings_artifact_id"))
    op.drop_table("scan_findings")


def downgrade() -> None:
    raise NotImplementedError(
        "0005_checks cannot be undone: runs of subjects other than artifacts, and rescans of "
        "the same check version, have no place in the earlier tables"
    )
