"""Deadlines from the policy: versions of the policy, phases that start and are met, reminders,
escalation to the coordinator exactly once, and extensions a firm asks for.

A phase uses the policy version in force when it starts, so a change applies to phases that
start after it. Reminders and escalations are delayed jobs at the computed times; each checks
the row again when it runs, so a met or extended deadline does nothing, and the escalation is
claimed with a compare-and-set so it happens once however often the job runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from airlock.cases import notify, webhooks
from airlock.cases.models import Case, Deadline, DeadlinePolicy, Extension
from airlock.cases.rules import (
    DEFAULT_POLICY,
    ExtensionState,
    Phase,
    deadline_for,
    reminder_at,
    validate_policy,
)
from airlock.cases.service import ParticipantRole, current_participants, get_case
from airlock.core import audit
from airlock.core.access import Actor, authorize
from airlock.core.db import utcnow
from airlock.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from airlock.core.transitions import ObjectType, record_change
from airlock.core.uow import UnitOfWork

REMIND_JOB = "cases.deadline_remind"
DUE_JOB = "cases.deadline_due"
MAX_EXTENSION = timedelta(days=365)


def policy_at(uow: UnitOfWork, at: datetime) -> tuple[int, dict[str, Any]]:
    """The policy version in force at a moment (version 0 is the built-in default)."""
    row = uow.session.scalars(
        select(DeadlinePolicy)
        .where(DeadlinePolicy.created_at <= at)
        .order_by(DeadlinePolicy.version.desc())
        .limit(1)
    ).first()
    if row is None:
        return 0, {s: dict(r) for s, r in DEFAULT_POLICY.items()}
    return row.version, dict(row.hours)


def set_policy(
    uow: UnitOfWork, *, actor: Actor, hours: dict[str, Any], reason: str
) -> DeadlinePolicy:
    """An agency admin stores a new version; phases that already started keep theirs."""
    authorize(actor, "deadline.policy")
    table = validate_policy(hours)
    if not reason.strip():
        raise InvalidInput("reason: say why the policy changes")
    latest = uow.session.scalar(
        select(DeadlinePolicy.version).order_by(DeadlinePolicy.version.desc()).limit(1)
    )
    row = DeadlinePolicy(
        version=(latest or 0) + 1,
        hours=table,
        reason=reason.strip()[:2000],
        created_by=actor.user_id,
        created_at=utcnow(),
    )
    uow.session.add(row)
    audit.append(
        uow.session,
        action="deadline_policy.changed",
        actor=actor,
        object_type="deadline_policy",
        object_id=str(row.version),
    )
    uow.flush()
    return row


def _schedule(uow: UnitOfWork, row: Deadline) -> None:
    uow.enqueue(
        REMIND_JOB,
        {"deadline_id": row.id, "due_at": row.due_at.isoformat()},
        run_at=reminder_at(started=row.started_at, due=row.due_at),
    )
    uow.enqueue(DUE_JOB, {"deadline_id": row.id}, run_at=row.due_at)


def start_phase(
    uow: UnitOfWork,
    *,
    case: Case,
    finding_id: str,
    severity: str,
    phase: Phase,
    at: datetime | None = None,
) -> Deadline:
    """Start a phase of a finding now: compute its due time and schedule reminder and escalation."""
    started = at or utcnow()
    existing = uow.session.scalars(
        select(Deadline).where(
            Deadline.case_id == case.id, Deadline.finding_id == finding_id, Deadline.phase == phase
        )
    ).first()
    if existing is not None:
        return existing
    version, table = policy_at(uow, started)
    row = Deadline(
        case_id=case.id,
        finding_id=finding_id,
        phase=phase,
        severity=severity,
        policy_version=version,
        started_at=started,
        due_at=deadline_for(table, severity=severity, phase=phase, started=started),
    )
    uow.session.add(row)
    uow.flush()
    _schedule(uow, row)
    return row


def meet_phase(uow: UnitOfWork, *, case: Case, finding_id: str, phase: Phase) -> Deadline | None:
    """Mark a phase met (the firm acknowledged, submitted its fix): no escalation follows."""
    row = uow.session.scalars(
        select(Deadline).where(
            Deadline.case_id == case.id, Deadline.finding_id == finding_id, Deadline.phase == phase
        )
    ).first()
    if row is not None and row.met_at is None:
        row.met_at = utcnow()
    return row


def deadlines_of(uow: UnitOfWork, *, actor: Actor, case_id: str) -> list[Deadline]:
    """The case's deadlines the actor may see (a firm: those of findings notified to it)."""
    from airlock.cases.service import case_findings

    case = get_case(uow, actor=actor, case_id=case_id)
    visible = {f.finding_id for f in case_findings(uow, actor=actor, case=case)}
    rows = uow.session.scalars(
        select(Deadline).where(Deadline.case_id == case.id).order_by(Deadline.due_at)
    )
    return [d for d in rows if d.finding_id in visible]


