"""Tables of the cases stage: cases, participants, threads, messages, deadlines, policy,
notifications and webhooks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from airlock.core.db import ID, Base, new_id, utcnow


class Case(Base):
    """The coordination of one submission's findings with its firm."""

    __tablename__ = "cases"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    # What subjects, emails and webhooks name: says nothing about the content.
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    submission_id: Mapped[str] = mapped_column(ID, ForeignKey("submissions.id"), unique=True)
    org_id: Mapped[str] = mapped_column(ID, ForeignKey("organisations.id"), index=True)
    embargo_state: Mapped[str] = mapped_column(String(16), default="none")
    embargo_ends_at: Mapped[datetime | None] = mapped_column()
    public_event: Mapped[str | None] = mapped_column(String(16))
    publication_consent_at: Mapped[datetime | None] = mapped_column()
    created_by: Mapped[str] = mapped_column(ID, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CaseFinding(Base):
    """A finding coordinated in a case; the firm sees it once notified_at is set."""

    __tablename__ = "case_findings"
    __table_args__ = (UniqueConstraint("case_id", "finding_id", name="uq_case_findings"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ID, ForeignKey("cases.id"), index=True)
    finding_id: Mapped[str] = mapped_column(ID, ForeignKey("findings.id"), index=True)
    severity: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(300), default="")
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    notified_at: Mapped[datetime | None] = mapped_column()


class Participant(Base):
    """Someone taking part in a case with a role, from started_at until ended_at."""

    __tablename__ = "case_participants"
    __table_args__ = (Index("ix_case_participants_case_user", "case_id", "user_id"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ID, ForeignKey("cases.id"))
    user_id: Mapped[str] = mapped_column(ID, ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(24))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column()
    added_by: Mapped[str | None] = mapped_column(ID, ForeignKey("users.id"))


class Thread(Base):
    """One conversation of a case: the general one (no finding) or one per finding."""

    __tablename__ = "case_threads"
    __table_args__ = (UniqueConstraint("case_id", "finding_id", name="uq_case_threads_finding"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ID, ForeignKey("cases.id"), index=True)
    # None for the general thread; the unique key holds one general thread per case on
    # PostgreSQL and SQLite alike because the service creates it with the case.
    finding_id: Mapped[str | None] = mapped_column(ID, ForeignKey("findings.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Message(Base):
    """An appended message; its body is encrypted under the firm's organisation key."""

    __tablename__ = "case_messages"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    thread_id: Mapped[str] = mapped_column(ID, ForeignKey("case_threads.id"), index=True)
    author_user_id: Mapped[str] = mapped_column(ID, ForeignKey("users.id"))
    key_version: Mapped[int] = mapped_column(Integer)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class DeadlinePolicy(Base):
    """One version of the deadline policy; a phase uses the version in force when it starts."""

    __tablename__ = "deadline_policies"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    hours: Mapped[dict[str, Any]] = mapped_column()
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str | None] = mapped_column(ID, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Deadline(Base):
    """A phase of one finding in a case, due at due_at; escalated at most once."""

    __tablename__ = "case_deadlines"
    __table_args__ = (
        UniqueConstraint("case_id", "finding_id", "phase", name="uq_case_deadlines_phase"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ID, ForeignKey("cases.id"), index=True)
    finding_id: Mapped[str] = mapped_column(ID, ForeignKey("findings.id"))
    phase: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))
    policy_version: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column()
    due_at: Mapped[datetime] = mapped_column()
    met_at: Mapped[datetime | None] = mapped_column()
    reminded_at: Mapped[datetime | None] = mapped_column()
    escalated_at: Mapped[datetime | None] = mapped_column()


class Extension(Base):
    """A firm's request to move a deadline, and the coordinator's answer with its reason."""

    __tablename__ = "deadline_extensions"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    deadline_id: Mapped[str] = mapped_column(ID, ForeignKey("case_deadlines.id"), index=True)
    requested_by: Mapped[str] = mapped_column(ID, ForeignKey("users.id"))
    requested_until: Mapped[datetime] = mapped_column()
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="requested")
    decided_by: Mapped[str | None] = mapped_column(ID, ForeignKey("users.id"))
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column()


class Notification(Base):
    """An in-app notification: a short text with no confidential detail and a link."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_read", "user_id", "read_at"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ID, ForeignKey("users.id"))
    case_id: Mapped[str | None] = mapped_column(ID, ForeignKey("cases.id"))
    kind: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(String(300))
    link: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column()


class WebhookEndpoint(Base):
    """A firm's URL that receives signed events about its cases."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ID, ForeignKey("organisations.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    # The signing secret (whsec_...): the receiver needs the same bytes, so it is kept.
    secret: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[str] = mapped_column(ID, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookDelivery(Base):
    """One event to one endpoint: the exact body signed, and where its delivery stands."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    endpoint_id: Mapped[str] = mapped_column(ID, ForeignKey("webhook_endpoints.id"), index=True)
    event_type: Mapped[str] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column()


class WebhookAttempt(Base):
    """The delivery log: one row per attempt, with the answer or the error."""

    __tablename__ = "webhook_attempts"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    delivery_id: Mapped[str] = mapped_column(ID, ForeignKey("webhook_deliveries.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(String(500), default="")
