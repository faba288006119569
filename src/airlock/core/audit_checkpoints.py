"""Signed checkpoints of the audit chain, written outside the database.

A checkpoint is the head's sequence number and link (its MAC), the sequence number the keyed
chain starts at, and the time, signed with Ed25519 under the key store's `audit-signing` key.
It is written once to the blob store under `audit-checkpoints/` (an existing object is never
replaced) and to the log. `verify` checks the chain against the audit key and every checkpoint,
so rewriting the rows and their MACs, or cutting off the newest rows and the head, is named.
"""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import select
from sqlalchemy.orm import Session

from airlock.core import audit_keys, schedule
from airlock.core.audit import (
    GENESIS,
    AuditEvent,
    AuditHead,
    ChainReport,
    Signed,
    walk,
)
from airlock.core.db import utcnow
from airlock.core.errors import AirlockError, NotFound
from airlock.core.ports import Services

if TYPE_CHECKING:
    from airlock.core.uow import UnitOfWork
    from airlock.settings import Settings

log = logging.getLogger("airlock.audit.checkpoint")

PREFIX: Final = "audit-checkpoints/"
_NAME: Final = re.compile(r"^audit-checkpoints/(\d{15})\.json$")
VERSION: Final = 1


class AuditTampered(AirlockError):
    """The chain does not check out, so no checkpoint was signed over it."""

    status_code = 409


@dataclass(frozen=True)
class Checkpoint:
    """One signed statement of the chain's head."""

    seq: int
    link: str
    keyed_from: int
    at: str
    key_id: str

    def signed(self) -> Signed:
        """What this checkpoint says about the chain, for the walk."""
        return Signed(self.seq, self.link, datetime.fromisoformat(self.at))


def object_key(seq: int) -> str:
    """Where the checkpoint of head seq is stored (one per sequence number, written once)."""
    return f"{PREFIX}{seq:015d}.json"


def _payload_bytes(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


def _public(services: Services) -> Ed25519PublicKey | None:
    secret = audit_keys.load_key(services, audit_keys.SIGNING_KEY, create=False)
    return None if secret is None else audit_keys.signing_key(secret).public_key()


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def _parse(name: str, data: bytes, public: Ed25519PublicKey | None) -> Checkpoint:
    """Check one stored checkpoint; ValueError says what is wrong with it."""
    try:
        doc = json.loads(data)
        payload = doc["payload"]
        signature = base64.b64decode(doc["signature"], validate=True)
        cp = Checkpoint(
            seq=int(payload["seq"]),
            link=str(payload["link"]),
            keyed_from=int(payload["keyed_from"]),
            at=str(payload["at"]),
            key_id=str(payload["key_id"]),
        )
        cp.signed()  # the time must parse
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"checkpoint {name} is not readable ({type(exc).__name__})") from None
    if public is None:
        raise ValueError(f"checkpoint {name} cannot be checked: no audit signing key in the store")
    if cp.key_id != audit_keys.key_id(_raw(public)):
        raise ValueError(f"checkpoint {name} was signed by an unknown key {cp.key_id}")
    try:
        public.verify(signature, _payload_bytes(payload))
    except InvalidSignature:
        raise ValueError(f"checkpoint {name} has an invalid signature (it was altered)") from None
    if object_key(cp.seq) != name:
        raise ValueError(f"checkpoint {name} is stored under the wrong name (says row {cp.seq})")
    return cp


@dataclass(frozen=True)
class Loaded:
    """Every stored checkpoint that checks out, and what is wrong with those that do not."""

    good: dict[int, Checkpoint]
    bad: list[str]

    @property
    def latest(self) -> Checkpoint | None:
        """The checkpoint of the highest sequence number."""
        return self.good[max(self.good)] if self.good else None


def _read(services: Services, name: str) -> bytes:
    return b"".join(services.blob_store.open(name))


def load_all(services: Services) -> Loaded:
    """Read and check every stored checkpoint."""
    public = _public(services)
    good: dict[int, Checkpoint] = {}
    bad: list[str] = []
    for name in services.blob_store.keys(PREFIX):
        if not _NAME.match(name):
            bad.append(f"{name} is not a checkpoint this installation writes")
            continue
        try:
            cp = _parse(name, _read(services, name), public)
        except (ValueError, NotFound) as exc:
            bad.append(str(exc))
            continue
        good[cp.seq] = cp
    return Loaded(good, bad)


def _latest(services: Services) -> Checkpoint | None:
    """The newest stored checkpoint, checked (raises AuditTampered if it does not check out)."""
    names = [n for n in services.blob_store.keys(PREFIX) if _NAME.match(n)]
    if not names:
        return None
    name = max(names)
    try:
        return _parse(name, _read(services, name), _public(services))
    except ValueError as exc:
        raise AuditTampered(str(exc)) from None


