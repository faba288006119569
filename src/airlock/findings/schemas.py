"""Pydantic shapes of the findings API and pages."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from airlock.findings.rules import FindingState


class In(BaseModel):
    """Base of request bodies: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class ClassificationIn(In):
    severity: str = Field(min_length=1, max_length=16)
    cvss_vector: str = Field(default="", max_length=300)
    atlas: list[str] = Field(default_factory=list, max_length=20)
    owasp_llm: list[str] = Field(default_factory=list, max_length=20)
    cwe: list[str] = Field(default_factory=list, max_length=20)


class ConfirmIn(ClassificationIn):
    note: str = Field(default="", max_length=5000)


class ReasonIn(In):
    reason: str = Field(default="", max_length=5000)


class BulkFalsePositiveIn(In):
    finding_ids: list[str] = Field(min_length=1, max_length=500)
    reason: str = Field(default="", max_length=5000)


class DuplicateIn(In):
    duplicate_of: str = Field(min_length=1, max_length=64)
    reason: str = Field(default="", max_length=5000)


class TransitionIn(In):
    target: FindingState
    reason: str = Field(default="", max_length=5000)


class ManualFindingIn(ClassificationIn):
    submission_id: str = Field(min_length=1, max_length=64)
    title: str = Field(min_length=1, max_length=300)
    description: str = Field(default="", max_length=5000)


class SignoffIn(In):
    decision: Literal["approve", "request_changes"]
    comment: str = Field(default="", max_length=5000)


class SignoffPolicyIn(In):
    required_roles: list[str] = Field(min_length=1, max_length=5)


class DecisionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: str
    severity: str
    cvss_vector: str
    cvss_score: float | None
    atlas: list[str]
    owasp_llm: list[str]
    cwe: list[str]
    reason: str
    duplicate_of: str | None
    actor_user_id: str | None
    at: datetime


class EvidenceOut(BaseModel):
    id: str
    scan_result_id: str | None
    artifact_id: str | None
    rule_id: str | None
    severity: str | None
    verdict: str | None
    message: str | None
    location: str | None
    attachment_name: str
    attachment_size: int
    note: str
    created_at: datetime


class FindingOut(BaseModel):
    id: str
    submission_id: str
    org_id: str
    fingerprint: str
    check_name: str
    rule_id: str
    title: str
    reported_severity: str
    reported_verdict: str
    severity: str
    state: str
    state_label: str
    manual: bool
    created_at: datetime
    allowed_moves: list[str] = Field(default_factory=list)


class FindingDetailOut(FindingOut):
    evidence: list[EvidenceOut]
    decisions: list[DecisionOut]


class FindingsOut(BaseModel):
    findings: list[FindingOut]


class FixRowOut(BaseModel):
    status: str
    fingerprint: str
    rule_id: str
    title: str
    severity: str
    finding_id: str | None
    finding_state: str | None


class FixDiffOut(BaseModel):
    submission_id: str
    fix_submission_id: str | None
    scanned: bool
    fixed: int
    still_present: int
    new: int
    pending: int
    rows: list[FixRowOut]


class SignoffOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    decision: str
    role: str
    comment: str
    actor_user_id: str | None
    at: datetime


class ReviewStatusOut(BaseModel):
    submission_id: str
    required_roles: list[str]
    missing_signoffs: list[str]
    untriaged_block: int
    open_serious: int
    may_complete: bool
    reasons: list[str]
    signoffs: list[SignoffOut]


class SignoffPolicyOut(BaseModel):
    required_roles: list[str]


class DurationsOut(BaseModel):
    count: int
    mean_hours: float | None
    median_hours: float | None


class FalsePositiveRateOut(BaseModel):
    check_name: str
    rule_id: str
    triaged: int
    false_positives: int
    rate: float


class CheckRateOut(BaseModel):
    name: str
    state: str
    triaged: int
    false_positives: int
    rate: float


class MetricsOut(BaseModel):
    to_acknowledge: DurationsOut
    to_fix: DurationsOut
    to_verify: DurationsOut
    critical_confirmed_with_release_date: int
    critical_fixed_before_release: int
    critical_fixed_before_release_share: float | None
    deadline_overruns: int | None
    false_positive_rates: list[FalsePositiveRateOut]
    checks: list[CheckRateOut]
