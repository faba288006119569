"""Scanning tables: checks and their state, check runs, and immutable scan results."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from airlock.core.db import ID, Base, new_id, utcnow

AUTO_REQUEST: Final = "auto"


class Scanner(Base):
    """A registered check: its name, the version that runs now, and its state."""

    __tablename__ = "scanners"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    version: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(16))
    updated_by: Mapped[str] = mapped_column(String(320), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ScanRun(Base):
    """One run of a check version over one subject; an artifact's latest runs give its verdict.

    The same subject and check version run again only on request (a rescan), under a new
    request key; a redelivered job finds its run recorded and stores nothing.
    """

    __tablename__ = "scan_runs"
    __table_args__ = (
        UniqueConstraint(
            "subject_kind",
            "subject_id",
            "scanner_name",
            "scanner_version",
            "request_key",
            name="uq_scan_runs_subject_check_version_request",
        ),
        Index("ix_scan_runs_subject", "subject_kind", "subject_id"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    subject_kind: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[str] = mapped_column(String(64))
    # "auto" for the run an event asked for; a fresh id for each requested rescan.
    request_key: Mapped[str] = mapped_column(String(40), default=AUTO_REQUEST)
    artifact_id: Mapped[str | None] = mapped_column(ID, ForeignKey("artifacts.id"), index=True)
    submission_id: Mapped[str] = mapped_column(ID, ForeignKey("submissions.id"), index=True)
    org_id: Mapped[str] = mapped_column(ID, ForeignKey("organisations.id"), index=True)
    scanner_name: Mapped[str] = mapped_column(String(80))
    scanner_version: Mapped[str] = mapped_column(String(40))
    verdict: Mapped[str] = mapped_column(String(16))
    format: Mapped[str] = mapped_column(String(40), default="")
    seconds: Mapped[float] = mapped_column(default=0.0)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime] = mapped_column(default=utcnow)
    error: Mapped[str] = mapped_column(Text, default="")


class ScanResult(Base):
    """What a check reported in one run: appended once, never updated, never cascade-deleted.

    Raw output, not a finding: the findings stage turns results into reviewed findings.
    """

    __tablename__ = "scan_results"
    __table_args__ = (Index("ix_scan_results_submission_scanner", "submission_id", "scanner_name"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    run_id: Mapped[str] = mapped_column(ID, ForeignKey("scan_runs.id"), index=True)
    subject_kind: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[str] = mapped_column(String(64))
    artifact_id: Mapped[str | None] = mapped_column(ID, ForeignKey("artifacts.id"), index=True)
    submission_id: Mapped[str] = mapped_column(ID, ForeignKey("submissions.id"))
    org_id: Mapped[str] = mapped_column(ID, ForeignKey("organisations.id"), index=True)
    rule_id: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(16))
    verdict: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    atlas: Mapped[list[Any]] = mapped_column(default=list)
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    scanner_name: Mapped[str] = mapped_column(String(80))
    scanner_version: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
