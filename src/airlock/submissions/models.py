"""Registered AI models, submissions (release candidates) and reviewer assignments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from airlock.core.db import ID, Base, new_id, utcnow
from airlock.dossiers.versions import CURRENT as CURRENT_DOSSIER_VERSION


class AIModel(Base):
    """A model a firm registered with the program."""

    __tablename__ = "ai_models"
    __table_args__ = (UniqueConstraint("org_id", "name", name="uq_ai_models_org_name"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ID, ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Submission(Base):
    """A release candidate of a model, with its dossier."""

    __tablename__ = "submissions"
    __table_args__ = (Index("ix_submissions_state_updated", "state", "updated_at"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ID, ForeignKey("organisations.id"), index=True)
    model_id: Mapped[str] = mapped_column(ID, ForeignKey("ai_models.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(80), default="")
    state: Mapped[str] = mapped_column(String(24))
    carries: Mapped[list[Any]] = mapped_column(default=list)
    dossier: Mapped[dict[str, Any]] = mapped_column(default=dict)
    dossier_schema_version: Mapped[str] = mapped_column(String(16), default=CURRENT_DOSSIER_VERSION)
    return_reason: Mapped[str] = mapped_column(Text, default="")
    redacted: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[str] = mapped_column(ID, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column()
    # A fixed version names the submission whose findings it fixes.
    fixes_submission_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("submissions.id"), index=True
    )


class Assignment(Base):
    """A coordinator's assignment of a reviewer to a submission (need-to-know)."""

    __tablename__ = "assignments"
    __table_args__ = (
        UniqueConstraint("submission_id", "user_id", name="uq_assignments_submission_user"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    submission_id: Mapped[str] = mapped_column(ID, ForeignKey("submissions.id"), index=True)
    user_id: Mapped[str] = mapped_column(ID, ForeignKey("users.id"), index=True)
    assigned_by: Mapped[str] = mapped_column(ID, ForeignKey("users.id"))
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)


class RestrictedGrant(Base):
    """A coordinator's grant to one assigned reviewer of a submission's `restricted` fields.

    Revoking sets `revoked_at`; a later grant is a new row, so the record of who could read
    what, and when, stays whole (and every change is audited).
    """

    __tablename__ = "restricted_grants"
    __table_args__ = (Index("ix_restricted_grants_submission_user", "submission_id", "user_id"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    submission_id: Mapped[str] = mapped_column(ID, ForeignKey("submissions.id"))
    user_id: Mapped[str] = mapped_column(ID, ForeignKey("users.id"))
    granted_by: Mapped[str] = mapped_column(ID, ForeignKey("users.id"))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_by: Mapped[str | None] = mapped_column(ID, ForeignKey("users.id"))
    revoked_at: Mapped[datetime | None] = mapped_column()
