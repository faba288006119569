"""API and page shapes of the scanning stage: scanners, findings, artifacts with verdicts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ScannerOut(BaseModel):
    """A scanner plugin, the version that runs now, and its state."""

    model_config = ConfigDict(from_attributes=True)

    name: str
    version: str
    state: str
    updated_by: str
    updated_at: datetime


class ScannersOut(BaseModel):
    """Every scanner the platform knows."""

    scanners: list[ScannerOut]


class ScannerStateIn(BaseModel):
    """Set a scanner's state: enabled, evaluation (the firm sees nothing) or disabled."""

    model_config = ConfigDict(extra="forbid")

    state: str = Field(min_length=1, max_length=16)


class FindingOut(BaseModel):
    """One immutable finding of a scanner on an artifact."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    artifact_id: str
    rule_id: str
    severity: str
    verdict: str
    message: str
    evidence: dict[str, Any]
    atlas: list[str]
    fingerprint: str
    scanner_name: str
    scanner_version: str
    created_at: datetime
    seen_in_other_submissions: int = 0  # the same fingerprint in the firm's other submissions


class ArtifactScanOut(BaseModel):
    """An artifact's verdict (None until it is scanned) and the findings the viewer may see."""

    artifact_id: str
    name: str
    verdict: str | None
    scanned_at: datetime | None
    error: str = ""
    findings: list[FindingOut]


class SubmissionFindingsOut(BaseModel):
    """A submission's artifacts with their verdicts and findings."""

    submission_id: str
    artifacts: list[ArtifactScanOut]
