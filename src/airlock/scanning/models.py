"""Scanning tables: scanner plugins and their state, scan runs, and immutable findings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from airlock.core.db import ID, Base, new_id, utcnow


class Scanner(Base):
    """A scanner plugin: its name, the version that runs now, and its state."""

    __tablename__ = "scanners"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    version: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(16))
    updated_by: Mapped[str] = mapped_column(String(320), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ScanRun(Base):
    """One scanner version run over one artifact; its verdict is the artifact's verdict."""

    __tablename__ = "scan_runs"
    __table_args__ = (
        UniqueConstraint(
            "artifact_id",
            "scanner_name",
            "scanner_version",
            name="uq_scan_runs_artifact_scanner_version",
        ),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    artifact_id: Mapped[str] = mapped_column(ID, ForeignKey("artifacts.id"), index=True)
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


class ScanFinding(Base):
    """A problem a scanner found: appended once, never updated, never cascade-deleted."""

    __tablename__ = "scan_findings"
    __table_args__ = (
        Index("ix_scan_findings_submission_scanner", "submission_id", "scanner_name"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    run_id: Mapped[str] = mapped_column(ID, ForeignKey("scan_runs.id"), index=True)
    artifact_id: Mapped[str] = mapped_column(ID, ForeignKey("artifacts.id"), index=True)
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
