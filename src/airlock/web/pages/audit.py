"""The audit trail page: filters, objects by name and link, scan verdicts, CSV and JSON Lines.

Auditors and the agency admin read it (policy action `audit.read`). Filters live in the URL,
so a filtered view can be bookmarked and the export downloads exactly what is shown. The
reading is `cases.audit_trail`; this module puts it in words and formats the exports.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse

from airlock.cases import audit_trail
from airlock.cases.audit_trail import TrailEvent
from airlock.core.access import allowed, authorize
from airlock.web.deps import ActorDep, UoWDep
from airlock.web.labels import LABELS, humanize, label
from airlock.web.pages.render import page

router = APIRouter(include_in_schema=False)


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


def _row(e: TrailEvent) -> Row:
    who = _who(e.actor_label) or "System (automatic)"
    if e.system:  # jobs record "system" or "system (check name)": name them as the system
        recorded = e.actor_label.strip()
        if recorded.lower() in ("", "system"):
            who = "System (automatic)"
        elif recorded.lower().startswith("system"):
            who = f"System {recorded[6:].strip()}"
        else:
            who = f"System: {recorded}"
    return Row(
        seq=e.seq,
        at=e.at,
        who=who,
        system=e.system,
        action=e.action,
        action_label=_action_label(e.action),
        object_type=e.object_type,
        object_id=e.object_id,
        object_label=e.object_label,
        link=e.link,
        verdict=e.verdict,
        detail=e.detail,
    )


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
    before: int | None = Query(None, ge=1, le=2**62),
) -> Response:
    """The audit trail, newest first, filtered, with a chain check on demand."""
    authorize(actor, "audit.read")  # before the filters are judged: no hints to outsiders
    filters = audit_trail.parse_filters(
        actor=who,
        action=action,
        object_type=object_type,
        object_id=object_id,
        since=since,
        until=until,
    )
    with uow:
        trail = audit_trail.read_page(
            uow, actor=actor, filters=filters, before=before, verify=verify
        )
        return page(
            request,
            "review/audit.html",
            rows=[_row(e) for e in trail.events],
            report=trail.report,
            filters=filters,
            actions=[(a, _action_label(a)) for a in trail.actions],
            kinds=trail.kinds,
            older=trail.older,
            query=filters.query(),
            may_link=allowed(actor, "submission.read"),
        )


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
    filters = audit_trail.parse_filters(
        actor=who,
        action=action,
        object_type=object_type,
        object_id=object_id,
        since=since,
        until=until,
    )
    with uow:
        records = [
            _row(e).record() for e in audit_trail.export_events(uow, actor=actor, filters=filters)
        ]
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