def _people(uow: UnitOfWork, case: Case, roles: set[str]) -> list[str]:
    return [p.user_id for p in current_participants(uow, case_id=case.id) if p.role in roles]


def remind(uow: UnitOfWork, *, deadline_id: str, due_at: str | None = None) -> bool:
    """Remind both sides of a coming deadline, unless it was met, moved or already reminded."""
    row = uow.session.get(Deadline, deadline_id)
    if row is None or row.met_at is not None or row.reminded_at is not None:
        return False
    if due_at is not None and due_at != row.due_at.isoformat():
        return False  # an extension moved it; the reminder of the new time will run
    claimed = uow.session.execute(
        update(Deadline)
        .where(Deadline.id == row.id, Deadline.reminded_at.is_(None))
        .values(reminded_at=utcnow())
    )
    if not getattr(claimed, "rowcount", 0):
        return False
    case = uow.session.get(Case, row.case_id)
    assert case is not None
    users = _people(uow, case, {ParticipantRole.COORDINATOR, ParticipantRole.FIRM_CONTACT})
    notify.notify(
        uow,
        user_ids=users,
        kind="deadline.reminder",
        case_id=case.id,
        text=f"Case {case.reference}: the {row.phase} deadline is near",
        link=f"/cases/{case.id}",
    )
    return True


def escalate_if_missed(uow: UnitOfWork, *, deadline_id: str, now: datetime | None = None) -> bool:
    """If the deadline passed unmet, tell the case's coordinators, exactly once."""
    moment = now or utcnow()
    row = uow.session.get(Deadline, deadline_id)
    if row is None or row.met_at is not None or row.escalated_at is not None or row.due_at > moment:
        return False
    claimed = uow.session.execute(
        update(Deadline)
        .where(Deadline.id == row.id, Deadline.escalated_at.is_(None), Deadline.met_at.is_(None))
        .values(escalated_at=moment)
    )
    if not getattr(claimed, "rowcount", 0):
        return False
    case = uow.session.get(Case, row.case_id)
    assert case is not None
    coordinators = _people(uow, case, {ParticipantRole.COORDINATOR})
    if not coordinators:
        coordinators = [case.created_by]
    notify.notify(
        uow,
        user_ids=coordinators,
        kind="deadline.missed",
        case_id=case.id,
        text=f"Case {case.reference}: the {row.phase} deadline was missed",
        link=f"/cases/{case.id}",
    )
    audit.append(
        uow.session,
        action="deadline.missed",
        object_type="case",
        object_id=case.id,
        org_id=case.org_id,
        detail={"deadline_id": row.id, "phase": row.phase},
    )
    return True


def request_extension(
    uow: UnitOfWork, *, actor: Actor, deadline_id: str, until: datetime, reason: str
) -> Extension:
    """The firm asks for more time on one of its deadlines, saying why."""
    authorize(actor, "deadline.extend")
    row = uow.session.get(Deadline, deadline_id)
    if row is None:
        raise NotFound("no such deadline")
    if row not in deadlines_of(uow, actor=actor, case_id=row.case_id):
        raise NotFound("no such deadline")
    if row.met_at is not None:
        raise Conflict(f"the {row.phase} deadline was already met")
    if until.tzinfo is None:
        raise InvalidInput("until: give a time zone (for example 2026-06-01T12:00:00Z)")
    if not row.due_at < until <= row.due_at + MAX_EXTENSION:
        raise InvalidInput(
            f"until: must be after the current deadline ({row.due_at.isoformat()}) and at most "
            f"{MAX_EXTENSION.days} days later (got {until.isoformat()})"
        )
    if not reason.strip():
        raise InvalidInput("reason: say why more time is needed")
    pending = uow.session.scalars(
        select(Extension).where(
            Extension.deadline_id == row.id, Extension.state == ExtensionState.REQUESTED
        )
    ).first()
    if pending is not None:
        raise Conflict("an extension of this deadline is already waiting for an answer")
    ext = Extension(
        deadline_id=row.id,
        requested_by=actor.user_id,
        requested_until=until,
        reason=reason.strip()[:4000],
        state=ExtensionState.REQUESTED,
        requested_at=utcnow(),
    )
    uow.session.add(ext)
    uow.flush()
    case = uow.session.get(Case, row.case_id)
    assert case is not None
    record_change(
        uow.session,
        actor,
        object_type=ObjectType.EXTENSION,
        object_id=ext.id,
        org_id=case.org_id,
        from_state=None,
        to_state=ExtensionState.REQUESTED,
    )
    notify.notify(
        uow,
        user_ids=_people(uow, case, {ParticipantRole.COORDINATOR}),
        kind="extension.requested",
        case_id=case.id,
        link=f"/cases/{case.id}",
        text=f"Case {case.reference}: the firm asks for more time",
    )
    return ext


