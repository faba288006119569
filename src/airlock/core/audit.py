"""Append-only audit trail chained by HMAC under a key outside the database; `verify_chain`
checks it against the key and the signed checkpoints (`audit_checkpoints`) and names the first
row that was altered, removed or added."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, Integer, String, Text, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from airlock.core import audit_keys
from airlock.core.access import Actor, authorize
from airlock.core.db import ID, Base, utcnow
from airlock.core.ports import Services
from airlock.core.uow import services_of

if TYPE_CHECKING:
    from airlock.core.uow import UnitOfWork

GENESIS = "0" * 64


class AuditEvent(Base):
    """One audited event; its `hash` is an HMAC (under the audit key in the key store) of its
    content and the previous row's `hash`."""

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
    # Rows from this sequence number on are keyed (HMAC); earlier ones were written before the
    # upgrade that keyed the chain. Checkpoints carry it too, so moving it is noticed.
    keyed_from: Mapped[int] = mapped_column(BigInteger, default=1, server_default="1")


def _content(ev: AuditEvent) -> bytes:
    """A row's content and the previous row's link, in a fixed order."""
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
    return body.encode()


def link(ev: AuditEvent, mac_key: bytes | None) -> str:
    """A row's link: HMAC-SHA256 under the audit key, or plain SHA-256 for rows written before
    the chain was keyed (mac_key None)."""
    if mac_key is None:
        return hashlib.sha256(_content(ev)).hexdigest()
    return hmac.new(mac_key, _content(ev), hashlib.sha256).hexdigest()


def _services(session: Session) -> Services:
    services = services_of(session)
    if services is None:
        raise RuntimeError(
            "the audit trail needs a unit of work with services: its key is in the key store"
        )
    return services


def lock_head(session: Session) -> AuditHead:
    """The head row, locked until the transaction ends (made on first use)."""
    locked = select(AuditHead).where(AuditHead.id == 1).with_for_update()
    head = session.scalars(locked).first()
    if head is None:
        # The first append creates the head row. Concurrent first writers race on its insert:
        # the loser's savepoint rolls back and it waits on the winner's lock like any writer.
        try:
            with session.begin_nested():
                session.add(AuditHead(id=1, seq=0, hash=GENESIS, keyed_from=1))
        except IntegrityError:
            pass
        head = session.scalars(locked.execution_options(populate_existing=True)).one()
    return head


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
    services = _services(session)
    head = lock_head(session)
    # The key is made only for the first keyed row; a key missing later is an error, never a
    # silent new key that would make every earlier row look forged.
    mac_key = audit_keys.load_key(
        services, audit_keys.MAC_KEY, create=head.seq + 1 <= head.keyed_from
    )
    if mac_key is None:
        mac_key = audit_keys.require_key(services, audit_keys.MAC_KEY)
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
    event.hash = digest = link(event, mac_key)
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
    """The result of walking the chain; bad_seq is the first row found wrong."""

    ok: bool
    rows: int
    problem: str = ""
    bad_seq: int | None = None
    checkpoints: int = 0
    last_link: str = GENESIS
    last_at: datetime | None = None


@dataclass(frozen=True)
class Signed:
    """What a signed checkpoint says about one row: its link, and a time no row up to it is
    later than."""

    seq: int
    link: str
    at: datetime


def walk(
    session: Session,
    *,
    mac_key: bytes | None,
    keyed_from: int,
    signed: Sequence[Signed] = (),
    after_seq: int = 0,
    after_link: str = GENESIS,
    batch: int = 5000,
) -> ChainReport:
    """Check the rows after after_seq in order: numbering, links, MACs, and what the signed
    checkpoints (sorted by seq) recorded."""
    expected_prev = after_link
    expected_seq = after_seq + 1
    rows = 0
    last_seq = after_seq
    last_at: datetime | None = None
    nxt = 0  # the first checkpoint at or after the row being checked
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
            problem = _check_row(ev, expected_seq, expected_prev, mac_key, keyed_from)
            if problem:
                return ChainReport(False, rows, problem, min(ev.seq, expected_seq))
            while nxt < len(signed) and signed[nxt].seq < ev.seq:
                nxt += 1
            if nxt < len(signed):
                cp = signed[nxt]
                if ev.at > cp.at:
                    # A checkpoint's time is no earlier than every row it covers: a row written
                    # later was appended after rows were removed.
                    return ChainReport(
                        False,
                        rows,
                        f"row {ev.seq} ({ev.action}) was written at {ev.at.isoformat()}, after "
                        f"the checkpoint of row {cp.seq} signed at {cp.at.isoformat()}: the rows "
                        f"from {ev.seq} on were removed and replaced",
                        ev.seq,
                    )
                if cp.seq == ev.seq and cp.link != ev.hash:
                    return ChainReport(
                        False,
                        rows,
                        f"row {ev.seq} differs from the checkpoint signed at "
                        f"{cp.at.isoformat()}: it was replaced",
                        ev.seq,
                    )
            expected_prev = ev.hash
            expected_seq += 1
            rows += 1
            last_seq = ev.seq
            last_at = ev.at if last_at is None else max(last_at, ev.at)
        session.expunge_all()
    return ChainReport(True, rows, last_link=expected_prev, last_at=last_at)


def _check_row(ev: AuditEvent, seq: int, prev: str, mac_key: bytes | None, keyed_from: int) -> str:
    """What is wrong with one row in its place in the chain ("" when nothing)."""
    if ev.seq != seq:
        return f"row {seq} is missing (next row is {ev.seq})"
    if ev.prev_hash != prev:
        return f"row {ev.seq} does not link to the row before it"
    keyed = ev.seq >= keyed_from
    if keyed and mac_key is None:
        return f"row {ev.seq} cannot be checked: the audit key is not in the key store"
    if link(ev, mac_key if keyed else None) != ev.hash:
        how = (
            "its MAC does not verify under the audit key"
            if keyed
            else "its hash does not match (a row from before the chain was keyed)"
        )
        return f"row {ev.seq} ({ev.action}) was altered or forged after it was written: {how}"
    return ""


def verify_chain(session: Session, *, batch: int = 5000) -> ChainReport:
    """Check the chain against the audit key and the signed checkpoints; name the first row
    that was altered, removed or added."""
    from airlock.core import audit_checkpoints  # it builds on this module

    return audit_checkpoints.verify(session, _services(session), batch=batch)
