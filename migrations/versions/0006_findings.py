"""findings: findings grouped by fingerprint, evidence, triage decisions, sign-offs

Revision ID: 0006_findings
Revises: 0007_dossier_schema_semver
Create Date: 2026-12-01 15:30:00

Also links a fixed version to the submission whose findings it fixes
(`submissions.fixes_submission_id`).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import airlock.core.db

revision = "0006_findings"
down_revision = "0007_dossier_schema_semver"
branch_labels = None
depends_on = None

_ID = sa.String(length=32)


def _at(name: str) -> sa.Column[object]:
    return sa.Column(name, airlock.core.db.UTCDateTime(timezone=True), nullable=False)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def upgrade() -> None:
    op.create_table(
        "findings",
        sa.Column("id", _ID, nullable=False),
        sa.Column("submission_id", _ID, nullable=False),
        sa.Column("org_id", _ID, nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("check_name", sa.String(length=80), nullable=False),
        sa.Column("rule_id", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("reported_severity", sa.String(length=16), nullable=False),
        sa.Column("reported_verdict", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("manual", sa.Boolean(), nullable=False),
        sa.Column("created_by", _ID, nullable=True),
        _at("created_at"),
        _fk("findings", "submission_id", "submissions"),
        _fk("findings", "org_id", "organisations"),
        _fk("findings", "created_by", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_findings")),
        sa.UniqueConstraint("submission_id", "fingerprint", name="uq_findings_submission_fp"),
    )
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.create_index("ix_findings_state", ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_findings_org_id"), ["org_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_findings_submission_id"), ["submission_id"], unique=False
        )

    op.create_table(
        "finding_evidence",
        sa.Column("id", _ID, nullable=False),
        sa.Column("finding_id", _ID, nullable=False),
        sa.Column("scan_result_id", _ID, nullable=True),
        sa.Column("artifact_id", _ID, nullable=True),
        sa.Column("attachment_name", sa.String(length=255), nullable=False),
        sa.Column("attachment_key", sa.String(length=300), nullable=False),
        sa.Column("attachment_size", sa.Integer(), nullable=False),
        sa.Column("attachment_sha256", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("added_by", _ID, nullable=True),
        _at("created_at"),
        _fk("finding_evidence", "finding_id", "findings"),
        _fk("finding_evidence", "scan_result_id", "scan_results"),
        _fk("finding_evidence", "artifact_id", "artifacts"),
        _fk("finding_evidence", "added_by", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finding_evidence")),
        sa.UniqueConstraint("finding_id", "scan_result_id", name="uq_finding_evidence_result"),
    )
    with op.batch_alter_table("finding_evidence", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_finding_evidence_finding_id"), ["finding_id"], unique=False
        )

    op.create_table(
        "finding_decisions",
        sa.Column("id", _ID, nullable=False),
        sa.Column("finding_id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("cvss_vector", sa.String(length=300), nullable=False),
        sa.Column("cvss_score", sa.Double(), nullable=True),
        sa.Column("atlas", sa.JSON(), nullable=False),
        sa.Column("owasp_llm", sa.JSON(), nullable=False),
        sa.Column("cwe", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("duplicate_of", _ID, nullable=True),
        sa.Column("check_name", sa.String(length=80), nullable=False),
        sa.Column("rule_id", sa.String(length=40), nullable=False),
        sa.Column("actor_user_id", _ID, nullable=True),
        _at("at"),
        _fk("finding_decisions", "finding_id", "findings"),
        sa.ForeignKeyConstraint(
            ["duplicate_of"],
            ["findings.id"],
            name=op.f("fk_finding_decisions_duplicate_of_findings"),
        ),
        _fk("finding_decisions", "actor_user_id", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finding_decisions")),
    )
    with op.batch_alter_table("finding_decisions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_finding_decisions_finding_id"), ["finding_id"], unique=False
        )

    op.create_table(
        "signoff_policies",
        sa.Column("id", _ID, nullable=False),
        sa.Column("required_roles", sa.JSON(), nullable=False),
        sa.Column("created_by", _ID, nullable=True),
        _at("created_at"),
        _fk("signoff_policies", "created_by", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signoff_policies")),
    )

    op.create_table(
        "signoffs",
        sa.Column("id", _ID, nullable=False),
        sa.Column("submission_id", _ID, nullable=False),
        sa.Column("decision", sa.String(length=24), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("actor_user_id", _ID, nullable=True),
        _at("at"),
        _fk("signoffs", "submission_id", "submissions"),
        _fk("signoffs", "actor_user_id", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signoffs")),
    )
    with op.batch_alter_table("signoffs", schema=None) as batch_op:
        batch_op.create_index("ix_signoffs_submission_at", ["submission_id", "at"], unique=False)

    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fixes_submission_id", _ID, nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_submissions_fixes_submission_id_submissions"),
            "submissions",
            ["fixes_submission_id"],
            ["id"],
        )
        batch_op.create_index(
            batch_op.f("ix_submissions_fixes_submission_id"), ["fixes_submission_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_submissions_fixes_submission_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_submissions_fixes_submission_id_submissions"), type_="foreignkey"
        )
        batch_op.drop_column("fixes_submission_id")
    op.drop_table("signoffs")
    op.drop_table("signoff_policies")
    op.drop_table("finding_decisions")
    op.drop_table("finding_evidence")
    op.drop_table("findings")