def write(session: Session, services: Services) -> Checkpoint | None:
    """Sign the current head after checking the rows since the last checkpoint, and store it;
    None when there is nothing new to sign. Holds the head lock while it works."""
    head = session.scalars(select(AuditHead).where(AuditHead.id == 1).with_for_update()).first()
    if head is None:
        if session.scalars(select(AuditEvent.seq).limit(1)).first() is not None:
            raise AuditTampered("the audit head entry was removed; run `airlock audit verify`")
        return None
    if head.seq == 0:
        return None
    secret = audit_keys.load_key(services, audit_keys.SIGNING_KEY, create=True)
    assert secret is not None  # create=True
    previous = _latest(services)
    if previous is not None and previous.seq >= head.seq:
        if previous.seq == head.seq and previous.link == head.hash:
            return None  # nothing appended since
        raise AuditTampered(
            f"the head (row {head.seq}) is behind or differs from the checkpoint of row "
            f"{previous.seq} signed at {previous.at}: rows were removed; run `airlock audit verify`"
        )
    mac_key = audit_keys.load_key(services, audit_keys.MAC_KEY, create=False)
    keyed_from = previous.keyed_from if previous is not None else head.keyed_from
    if head.keyed_from != keyed_from:
        raise AuditTampered("the start of the keyed chain moved since the last checkpoint")
    start_seq, start_link = (previous.seq, previous.link) if previous else (0, GENESIS)
    if previous is not None:
        # The previous checkpoint's row must still be the one it signed.
        row = session.get(AuditEvent, previous.seq)
        if row is None or row.hash != previous.link:
            raise AuditTampered(
                f"row {previous.seq} no longer matches the checkpoint signed at {previous.at}; "
                "run `airlock audit verify`"
            )
    report = walk(
        session, mac_key=mac_key, keyed_from=keyed_from, after_seq=start_seq, after_link=start_link
    )
    if not report.ok:
        raise AuditTampered(f"no checkpoint signed: {report.problem}")
    if start_seq + report.rows != head.seq or report.last_link != head.hash:
        raise AuditTampered(
            f"no checkpoint signed: the head says row {head.seq} but the chain ends at row "
            f"{start_seq + report.rows}"
        )
    private = audit_keys.signing_key(secret)
    # No row it covers may be later than a checkpoint's time (servers' clocks differ a little).
    at = max(utcnow(), report.last_at) if report.last_at else utcnow()
    payload = {
        "v": VERSION,
        "seq": head.seq,
        "link": head.hash,
        "keyed_from": keyed_from,
        "at": at.isoformat(),
        "key_id": audit_keys.key_id(_raw(private.public_key())),
    }
    signature = base64.b64encode(private.sign(_payload_bytes(payload))).decode()
    doc = {"payload": payload, "signature": signature}
    name = object_key(head.seq)
    if not services.blob_store.put_new(name, json.dumps(doc, sort_keys=True).encode()):
        existing = _parse(name, _read(services, name), private.public_key())
        if existing.link != head.hash:
            raise AuditTampered(
                f"row {head.seq} differs from the checkpoint signed at {existing.at}"
            )
        return existing
    # The log is the second sink: a copy an insider with the blob store cannot reach.
    log.info("audit checkpoint %s", json.dumps(doc, sort_keys=True))
    return Checkpoint(head.seq, head.hash, keyed_from, str(payload["at"]), str(payload["key_id"]))


def verify(session: Session, services: Services, *, batch: int = 5000) -> ChainReport:
    """Check the chain against the audit key and every stored checkpoint."""
    loaded = load_all(services)
    if loaded.bad:
        return ChainReport(False, 0, loaded.bad[0] + _more(len(loaded.bad) - 1))
    latest = loaded.latest
    head = session.get(AuditHead, 1)
    if latest is not None:
        keyed_from = latest.keyed_from
        if head is not None and head.keyed_from != keyed_from:
            return ChainReport(
                False,
                0,
                f"the start of the keyed chain was moved from row {keyed_from} to row "
                f"{head.keyed_from}",
                min(keyed_from, head.keyed_from),
            )
    else:
        keyed_from = head.keyed_from if head is not None else 1
    mac_key = audit_keys.load_key(services, audit_keys.MAC_KEY, create=False)
    signed = [loaded.good[seq].signed() for seq in sorted(loaded.good)]
    report = walk(session, mac_key=mac_key, keyed_from=keyed_from, signed=signed, batch=batch)
    n = len(loaded.good)
    if not report.ok:
        return ChainReport(False, report.rows, report.problem, report.bad_seq, n)
    rows = report.rows
    if latest is not None and latest.seq > rows:
        return ChainReport(
            False,
            rows,
            f"{_span(rows + 1, latest.seq)} removed: the checkpoint signed at "
            f"{latest.at} covers the chain up to row {latest.seq}, but it ends at row {rows}",
            rows + 1,
            n,
        )
    if head is None:
        if rows:
            return ChainReport(
                False, rows, f"the head entry was removed (the chain has {rows} rows)", None, n
            )
        return ChainReport(True, 0, checkpoints=n)
    if head.seq != rows:
        return ChainReport(
            False,
            rows,
            f"the chain ends at row {rows} but {head.seq} rows were written",
            rows + 1,
            n,
        )
    if head.hash != report.last_link:
        return ChainReport(False, rows, f"the head entry does not match row {rows}", rows, n)
    return ChainReport(True, rows, checkpoints=n, last_link=report.last_link)


def _span(first: int, last: int) -> str:
    return f"row {first} was" if first == last else f"rows {first} to {last} were"


def _more(extra: int) -> str:
    return f" (and {extra} more checkpoint problem{'s' if extra > 1 else ''})" if extra else ""


def checkpoint(uow: UnitOfWork) -> Checkpoint | None:
    """Sign and store a checkpoint of the current head (the service behind the CLI and job)."""
    return write(uow.session, uow.services)


def _interval(settings: Settings) -> timedelta:
    return timedelta(seconds=settings.audit_checkpoint_seconds)


CHECKPOINT_JOB: Final = "audit.checkpoint"


@schedule.periodic(CHECKPOINT_JOB, every=_interval, max_attempts=1)
def checkpoint_job(uow: UnitOfWork, payload: Mapping[str, Any]) -> None:
    """Write a checkpoint when rows were appended since the last one."""
    try:
        made = checkpoint(uow)
    except AuditTampered as exc:
        # Loud, and the job fails: an operator must look (and `airlock audit verify` names it).
        log.error("audit checkpoint refused: %s", exc)
        raise
    if made is not None:
        log.info("audit checkpoint of row %s written", made.seq)
