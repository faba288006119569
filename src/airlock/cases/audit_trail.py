"""Reading the audit trail for people: filters, objects by name and link, actions and roles in
words, system actions named as such, scan verdicts, pages and exports.

It names objects of every stage up to cases (submissions, models, organisations, users, tokens,
invitations, files, uploads, findings, cases), so it lives in the last of them; the audit page
and its exports (`web/pages/audit.py`) only parse, call and render.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final
from urllib.parse import urlencode

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from airlock.accounts.models import ApiToken, Invitation, Organisation, User
from airlock.cases.models import Case
from airlock.core import audit
from airlock.core.access import Actor, authorize
from airlock.core.errors import InvalidInput
from airlock.core.uow import UnitOfWork
from airlock.enrollment.models import Participation
from airlock.findings.models import Finding
from airlock.submissions.models import AIModel, Submission
from airlock.vault.models import Artifact, UploadSession

PAGE_SIZE: Final = 30  # rows wrap in their columns: 30 keep a page to a few screens
MAX_EXPORT: Final = 100_000
E = audit.AuditEvent

# How each kind of object is named; a kind not listed here shows its kind and id.
OBJECT_KINDS: Final = {
    "submission": "Submission",
    "ai_model": "Model",
    "organisation": "Organisation",
    "participation": "Participation of",
    "user": "User",
    "api_token": "API token",
    "invitation": "Invitation for",
    "artifact": "File",
    "upload": "Upload of",
    "scanner": "Scanner",
    "vault": "Vault",
    "master_key": "Master key",
    "finding": "Finding",
    "case": "Case",
}


@dataclass(frozen=True)
class Filters:
    """What the reader asked to see; every field is optional."""

    actor: str = ""
    action: str = ""
    object_type: str = ""
    object_id: str = ""
    since: date | None = None
    until: date | None = None

    def apply(self, stmt: Select[Any]) -> Select[Any]:
        """The statement narrowed to these filters."""
        if self.actor == "system":
            stmt = stmt.where(E.actor_user_id.is_(None))
        elif self.actor:
            stmt = stmt.where(E.actor_label.contains(self.actor))
        if self.action:
            stmt = stmt.where(E.action == self.action)
        if self.object_type:
            stmt = stmt.where(E.object_type == self.object_type)
        if self.object_id:
            stmt = stmt.where(E.object_id == self.object_id)
        if self.since:
            stmt = stmt.where(E.at >= datetime.combine(self.since, time.min, UTC))
        if self.until:
            stmt = stmt.where(E.at < datetime.combine(self.until + timedelta(1), time.min, UTC))
        return stmt

    def query(self) -> str:
        """The filters as a query string (for links to pages and exports)."""
        pairs = {
            "actor": self.actor,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
        }
        return urlencode({k: v for k, v in pairs.items() if v})


def _date(value: str, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{field}: must be a date written YYYY-MM-DD (got {value!r})") from None


def _names(session: Session, events: list[audit.AuditEvent]) -> dict[tuple[str, str], str]:
    """A readable name for each object the events refer to, looked up kind by kind."""
    ids: dict[str, set[str]] = {}
    for e in events:
        if e.object_id:
            ids.setdefault(e.object_type, set()).add(e.object_id)
    out: dict[tuple[str, str], str] = {}

    def named(kind: str, model: Any, column: Any) -> None:
        wanted = ids.get(kind)
        if wanted:
            for row_id, name in session.execute(
                select(model.id, column).where(model.id.in_(wanted))
            ):
                out[(kind, row_id)] = str(name)

    named("submission", Submission, Submission.title)
    named("ai_model", AIModel, AIModel.name)
    named("organisation", Organisation, Organisation.name)
    named("user", User, User.email)
    named("api_token", ApiToken, ApiToken.name)
    named("invitation", Invitation, Invitation.email)
    named("artifact", Artifact, Artifact.name)
    named("upload", UploadSession, UploadSession.name)
    named("finding", Finding, Finding.title)
    named("case", Case, Case.reference)
    if ids.get("participation"):
        rows = session.execute(
            select(Participation.id, Organisation.name)
            .join(Organisation, Organisation.id == Participation.org_id)
            .where(Participation.id.in_(ids["participation"]))
        )
        out.update({("participation", pid): str(name) for pid, name in rows})
    return out


def _link(e: audit.AuditEvent, detail: dict[str, Any]) -> str:
    if e.object_type == "submission":
        return f"/review/submissions/{e.object_id}"
    if e.object_type in ("artifact", "upload") and detail.get("submission_id"):
        return f"/review/submissions/{detail['submission_id']}/artifacts"
    if e.object_type == "finding":
        return f"/review/findings/{e.object_id}"
    if e.object_type == "case":
        return f"/cases/{e.object_id}"
    return ""


@dataclass(frozen=True)
class TrailEvent:
    """An audit event with its object named and linked; the page puts it in words."""

    seq: int
    at: datetime
    actor_label: str  # as recorded: "email (role)", an email typed at sign-in, or a job's name
    system: bool  # done by the system (a job), not by a person
    action: str
    object_type: str
    object_id: str
    object_label: str  # "Submission Halcyon-70B", or the kind and id of an unnamed object
    link: str
    verdict: str
    detail: dict[str, Any]


def _kind(object_type: str) -> str:
    return OBJECT_KINDS.get(object_type, object_type.replace("_", " ").capitalize())


def _events(session: Session, events: list[audit.AuditEvent]) -> list[TrailEvent]:
    names = _names(session, events)
    out = []
    for e in events:
        try:
            detail = json.loads(e.detail or "{}")
        except ValueError:
            detail = {}
        detail = detail if isinstance(detail, dict) else {}
        kind = _kind(e.object_type) if e.object_type else ""
        name = names.get((e.object_type, e.object_id), e.object_id)
        out.append(
            TrailEvent(
                seq=e.seq,
                at=e.at,
                actor_label=e.actor_label,
                system=e.actor_user_id is None and not e.action.startswith("auth."),
                action=e.action,
                object_type=e.object_type,
                object_id=e.object_id,
                object_label=f"{kind} {name}".strip(),
                link=_link(e, detail),
                verdict=str(detail.get("verdict") or ""),
                detail=detail,
            )
        )
    return out


@dataclass(frozen=True)
class TrailPage:
    """One page of the filtered trail, the choices the filters offer, and the chain check."""

    events: list[TrailEvent]
    older: int | None  # the sequence number to continue from, when there is more
    actions: list[str]  # every action recorded, for the filter
    kinds: list[tuple[str, str]]  # every kind of object recorded, with its name
    report: audit.ChainReport | None


def parse_filters(
    *, actor: str, action: str, object_type: str, object_id: str, since: str, until: str
) -> Filters:
    """The filters from the page's query, InvalidInput naming a bad date."""
    return Filters(
        actor=actor.strip()[:320],
        action=action.strip()[:80],
        object_type=object_type.strip()[:40],
        object_id=object_id.strip()[:64],
        since=_date(since, "since"),
        until=_date(until, "until"),
    )


