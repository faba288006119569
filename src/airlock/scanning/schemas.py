"""API and page shapes of the scanning stage: checks, scan results, artifacts with verdicts."""

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
    """Every registered check."""

    scanners: list[ScannerOut]


class ScannerStateIn(BaseModel):
    """Set a scanner's state: enabled, evaluation (the firm sees nothing) or disabled."""

    model_config = ConfigDict(extra="forbid")

    state: str = Field(min_length=1, max_length=16)


class ScanResultOut(BaseModel):
    """One immutable scan result of a check on a subject (raw output, not a finding)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    subject_kind: str
    subject_id: str
    artifact_id: str | None
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
    """An artifact's verdict (None until it is scanned) and the results the viewer may see."""

    artifact_id: str
    name: str
    verdict: str | None
    scanned_at: datetime | None
    error: str = ""
    results: list[ScanResultOut]


class SubjectCheckOut(BaseModel):
    """The latest run of a check on a subject other than an artifact (a dossier, an endpoint)."""

    subject_kind: str
    subject_id: str
    check: str
    version: str
    verdict: str
    finished_at: datetime
    error: str = ""
    results: list[ScanResultOut]


class SubmissionResultsOut(BaseModel):
    """A submission's artifacts with their verdicts and scan results, and the checks of its
    other subjects."""

    submission_id: str
    artifacts: list[ArtifactScanOut]
    checks: list[SubjectCheckOut] = []


class RescanIn(BaseModel):
    """Run a check again on one subject (an artifact's id for the artifact scanner)."""

    model_config = ConfigDict(extra="forbid")

    subject_id: str = Field(min_length=1, max_length=64)


class RescanOut(BaseModel):
    """The job that will run the check again."""

    job_id: str
