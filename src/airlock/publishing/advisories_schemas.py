"""Pydantic shapes of the advisories API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class AdvisoryIn(BaseModel):
    """A new advisory, or a revision of one."""

    title: str = Field(min_length=1, max_length=300)
    summary: str = Field(min_length=1, max_length=20_000)
    vulnerabilities: dict[str, dict[str, Any]] | None = None


class RevisionIn(AdvisoryIn):
    """A revision says what changed."""

    change: str = Field(min_length=1, max_length=20_000)


class MoveIn(BaseModel):
    """Move an advisory."""

    target: Literal["draft", "in_review", "approved", "published", "updated", "withdrawn"]
    reason: str = Field(default="", max_length=4000)


class RevisionOut(BaseModel):
    """One revision."""

    model_config = ConfigDict(from_attributes=True)

    number: int
    title: str
    summary: str
    change: str
    vulnerabilities: dict[str, Any]
    created_at: datetime


class AdvisoryOut(BaseModel):
    """An advisory with its revisions."""

    id: str
    case_id: str
    tracking_id: str
    state: str
    published_at: datetime | None
    revisions: list[RevisionOut]
