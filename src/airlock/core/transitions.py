"""One table of every state change of every state machine: who, when, from, to, why."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from airlock.core.db import ID, Base, new_id, utcnow


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
    object_type: str,
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


def history(session: Session, *, object_type: str, object_id: str) -> list[Transition]:
    """Every transition of one object, oldest first."""
    stmt = (
        select(Transition)
        .where(Transition.object_type == object_type, Transition.object_id == object_id)
        .order_by(Transition.at, Transition.id)
    )
    return list(session.scalars(stmt))
