"""In-app notifications with an unread count, and email, both saying only a case reference."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select, update

from airlock.accounts.models import User
from airlock.cases.models import Notification
from airlock.core.access import Actor
from airlock.core.db import utcnow
from airlock.core.errors import NotFound
from airlock.core.ports import MailMessage
from airlock.core.uow import UnitOfWork

MAIL_JOB = "cases.send_mail"
MAX_LISTED = 100


def notify(
    uow: UnitOfWork,
    *,
    user_ids: Iterable[str],
    kind: str,
    text: str,
    link: str = "",
    case_id: str | None = None,
    email: bool = True,
) -> list[Notification]:
    """Tell each user in the app and, if asked, by email (sent by a job after commit).

    `text` must carry no confidential detail: it goes into email subjects and bodies.
    """
    rows = []
    for user_id in dict.fromkeys(user_ids):
        row = Notification(
            user_id=user_id,
            case_id=case_id,
            kind=kind,
            text=text[:300],
            link=link[:300],
            created_at=utcnow(),
        )
        uow.session.add(row)
        rows.append(row)
    uow.flush()
    if email:
        for row in rows:
            uow.enqueue(MAIL_JOB, {"notification_id": row.id})
    return rows


def send_mail(uow: UnitOfWork, *, notification_id: str) -> bool:
    """Email one notification to its user (the job; an SMTP error makes the job retry)."""
    row = uow.session.get(Notification, notification_id)
    if row is None:
        return False
    user = uow.session.get(User, row.user_id)
    if user is None or not user.email:
        return False
    base = uow.services.settings.base_url.rstrip("/")
    body = (
        f"{row.text}\n\nOpen Airlock to read it: {base}{row.link or '/'}\n\n"
        "This message names no confidential detail; sign in to see the case.\n"
    )
    message = MailMessage(to=(user.email,), subject=f"[Airlock] {row.text}"[:200], body=body)
    uow.end_reads()  # no transaction while talking to the relay
    uow.services.mailer.send(message)
    return True


def unread_count(uow: UnitOfWork, *, user_id: str) -> int:
    """How many of the user's notifications are unread (the header badge)."""
    stmt = (
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
    )
    return int(uow.session.scalar(stmt) or 0)


def list_for(uow: UnitOfWork, *, actor: Actor) -> list[Notification]:
    """The actor's latest notifications, newest first."""
    stmt = (
        select(Notification)
        .where(Notification.user_id == actor.user_id)
        .order_by(Notification.created_at.desc(), Notification.id)
        .limit(MAX_LISTED)
    )
    return list(uow.session.scalars(stmt))


def mark_read(uow: UnitOfWork, *, actor: Actor, notification_id: str | None = None) -> int:
    """Mark one (or, with no id, every) notification of the actor read; returns how many."""
    stmt = update(Notification).where(
        Notification.user_id == actor.user_id, Notification.read_at.is_(None)
    )
    if notification_id is not None:
        row = uow.session.get(Notification, notification_id)
        if row is None or row.user_id != actor.user_id:
            raise NotFound("no such notification")
        stmt = stmt.where(Notification.id == notification_id)
    result = uow.session.execute(stmt.values(read_at=utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)