def read_page(
    uow: UnitOfWork,
    *,
    actor: Actor,
    filters: Filters,
    before: int | None = None,
    verify: bool = False,
) -> TrailPage:
    """The newest events matching the filters (before a sequence number), named for people."""
    authorize(actor, "audit.read")
    stmt = filters.apply(select(E)).order_by(E.seq.desc()).limit(PAGE_SIZE + 1)
    if before:
        stmt = stmt.where(E.seq < before)
    events: list[audit.AuditEvent] = list(uow.session.scalars(stmt))
    more = len(events) > PAGE_SIZE
    events = events[:PAGE_SIZE]
    actions = sorted(uow.session.scalars(select(E.action).distinct()))
    kinds = sorted(k for k in uow.session.scalars(select(E.object_type).distinct()) if k)
    return TrailPage(
        events=_events(uow.session, events),
        older=events[-1].seq if more and events else None,
        actions=actions,
        kinds=[(k, _kind(k)) for k in kinds],
        report=audit.verify_chain(uow.session) if verify else None,
    )


def export_events(uow: UnitOfWork, *, actor: Actor, filters: Filters) -> Iterator[TrailEvent]:
    """Every event matching the filters, newest first, at most MAX_EXPORT, a batch at a time."""
    authorize(actor, "audit.read")
    last: int | None = None
    sent = 0
    while sent < MAX_EXPORT:
        stmt = filters.apply(select(E)).order_by(E.seq.desc()).limit(1000)
        if last is not None:
            stmt = stmt.where(E.seq < last)
        events: list[audit.AuditEvent] = list(uow.session.scalars(stmt))
        if not events:
            return
        yield from _events(uow.session, events)
        sent += len(events)
        last = events[-1].seq