def decide_extension(
    uow: UnitOfWork, *, actor: Actor, extension_id: str, grant: bool, reason: str
) -> Extension:
    """A coordinator grants (the deadline moves) or refuses an extension, with a reason."""
    authorize(actor, "deadline.decide")
    ext = uow.session.get(Extension, extension_id)
    if ext is None:
        raise NotFound("no such extension request")
    row = uow.session.get(Deadline, ext.deadline_id)
    assert row is not None
    case = get_case(uow, actor=actor, case_id=row.case_id)
    if ext.state != ExtensionState.REQUESTED:
        raise Conflict(f"this request was already {ext.state}")
    if not reason.strip():
        raise InvalidInput("reason: say why the extension is granted or refused")
    target = ExtensionState.GRANTED if grant else ExtensionState.REFUSED
    ext.state, ext.decided_by, ext.decided_at = target, actor.user_id, utcnow()
    ext.decision_reason = reason.strip()[:4000]
    record_change(
        uow.session,
        actor,
        object_type=ObjectType.EXTENSION,
        object_id=ext.id,
        org_id=case.org_id,
        from_state=ExtensionState.REQUESTED,
        to_state=target,
        reason=ext.decision_reason,
    )
    if grant:
        row.due_at = ext.requested_until
        row.reminded_at = None
        row.escalated_at = None
        _schedule(uow, row)
    firm = _people(uow, case, {ParticipantRole.FIRM_CONTACT})
    notify.notify(
        uow,
        user_ids=firm,
        kind=f"extension.{target}",
        case_id=case.id,
        link=f"/cases/{case.id}",
        text=f"Case {case.reference}: your extension request was {target}",
    )
    webhooks.emit(
        uow,
        org_id=case.org_id,
        event_type=f"case.extension_{target}",
        data={"case": case.reference, "extension_id": ext.id},
    )
    return ext


def extensions_of(uow: UnitOfWork, *, actor: Actor, case_id: str) -> list[Extension]:
    """Extension requests on the case's deadlines the actor may see."""
    ids = [d.id for d in deadlines_of(uow, actor=actor, case_id=case_id)]
    if not ids:
        return []
    return list(
        uow.session.scalars(
            select(Extension).where(Extension.deadline_id.in_(ids)).order_by(Extension.requested_at)
        )
    )


@dataclass(frozen=True)
class NextDeadline:
    """The soonest open deadline of a submission's case: when, which phase, and the case."""

    due_at: datetime
    phase: str
    case_id: str


def next_deadline(uow: UnitOfWork, *, actor: Actor, submission_id: str) -> NextDeadline | None:
    """The soonest deadline not yet met that the actor may see on a submission's case."""
    case = uow.session.scalars(select(Case).where(Case.submission_id == submission_id)).first()
    if case is None:
        return None
    try:
        rows = deadlines_of(uow, actor=actor, case_id=case.id)
    except (Forbidden, NotFound):  # not a participant of the case: no deadline to show
        return None
    open_rows = [d for d in rows if d.met_at is None]
    if not open_rows:
        return None
    soonest = min(open_rows, key=lambda d: d.due_at)
    return NextDeadline(soonest.due_at, soonest.phase, case.id)


def next_due_by_submission(
    uow: UnitOfWork, *, actor: Actor, submission_ids: list[str]
) -> dict[str, datetime]:
    """For the agency queue: each submission's soonest unmet deadline (dates only, no content)."""
    authorize(actor, "queue.read")
    if not submission_ids:
        return {}
    stmt = (
        select(Case.submission_id, func.min(Deadline.due_at))
        .join(Deadline, Deadline.case_id == Case.id)
        .where(Case.submission_id.in_(submission_ids), Deadline.met_at.is_(None))
        .group_by(Case.submission_id)
    )
    return {sid: due for sid, due in uow.session.execute(stmt) if due is not None}
