"""API shapes of the submissions stage."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from airlock.enrollment.rules import Scope
from airlock.submissions.rules import SubmissionState


class In(BaseModel):
    """Base of request bodies: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class ModelIn(In):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=5000)


class ModelOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    org_id: str
    name: str
    description: str
    created_at: datetime


class SubmissionIn(In):
    model_id: str = Field(min_length=1, max_length=64)
    title: str = Field(min_length=1, max_length=200)
    version: str = Field(default="", max_length=80)
    carries: list[Scope] = Field(default_factory=list, max_length=10)
    dossier: dict[str, Any] | None = None
    fixes_submission_id: str | None = Field(default=None, min_length=1, max_length=64)


class SubmissionPatch(In):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    version: str | None = Field(default=None, max_length=80)
    carries: list[Scope] | None = Field(default=None, max_length=10)
    dossier: dict[str, Any] | None = None


class SubmissionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    org_id: str
    model_id: str
    title: str
    version: str
    state: str
    carries: list[str]
    dossier_schema_version: str
    return_reason: str
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    fixes_submission_id: str | None = None


class DossierOut(BaseModel):
    submission_id: str
    confidential: bool
    dossier: dict[str, Any]


class DossierProblemOut(BaseModel):
    path: str
    rule: str
    message: str


class DossierCheckOut(BaseModel):
    """The result of checking a dossier: schema errors, and what a submission still needs."""

    valid: bool
    schema_version: str | None
    current_version: str
    errors: list[DossierProblemOut]
    missing: list[DossierProblemOut]


class TransitionIn(In):
    to: SubmissionState
    reason: str = Field(default="", max_length=5000)


class TransitionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    from_state: str | None
    to_state: str
    actor_user_id: str | None
    reason: str
    at: datetime


class AssignIn(In):
    reviewer_id: str = Field(min_length=1, max_length=64)


class AssigneeOut(BaseModel):
    user_id: str
    email: str


class QueueItemOut(BaseModel):
    id: str
    title: str
    version: str
    state: str
    org_id: str
    firm: str
    model: str
    updated_at: datetime


class QueueOut(BaseModel):
    items: list[QueueItemOut]
    total: int
    page: int
    per_page: int
