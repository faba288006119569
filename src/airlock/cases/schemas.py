"""Pydantic shapes of the cases API: cases, threads, messages, deadlines, extensions,
notifications, webhooks and advisories."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictBool


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class OpenCaseIn(BaseModel):
    """Open (or find) the case of a submission."""

    submission_id: str = Field(min_length=1, max_length=64)


class ParticipantIn(BaseModel):
    """Add someone to a case."""

    user_id: str = Field(min_length=1, max_length=64)
    role: str = Field(min_length=1, max_length=24)


class ParticipantOut(_Out):
    """A participation with its recorded start and end."""

    user_id: str
    role: str
    started_at: datetime
    ended_at: datetime | None


class CaseFindingOut(_Out):
    """A finding coordinated in the case."""

    finding_id: str
    severity: str
    title: str
    notified_at: datetime | None


class ThreadOut(_Out):
    """A thread: general (no finding) or about one finding."""

    id: str
    finding_id: str | None


class ShownTimeOut(BaseModel):
    """A moment in UTC and as the viewer reads it."""

    utc: datetime
    shown: str
    zone: str


class DeadlineOut(BaseModel):
    """A deadline of one finding's phase."""

    id: str
    finding_id: str
    phase: str
    severity: str
    policy_version: int
    started_at: datetime
    due: ShownTimeOut
    met_at: datetime | None
    escalated_at: datetime | None


class ExtensionOut(_Out):
    """A request for more time and its answer."""

    id: str
    deadline_id: str
    requested_until: datetime
    reason: str
    state: str
    decision_reason: str
    requested_at: datetime
    decided_at: datetime | None


class CaseOut(BaseModel):
    """A case as the viewer may see it."""

    id: str
    reference: str
    submission_id: str
    org_id: str
    embargo_state: str
    embargo_ends: ShownTimeOut | None
    public_event: str | None
    publication_consent_at: datetime | None
    created_at: datetime
    findings: list[CaseFindingOut]
    participants: list[ParticipantOut]
    threads: list[ThreadOut]
    deadlines: list[DeadlineOut]
    extensions: list[ExtensionOut]


class CaseSummaryOut(_Out):
    """A case in a list."""

    id: str
    reference: str
    submission_id: str
    embargo_state: str
    created_at: datetime


class CasesOut(BaseModel):
    """The cases the viewer may see."""

    cases: list[CaseSummaryOut]


class MessageIn(BaseModel):
    """A message to a thread."""

    text: str = Field(min_length=1, max_length=20_000)


class MessageOut(BaseModel):
    """A message as its reader sees it."""

    id: str
    author_user_id: str
    at: datetime
    text: str


class MessagesOut(BaseModel):
    """A thread's messages, oldest first."""

    thread_id: str
    messages: list[MessageOut]


class EmbargoIn(BaseModel):
    """Move a case's embargo."""

    target: Literal["proposed", "active", "revise", "exited"]
    ends_at: AwareDatetime | None = None
    reason: str = Field(default="", max_length=4000)


class PublicEventIn(BaseModel):
    """Record that the issue became public or is exploited."""

    event: Literal["public", "exploited"]
    note: str = Field(min_length=1, max_length=4000)


class ExtensionIn(BaseModel):
    """The firm asks for more time."""

    until: AwareDatetime
    reason: str = Field(min_length=1, max_length=4000)


class DecisionIn(BaseModel):
    """A coordinator's answer to an extension request."""

    grant: StrictBool
    reason: str = Field(min_length=1, max_length=4000)


class PolicyIn(BaseModel):
    """A new version of the deadline policy: severity -> phase -> hours."""

    hours: dict[str, dict[str, Any]]
    reason: str = Field(min_length=1, max_length=2000)


class PolicyOut(BaseModel):
    """The deadline policy in force."""

    version: int
    hours: dict[str, dict[str, Any]]


class NotificationOut(_Out):
    """An in-app notification."""

    id: str
    kind: str
    text: str
    link: str
    created_at: datetime
    read_at: datetime | None


class NotificationsOut(BaseModel):
    """The viewer's notifications and how many are unread."""

    unread: int
    notifications: list[NotificationOut]


class MarkReadIn(BaseModel):
    """Mark one notification read, or all without an id."""

    id: str | None = Field(default=None, max_length=64)


class WebhookIn(BaseModel):
    """A URL to receive signed events."""

    url: str = Field(min_length=1, max_length=2000)


class WebhookOut(_Out):
    """A webhook endpoint (its secret is never shown again)."""

    id: str
    url: str
    created_at: datetime


class WebhookCreatedOut(WebhookOut):
    """A new endpoint with its signing secret, shown this once."""

    secret: str


class WebhooksOut(BaseModel):
    """The firm's webhook endpoints."""

    webhooks: list[WebhookOut]


class AttemptOut(_Out):
    """One delivery attempt."""

    number: int
    at: datetime
    status_code: int | None
    error: str


class DeliveryOut(BaseModel):
    """One event sent to an endpoint, with its attempts."""

    id: str
    event_type: str
    state: str
    created_at: datetime
    attempts: list[AttemptOut]


class DeliveriesOut(BaseModel):
    """An endpoint's delivery log."""

    deliveries: list[DeliveryOut]
