"""Append-only, hash-chained audit trail; `verify_chain` names the first row that was altered."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, Integer, String, Text, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from airlock.core.access import Actor, authorize
from airlock.core.db import ID, Base, utcnow

if TYPE_CHECKING:
    from airlock.core.uow import UnitOfWork

GENESIS = "0" * 64


class AuditEvent(Base):
    """One audited event; its hash covers its content and the previous row's hash."""

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column()
    actor_user_id: Mapped[str | None] = mapped_column(ID)
    actor_label: Mapped[str] = mapped_column(String(320), default="")
    action: Mapped[str] = mapped_column(String(80), index=True)
    object_type: Mapped[str] = mapped_column(String(40), default="")
    object_id: Mapped[str] = mapped_column(String(64), default="")
    org_id: Mapped[str | None] = mapped_column(ID)
    detail: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """A single row locked while appending, so concurrent writers keep one chain."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    hash: Mapped[str] = mapped_column(String(64), default=GENESIS)


def _digest(ev: AuditEvent) -> str:
    """The hash of a row: its content and the previous row's hash, in a fixed order."""
    body = json.dumps(
        [
            ev.seq,
            ev.at.isoformat(),
            ev.actor_user_id,
            ev.actor_label,
            ev.action,
            ev.object_type,
            ev.object_id,
            ev.org_id,
            ev.detail,
            ev.prev_hash,
        ],
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode()).hexdigest()


def append(
    session: Session,
    *,
    action: str,
    actor: Actor | None = None,
    actor_user_id: str | None = None,
    actor_label: str = "",
    object_type: str = "",
    object_id: str = "",
    org_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain inside the caller's transaction.

    actor names who did it; without one, actor_user_id and actor_label do (a failed sign-in
    has only an email, a job is "system").
    """
    if actor is not None:
        actor_user_id, actor_label = actor.user_id, actor.label
    locked = select(AuditHead).where(AuditHead.id == 1).with_for_update()
    head = session.scalars(locked).first()
    if head is None:
        # The first append creates the head row. Concurrent first writers race on its insert:
        # the loser's savepoint rolls back and it waits on the winner's lock like any writer.
        try:
            with session.begin_nested():
                session.add(AuditHead(id=1, seq=0, hash=GENESIS))
        except IntegrityError:
            pass
        head = session.scalars(locked.execution_options(populate_existing=True)).one()
    at = utcnow()
    seq = head.seq + 1
    detail_text = json.dumps(detail or {}, sort_keys=True, separators=(",", ":"), default=str)
    event = AuditEvent(
        seq=seq,
        at=at,
        actor_user_id=actor_user_id,
        actor_label=actor_label,
        action=action,
        object_type=object_type,
        object_id=object_id,
        org_id=org_id,
        detail=detail_text,
        prev_hash=head.hash,
    )
    event.hash = digest = _digest(event)
    session.add(event)
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=seq, hash=digest))
    session.flush()
    return event


@dataclass(frozen=True)
class Trail:
    """The newest audit events, and the chain check when one was asked for."""

    events: list[AuditEvent]
    report: ChainReport | None


def read_trail(uow: UnitOfWork, *, actor: Actor, limit: int = 200, verify: bool = False) -> Trail:
    """The audit trail newest first (auditors and agency admins), with a chain check on demand."""
    authorize(actor, "audit.read")
    stmt = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(limit)
    events = list(uow.session.scalars(stmt))
    return Trail(events, verify_chain(uow.session) if verify else None)


@dataclass(frozen=True)
class ChainReport:
    """The result of walking the chain."""

    ok: bool
    rows: int
    problem: str = ""
    bad_seq: int | None = None


def verify_chain(session: Session, *, batch: int = 5000) -> ChainReport:
    """Walk the chain in order and name the first row that was altered, removed or added."""
    expected_prev = GENESIS
    expected_seq = 1
    rows = 0
    last_seq = 0
    while True:
        stmt = (
            select(AuditEvent)
            .where(AuditEvent.seq > last_seq)
            .order_by(AuditEvent.seq)
            .limit(batch)
        )
        chunk = list(session.scalars(stmt))
        if not chunk:
            break
        for ev in chunk:
            if ev.seq != expected_seq:
                return ChainReport(
                    False,
                    rows,
                    f"row {expected_seq} is missing (next row is {ev.seq})",
                    expected_seq,
                )
            if ev.prev_hash != expected_prev:
                return ChainReport(
                    False, rows, f"row {ev.seq} does not link to the row before it", ev.seq
                )
            digest = _digest(ev)
            if digest != ev.hash:
                return ChainReport(
                    False,
                    rows,
                    f"row {ev.seq} ({ev.action}) was altered after it was written",
                    ev.seq,
                )
            expected_prev = ev.hash
            expected_seq += 1
            rows += 1
            last_seq = ev.seq
        session.expunge_all()
    head = session.get(AuditHead, 1)
    if head is not None and head.seq != rows:
        return ChainReport(
            False,
            rows,
            f"the chain ends at row {rows} but {head.seq} rows were written",
            rows + 1,
        )
    return ChainReport(True, rows)
