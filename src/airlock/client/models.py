"""What the Airlock REST API answers, as the client reads it. Unknown fields are ignored so
an older client keeps working when the server adds one; tests compare these models with the
server's OpenAPI document so a change that breaks the client fails a test."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field


class _Out(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Me(_Out):
    """The signed-in user."""

    user_id: str
    email: str
    org_id: str
    org_kind: str
    role: str


class Token(_Out):
    """A new API token; its secret is shown once."""

    id: str
    name: str
    secret: str


class Model(_Out):
    """A registered model."""

    id: str
    org_id: str
    name: str
    description: str
    created_at: datetime


class Submission(_Out):
    """A release candidate and where it stands."""

    id: str
    org_id: str
    model_id: str
    title: str
    version: str
    state: str
    carries: list[str]
    dossier_schema_version: str = ""
    return_reason: str
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None


class Dossier(_Out):
    """A submission's dossier as the caller may see it."""

    submission_id: str
    confidential: bool
    dossier: dict[str, Any]


class DossierProblem(_Out):
    """One problem with a dossier: where, which rule, and a readable message."""

    path: str
    rule: str
    message: str


class DossierCheck(_Out):
    """The server's check of a dossier: schema errors and what a submission still needs."""

    valid: bool
    schema_version: str | None
    current_version: str
    errors: list[DossierProblem]
    missing: list[DossierProblem]


class Transition(_Out):
    """One state change of a submission."""

    from_state: str | None
    to_state: str
    actor_user_id: str | None
    reason: str
    at: datetime


class Assignee(_Out):
    """A reviewer assigned to a submission."""

    user_id: str
    email: str


class QueueItem(_Out):
    """A submission in the agency's queue."""

    id: str
    title: str
    version: str
    state: str
    org_id: str
    firm: str
    model: str
    updated_at: datetime


class QueuePage(_Out):
    """One page of the agency's queue."""

    items: list[QueueItem]
    total: int
    page: int
    per_page: int


class Upload(_Out):
    """An upload session and where to resume it."""

    id: str
    submission_id: str
    name: str
    kind: str
    size: int
    sha256: str
    state: str
    chunk_bytes: int
    chunks_total: int
    chunks_received: int
    next_index: int | None
    next_offset: int
    # Chunks still to send, as [start, end) index ranges (they may be sent in any order).
    missing: list[tuple[int, int]] = []
    expires_at: datetime
    artifact_id: str | None
    error: str = ""


class Artifact(_Out):
    """A stored artifact: its manifest line."""

    id: str
    submission_id: str
    name: str
    kind: str
    media_type: str
    size: int
    sha256: str
    state: str
    created_at: datetime


class Manifest(_Out):
    """Every file of a submission."""

    submission_id: str
    artifacts: list[Artifact]
    total_bytes: int


class ScanResult(_Out):
    """One immutable result of a scanner on an artifact."""

    id: str
    artifact_id: str
    rule_id: str
    severity: str
    verdict: str
    message: str
    evidence: dict[str, Any]
    atlas: list[str]


class ArtifactScan(_Out):
    """An artifact's verdict and the scan results the caller may see."""

    artifact_id: str
    name: str
    verdict: str | None
    scanned_at: datetime | None
    error: str = ""
    # The API called these "findings" before scan results and findings were told apart.
    results: list[ScanResult] = Field(
        default_factory=list, validation_alias=AliasChoices("results", "findings")
    )


class ScanResults(_Out):
    """A submission's artifacts with their verdicts and scan results."""

    submission_id: str
    artifacts: list[ArtifactScan]


class Finding(_Out):
    """A finding: a scan result (or a reviewer's note) that a human triages."""

    id: str
    submission_id: str
    org_id: str
    check_name: str
    rule_id: str
    title: str
    reported_severity: str
    reported_verdict: str
    severity: str
    state: str
    manual: bool
    created_at: datetime
    allowed_moves: list[str] = Field(default_factory=list)


class FindingEvidence(_Out):
    """One piece of a finding's evidence: a scan result or an attachment."""

    id: str
    scan_result_id: str | None
    rule_id: str | None
    message: str | None
    location: str | None
    attachment_name: str
    note: str
    created_at: datetime


class FindingDecision(_Out):
    """A triage decision on a finding (confirmed, false positive, duplicate...)."""

    id: str
    kind: str
    severity: str
    reason: str
    at: datetime


class FindingDetail(Finding):
    """A finding with its evidence (need-to-know) and decisions."""

    evidence: list[FindingEvidence]
    decisions: list[FindingDecision]


class Findings(_Out):
    """A list of findings, as the API wraps it."""

    findings: list[Finding]


class CaseSummary(_Out):
    """A case in a list: the coordination of one submission's findings."""

    id: str
    reference: str
    submission_id: str
    embargo_state: str
    created_at: datetime


class Cases(_Out):
    """The cases the caller may see, as the API wraps them."""

    cases: list[CaseSummary]


class CaseFinding(_Out):
    """A finding coordinated in a case."""

    finding_id: str
    severity: str
    title: str


class Thread(_Out):
    """A discussion in a case: general (no finding) or about one finding."""

    id: str
    finding_id: str | None


class Case(_Out):
    """A case with its findings and threads."""

    id: str
    reference: str
    submission_id: str
    org_id: str
    embargo_state: str
    findings: list[CaseFinding]
    threads: list[Thread]


class Message(_Out):
    """A message in a thread."""

    id: str
    author_user_id: str
    at: datetime
    text: str


class Messages(_Out):
    """A thread's messages, oldest first."""

    thread_id: str
    messages: list[Message]
