"""Findings tables: findings, their evidence, their triage decisions, and review sign-offs.

A finding groups the scan results of one submission that share a fingerprint (the same problem
in three files is one finding with three evidence rows). Its `state` column mirrors the last
row of the core transitions table for fast queues; every change is a transition row. Triage
decisions and sign-offs are appended rows, never edited.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from airlock.core.db import ID, Base, new_id, utcnow


class Finding(Base):
    """A problem in one submission, from a check's results or added by hand by a reviewer."""

    __tablename__ = "findings"
    __table_args__ = (
        # One finding per fingerprint per submission; manual findings get their own fingerprint.
        UniqueConstraint("submission_id", "fingerprint", name="uq_findings_submission_fp"),
        Index("ix_findings_state", "state"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    submission_id: Mapped[str] = mapped_column(ID, ForeignKey("submissions.id"), index=True)
    org_id: Mapped[str] = mapped_column(ID, ForeignKey("organisations.id"), index=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    # The check and rule that raised it ("manual" for a reviewer's own finding).
    check_name: Mapped[str] = mapped_column(String(80))
    rule_id: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    # What the check said; the confirmed severity is in the latest decision.
    reported_severity: Mapped[str] = mapped_column(String(16))
    reported_verdict: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(24))
    manual: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[str | None] = mapped_column(ID, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FindingEvidence(Base):
    """One piece of evidence: a scan result, or an attachment a reviewer stored in the vault."""

    __tablename__ = "finding_evidence"
    __table_args__ = (
        UniqueConstraint("finding_id", "scan_result_id", name="uq_finding_evidence_result"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    finding_id: Mapped[str] = mapped_column(ID, ForeignKey("findings.id"), index=True)
    scan_result_id: Mapped[str | None] = mapped_column(ID, ForeignKey("scan_results.id"))
    artifact_id: Mapped[str | None] = mapped_column(ID, ForeignKey("artifacts.id"))
    # An attachment: its name, and where its encrypted bytes sit in the blob store.
    attachment_name: Mapped[str] = mapped_column(String(255), default="")
    attachment_key: Mapped[str] = mapped_column(String(300), default="")
    attachment_size: Mapped[int] = mapped_column(default=0)
    attachment_sha256: Mapped[str] = mapped_column(String(64), default="")
    # The attachment's data key, wrapped under this version of the firm's organisation key.
    key_version: Mapped[int | None] = mapped_column()
    wrapped_data_key: Mapped[bytes | None] = mapped_column(LargeBinary(128))
    note: Mapped[str] = mapped_column(Text, default="")
    added_by: Mapped[str | None] = mapped_column(ID, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FindingDecision(Base):
    """A triage decision (confirm, false positive, duplicate); appended, never edited."""

    __tablename__ = "finding_decisions"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    finding_id: Mapped[str] = mapped_column(ID, ForeignKey("findings.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    severity: Mapped[str] = mapped_column(String(16), default="")
    cvss_vector: Mapped[str] = mapped_column(String(300), default="")
    cvss_score: Mapped[float | None] = mapped_column()
    atlas: Mapped[list[Any]] = mapped_column(default=list)
    owasp_llm: Mapped[list[Any]] = mapped_column(default=list)
    cwe: Mapped[list[Any]] = mapped_column(default=list)
    reason: Mapped[str] = mapped_column(Text, default="")
    duplicate_of: Mapped[str | None] = mapped_column(ID, ForeignKey("findings.id"))
    # Copied from the finding so false-positive rates per check and rule need no join.
    check_name: Mapped[str] = mapped_column(String(80))
    rule_id: Mapped[str] = mapped_column(String(40))
    actor_user_id: Mapped[str | None] = mapped_column(ID, ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class SignoffPolicy(Base):
    """The roles that must sign off a review; a new version is a new row (latest applies)."""

    __tablename__ = "signoff_policies"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    required_roles: Mapped[list[Any]] = mapped_column(default=list)
    created_by: Mapped[str | None] = mapped_column(ID, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Signoff(Base):
    """A sign-off (approve or request changes, with a comment) or a reopening; appended."""

    __tablename__ = "signoffs"
    __table_args__ = (Index("ix_signoffs_submission_at", "submission_id", "at"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    submission_id: Mapped[str] = mapped_column(ID, ForeignKey("submissions.id"))
    # approve | request_changes | reopened (the system's row when the submission changed)
    decision: Mapped[str] = mapped_column(String(24))
    role: Mapped[str] = mapped_column(String(32), default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    actor_user_id: Mapped[str | None] = mapped_column(ID, ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
