"""The audit trail page: filters, objects by name and link, scan verdicts, CSV and JSON Lines.

Auditors and the agency admin read it (policy action `audit.read`). Filters live in the URL,
so a filtered view can be bookmarked and the export downloads exactly what is shown.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from airlock.accounts.models import ApiToken, Invitation, Organisation, User
from airlock.core import audit
from airlock.core.access import allowed, authorize
from airlock.core.errors import InvalidInput
from airlock.enrollment.models import Participation
from airlock.submissions.models import AIModel, Submission
from airlock.vault.models import Artifact, UploadSession
from airlock.web.deps import ActorDep, UoWDep
from airlock.web.labels import LABELS, humanize, label
from airlock.web.pages.render import page

router = APIRouter(include_in_schema=False)

PAGE_SIZE: Final = 100
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


def _filters(
    actor: str, action: str, object_type: str, object_id: str, since: str, until: str
) -> Filters:
    return Filters(
        actor=actor.strip()[:320],
        action=action.strip()[:80],
        object_type=object_type.strip()[:40],
        object_id=object_id.strip()[:64],
        since=_date(since, "since"),
        until=_date(until, "until"),
    )


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
        return f"/review/submissions/{detail['submission_id']}"
    return ""


@dataclass(frozen=True)
class Row:
    """An audit event as the page and the exports show it."""

    seq: int
    at: datetime
    who: str
    system: bool
    action: str
    action_label: str
    object_type: str
    object_id: str
    object_label: str
    link: str
    verdict: str
    detail: dict[str, Any]

    @property
    def details(self) -> list[tuple[str, str]]:
        """The detail as (name, text) pairs for the page, states in words."""
        vocabulary = self.action.partition(".")[0]
        out = []
        for key, value in self.detail.items():
            if key in ("verdict", "submission_id") or value in ("", None, [], {}):
                continue
            text = label(value, vocabulary) if key in ("from", "to") else str(value)
            out.append((humanize(key), text))
        return out

    def record(self) -> dict[str, Any]:
        """The row for CSV and JSON Lines."""
        return {
            "seq": self.seq,
            "at": self.at.isoformat(),
            "who": self.who,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "object": self.object_label,
            "verdict": self.verdict,
            "detail": self.detail,
        }


_SUBJECTS: Final = {"org": "Organisation", "ai_model": "Model"}


def _action_label(action: str) -> str:
    subject, _, verb = action.partition(".")
    if subject in _SUBJECTS:
        return f"{_SUBJECTS[subject]} {humanize(verb).lower()}"
    if subject == "auth":
        return humanize(verb)
    if verb in LABELS.get(subject, {}):  # a transition, named after the state it reached
        return f"{humanize(subject)}: {label(verb, subject).lower()}"
    if verb:
        return f"{humanize(subject)} {humanize(verb).lower()}"
    return humanize(action)


_ACTOR = re.compile(r"^(?P<who>.+) \((?P<role>[a-z_]+)\)$")


def _who(actor_label: str) -> str:
    # Actors are recorded as "email (role)"; show the role in words.
    m = _ACTOR.match(actor_label)
    if m and m["role"] in LABELS["role"]:
        return f"{m['who']} ({label(m['role'], 'role')})"
    return actor_label


def _rows(session: Session, events: list[audit.AuditEvent]) -> list[Row]:
    names = _names(session, events)
    rows = []
    for e in events:
        try:
            detail = json.loads(e.detail or "{}")
        except ValueError:
            detail = {}
        detail = detail if isinstance(detail, dict) else {}
        kind = OBJECT_KINDS.get(e.object_type, humanize(e.object_type)) if e.object_type else ""
        name = names.get((e.object_type, e.object_id), e.object_id)
        system = e.actor_user_id is None and not e.action.startswith("auth.")
        who = _who(e.actor_label) or "System (automatic)"
        if system and e.actor_label and "system" not in e.actor_label.lower():
            who = f"System: {e.actor_label}"
        rows.append(
            Row(
                seq=e.seq,
                at=e.at,
                who=who,
                system=system,
                action=e.action,
                action_label=_action_label(e.action),
                object_type=e.object_type,
                object_id=e.object_id,
                object_label=f"{kind} {name}".strip(),
                link=_link(e, detail),
                verdict=str(detail.get("verdict") or ""),
                detail=detail,
            )
        )
    return rows


@router.get("/audit")
def audit_page(
    request: Request,
    actor: ActorDep,
    uow: UoWDep,
    verify: bool = False,
    who: str = Query("", alias="actor", max_length=320),
    action: str = Query("", max_length=80),
    object_type: str = Query("", max_length=40),
    object_id: str = Query("", max_length=64),
    since: str = Query("", max_length=40),
    until: str = Query("", max_length=40),
    before: int | None = Query(None, ge=1),
) -> Response:
    """The audit trail, newest first, filtered, with a chain check on demand."""
    authorize(actor, "audit.read")
    filters = _filters(who, action, object_type, object_id, since, until)
    with uow:
        stmt = filters.apply(select(E)).order_by(E.seq.desc()).limit(PAGE_SIZE + 1)
        if before:
            stmt = stmt.where(E.seq < before)
        events: list[audit.AuditEvent] = list(uow.session.scalars(stmt))
        more = len(events) > PAGE_SIZE
        events = events[:PAGE_SIZE]
        actions = sorted(uow.session.scalars(select(E.action).distinct()))
        kinds = sorted(k for k in uow.session.scalars(select(E.object_type).distinct()) if k)
        report = audit.verify_chain(uow.session) if verify else None
        return page(
            request,
            "review/audit.html",
            rows=_rows(uow.session, events),
            report=report,
            filters=filters,
            actions=[(a, _action_label(a)) for a in actions],
            kinds=[(k, OBJECT_KINDS.get(k, humanize(k))) for k in kinds],
            older=events[-1].seq if more and events else None,
            query=filters.query(),
            may_link=allowed(actor, "submission.read"),
        )


def _export_rows(session: Session, filters: Filters) -> Iterator[Row]:
    last: int | None = None
    sent = 0
    while sent < MAX_EXPORT:
        stmt = filters.apply(select(E)).order_by(E.seq.desc()).limit(1000)
        if last is not None:
            stmt = stmt.where(E.seq < last)
        events: list[audit.AuditEvent] = list(session.scalars(stmt))
        if not events:
            return
        yield from _rows(session, events)
        sent += len(events)
        last = events[-1].seq


def _cell(value: Any) -> str:
    # A failed sign-in records whatever was typed as the email: never let a spreadsheet read
    # such a cell as a formula.
    text = str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@router.get("/audit/export")
def audit_export(
    actor: ActorDep,
    uow: UoWDep,
    format: str = Query("csv", pattern="^(csv|jsonl)$"),
    who: str = Query("", alias="actor", max_length=320),
    action: str = Query("", max_length=80),
    object_type: str = Query("", max_length=40),
    object_id: str = Query("", max_length=64),
    since: str = Query("", max_length=40),
    until: str = Query("", max_length=40),
) -> Response:
    """The filtered audit trail as CSV or JSON Lines, newest first (at most 100,000 rows)."""
    authorize(actor, "audit.read")
    filters = _filters(who, action, object_type, object_id, since, until)
    with uow:
        records = [row.record() for row in _export_rows(uow.session, filters)]
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    if format == "jsonl":
        body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        return Response(
            body,
            media_type="application/jsonl; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.jsonl"'},
        )

    def csv_lines() -> Iterator[str]:  # one row at a time
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        columns = ["seq", "at", "who", "action", "object_type", "object_id", "object", "verdict"]
        writer.writerow([*columns, "detail"])
        for r in records:
            detail = json.dumps(r["detail"], ensure_ascii=False, sort_keys=True)
            writer.writerow([_cell(v) for v in (*(r[c] for c in columns), detail)])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        yield buffer.getvalue()

    return StreamingResponse(
        csv_lines(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.csv"'},
    )
