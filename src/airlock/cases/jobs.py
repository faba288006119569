"""Job handlers of the cases stage: thin, each calls one service (the job commits)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airlock.cases import coordination, deadlines, notify, webhooks
from airlock.core import events, jobs
from airlock.core.uow import UnitOfWork
from airlock.findings.service import FINDING_MOVED_EVENT

MAIL_JOB = notify.MAIL_JOB
DELIVER_JOB = webhooks.DELIVER_JOB
REMIND_JOB = deadlines.REMIND_JOB
DUE_JOB = deadlines.DUE_JOB
FOLLOW_FINDING_JOB = "cases.follow_finding"


@jobs.handler(MAIL_JOB, max_attempts=6)
def send_mail(uow: UnitOfWork, payload: Mapping[str, Any]) -> None:
    """Email one in-app notification to its user."""
    notify.send_mail(uow, notification_id=str(payload["notification_id"]))


@jobs.handler(DELIVER_JOB, max_attempts=3)
def deliver_webhook(uow: UnitOfWork, payload: Mapping[str, Any]) -> None:
    """Try one webhook delivery (a failure queues the next attempt itself, with backoff)."""
    webhooks.deliver(uow, delivery_id=str(payload["delivery_id"]))


@jobs.handler(REMIND_JOB)
def remind(uow: UnitOfWork, payload: Mapping[str, Any]) -> None:
    """Remind both sides that a deadline is near."""
    due = payload.get("due_at")
    deadlines.remind(uow, deadline_id=str(payload["deadline_id"]), due_at=str(due) if due else None)


@jobs.handler(DUE_JOB)
def escalate(uow: UnitOfWork, payload: Mapping[str, Any]) -> None:
    """Escalate a deadline that passed unmet to the case's coordinators, once."""
    deadlines.escalate_if_missed(uow, deadline_id=str(payload["deadline_id"]))


@jobs.handler(FOLLOW_FINDING_JOB)
def follow_finding(uow: UnitOfWork, payload: Mapping[str, Any]) -> None:
    """A finding moved: a notified one joins its case and the firm is told; answers meet
    deadlines."""
    coordination.follow(
        uow,
        finding_id=str(payload["finding_id"]),
        to_state=str(payload.get("to") or payload.get("to_state") or ""),
    )


events.subscribe(FINDING_MOVED_EVENT, FOLLOW_FINDING_JOB)
