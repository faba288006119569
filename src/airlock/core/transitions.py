"""One table of every state change of every state machine: who, when, from, to, why."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from airlock.core import audit
from airlock.core.db import ID, Base, new_id, utcnow

if TYPE_CHECKING:
    from airlock.core.access import Actor


class ObjectType(StrEnum):
    """The objects whose state machines write to the transitions table."""

    PARTICIPATION = "participation"
    SUBMISSION = "submission"
    FINDING = "finding"
    EMBARGO = "embargo"
    EXTENSION = "extension"
    ADVISORY = "advisory"


class Transition(Base):
    """An appended row; never edited, never deleted."""

    __tablename__ = "transitions"
    __table_args__ = (Index("ix_transitions_object", "object_type", "object_id", "at"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(ID)
    from_state: Mapped[str | None] = mapped_column(String(40))
    to_state: Mapped[str] = mapped_column(String(40))
    actor_user_id: Mapped[str | None] = mapped_column(ID, ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)


def record_transition(
    session: Session,
    *,
    object_type: ObjectType,
    object_id: str,
    from_state: str | None,
    to_state: str,
    actor_user_id: str | None,
    reason: str = "",
) -> Transition:
    """Append one transition row."""
    row = Transition(
        object_type=object_type,
        object_id=object_id,
        from_state=from_state,
        to_state=to_state,
        actor_user_id=actor_user_id,
        reason=reason,
        at=utcnow(),
    )
    session.add(row)
    return row


def record_change(
    session: Session,
    actor: Actor | None,
    *,
    object_type: ObjectType,
    object_id: str,
    org_id: str | None,
    from_state: str | None,
    to_state: str,
    reason: str = "",
) -> Transition:
    """Append a state change to the transitions table and the audit trail together."""
    row = record_transition(
        session,
        object_type=object_type,
        object_id=object_id,
        from_state=from_state,
        to_state=to_state,
        actor_user_id=actor.user_id if actor else None,
        reason=reason,
    )
    audit.append(
        session,
        actor=actor,
        actor_label="system",  # when no actor
        action=f"{object_type}.{to_state}",
        object_type=object_type,
        object_id=object_id,
        org_id=org_id,
        detail={"from": from_state, "reason": reason},
    )
    return row


def history(session: Session, *, object_type: ObjectType, object_id: str) -> list[Transition]:
    """Every transition of one object, oldest first."""
    stmt = (
        select(Transition)
        .where(Transition.object_type == object_type, Transition.object_id == object_id)
        .order_by(Transition.at, Transition.id)
    )
    return list(session.scalars(stmt))
