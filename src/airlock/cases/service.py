"""Cases: opening one per submission, participants, threads and messages, embargo, consent.

Who sees a case: the firm it concerns (only the findings notified to it), its participants,
and coordinators and agency admins. Messages are read and written by current participants
only, and every read is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from airlock.accounts.models import Membership
from airlock.cases import sealing
from airlock.cases.models import Case, CaseFinding, Message, Participant, Thread
from airlock.cases.rules import EMBARGOED, EmbargoState, PublicEvent, check_embargo_move
from airlock.core import audit
from airlock.core.access import Actor, authorize
from airlock.core.db import new_id, utcnow
from airlock.core.errors import Forbidden, InvalidInput, NotFound
from airlock.core.roles import OrgKind, Role
from airlock.core.transitions import ObjectType, record_change
from airlock.core.uow import UnitOfWork
from airlock.submissions.models import Submission
from airlock.submissions.service import assigned_user_ids

MAX_MESSAGE_CHARS = 20_000
MAX_PARTICIPANTS = 200
MAX_EMBARGO = timedelta(days=730)


class ParticipantRole:
    """What a participant does in a case."""

    COORDINATOR = "coordinator"
    REVIEWER = "reviewer"
    FIRM_CONTACT = "firm_contact"
    OBSERVER = "observer"

    ALL = frozenset({COORDINATOR, REVIEWER, FIRM_CONTACT, OBSERVER})


def _reference(uow: UnitOfWork) -> str:
    year = utcnow().year
    count = uow.session.scalar(select(func.count()).select_from(Case)) or 0
    return f"AIR-{year}-{count + 1:04d}"


def _add_participant_row(
    uow: UnitOfWork, case: Case, user_id: str, role: str, by: str | None
) -> None:
    uow.session.add(
        Participant(case_id=case.id, user_id=user_id, role=role, started_at=utcnow(), added_by=by)
    )


def case_for_submission(uow: UnitOfWork, *, submission_id: str) -> Case | None:
    """The case of a submission, if one was opened."""
    return uow.session.scalars(select(Case).where(Case.submission_id == submission_id)).first()


def ensure_case(uow: UnitOfWork, *, submission_id: str, opened_by: str) -> Case:
    """The submission's case, opened now if it has none: the assigned reviewers, the person who
    opened it and the firm's administrators take part from the start."""
    existing = case_for_submission(uow, submission_id=submission_id)
    if existing is not None:
        return existing
    sub = uow.session.get(Submission, submission_id)
    if sub is None:
        raise NotFound("no such submission")
    case = Case(
        id=new_id(),
        reference=_reference(uow),
        submission_id=sub.id,
        org_id=sub.org_id,
        embargo_state=EmbargoState.NONE,
        created_by=opened_by,
        created_at=utcnow(),
    )
    uow.session.add(case)
    uow.flush()
    opener = uow.session.scalars(select(Membership).where(Membership.user_id == opened_by)).first()
    staff: dict[str, str] = {}
    if opener is not None and opener.role == Role.COORDINATOR:
        staff[opened_by] = ParticipantRole.COORDINATOR
    else:
        staff[opened_by] = ParticipantRole.REVIEWER
    for user_id in sorted(assigned_user_ids(uow, submission_id=sub.id)):
        staff.setdefault(user_id, ParticipantRole.REVIEWER)
    if ParticipantRole.COORDINATOR not in staff.values() and opener is not None:
        # someone must answer for deadlines: the agency's coordinators take part
        coordinators = uow.session.scalars(
            select(Membership.user_id).where(
                Membership.org_id == opener.org_id, Membership.role == Role.COORDINATOR
            )
        )
        for user_id in coordinators:
            staff[user_id] = ParticipantRole.COORDINATOR
    for user_id, role in staff.items():
        _add_participant_row(uow, case, user_id, role, opened_by)
    admins = uow.session.scalars(
        select(Membership.user_id).where(
            Membership.org_id == sub.org_id, Membership.role == Role.DEVELOPER_ADMIN
        )
    )
    for user_id in admins:
        _add_participant_row(uow, case, user_id, ParticipantRole.FIRM_CONTACT, opened_by)
    uow.session.add(Thread(case_id=case.id, finding_id=None, created_at=utcnow()))
    audit.append(
        uow.session,
        action="case.opened",
        actor_user_id=opened_by,
        object_type="case",
        object_id=case.id,
        org_id=sub.org_id,
        detail={"reference": case.reference},
    )
    uow.flush()
    return case


def open_case(uow: UnitOfWork, *, actor: Actor, submission_id: str) -> Case:
    """A coordinator opens (or finds) the case of a submission."""
    authorize(actor, "case.open")
    return ensure_case(uow, submission_id=submission_id, opened_by=actor.user_id)


def current_participants(
    uow: UnitOfWork, *, case_id: str, at: datetime | None = None
) -> list[Participant]:
    """Who takes part in the case now (or at a given moment)."""
    moment = at or utcnow()
    stmt = (
        select(Participant)
        .where(
            Participant.case_id == case_id,
            Participant.started_at <= moment,
            (Participant.ended_at.is_(None)) | (Participant.ended_at > moment),
        )
        .order_by(Participant.started_at)
    )
    return list(uow.session.scalars(stmt))


def all_participants(uow: UnitOfWork, *, case_id: str) -> list[Participant]:
    """Every participation of the case, ended ones included, in order."""
    stmt = (
        select(Participant).where(Participant.case_id == case_id).order_by(Participant.started_at)
    )
    return list(uow.session.scalars(stmt))


def is_participant(uow: UnitOfWork, *, case_id: str, user_id: str) -> bool:
    """Whether the user takes part in the case now."""
    return any(p.user_id == user_id for p in current_participants(uow, case_id=case_id))


def get_case(uow: UnitOfWork, *, actor: Actor, case_id: str) -> Case:
    """The case if the actor may see it; 404 for anyone who may not know it exists."""
    authorize(actor, "case.read")
    case = uow.session.get(Case, case_id)
    if case is None:
        raise NotFound("no such case")
    if actor.org_kind == OrgKind.DEVELOPER:
        if case.org_id != actor.org_id:
            raise NotFound("no such case")
        return case
    if actor.role in {Role.COORDINATOR, Role.AGENCY_ADMIN}:
        return case
    if not is_participant(uow, case_id=case.id, user_id=actor.user_id):
        raise NotFound("no such case")
    return case


def list_cases(uow: UnitOfWork, *, actor: Actor) -> list[Case]:
    """The cases the actor may see, newest first."""
    authorize(actor, "case.read")
    stmt = select(Case).order_by(Case.created_at.desc()).limit(500)
    if actor.org_kind == OrgKind.DEVELOPER:
        stmt = stmt.where(Case.org_id == actor.org_id)
    elif actor.role not in {Role.COORDINATOR, Role.AGENCY_ADMIN}:
        mine = select(Participant.case_id).where(
            Participant.user_id == actor.user_id, Participant.ended_at.is_(None)
        )
        stmt = stmt.where(Case.id.in_(mine))
    return list(uow.session.scalars(stmt))


def case_findings(uow: UnitOfWork, *, actor: Actor, case: Case) -> list[CaseFinding]:
    """The case's findings; a firm sees only those notified to it."""
    stmt = select(CaseFinding).where(CaseFinding.case_id == case.id).order_by(CaseFinding.added_at)
    if actor.org_kind == OrgKind.DEVELOPER:
        stmt = stmt.where(CaseFinding.notified_at.is_not(None))
    return list(uow.session.scalars(stmt))


def add_finding(
    uow: UnitOfWork, *, case: Case, finding_id: str, severity: str, title: str
) -> CaseFinding:
    """Coordinate a finding in the case (idempotent), with its own thread."""
    row = uow.session.scalars(
        select(CaseFinding).where(
            CaseFinding.case_id == case.id, CaseFinding.finding_id == finding_id
        )
    ).first()
    if row is not None:
        row.severity, row.title = severity, title[:300]
        return row
    row = CaseFinding(
        case_id=case.id,
        finding_id=finding_id,
        severity=severity,
        title=title[:300],
        added_at=utcnow(),
    )
    uow.session.add(row)
    uow.session.add(Thread(case_id=case.id, finding_id=finding_id, created_at=utcnow()))
    uow.flush()
    return row


def add_participant(
    uow: UnitOfWork, *, actor: Actor, case_id: str, user_id: str, role: str
) -> Participant:
    """A coordinator adds someone to the case; a firm's user may only be its contact."""
    authorize(actor, "case.manage")
    case = get_case(uow, actor=actor, case_id=case_id)
    if role not in ParticipantRole.ALL:
        raise InvalidInput(
            f"role: use one of {', '.join(sorted(ParticipantRole.ALL))} (got {role!r})"
        )
    member = uow.session.scalars(select(Membership).where(Membership.user_id == user_id)).first()
    if member is None:
        raise InvalidInput(f"user_id: no such user {user_id!r}")
    firm_side = member.org_id == case.org_id
    if not firm_side and member.org.kind != OrgKind.AGENCY:
        raise InvalidInput("user_id: only the case's firm and agency staff may take part")
    if firm_side != (role == ParticipantRole.FIRM_CONTACT):
        raise InvalidInput(
            "role: the firm's people take part as firm_contact, agency staff otherwise"
        )
    if is_participant(uow, case_id=case.id, user_id=user_id):
        raise InvalidInput("user_id: already takes part in this case")
    if len(current_participants(uow, case_id=case.id)) >= MAX_PARTICIPANTS:
        raise InvalidInput(f"a case has at most {MAX_PARTICIPANTS} participants")
    row = Participant(
        case_id=case.id, user_id=user_id, role=role, started_at=utcnow(), added_by=actor.user_id
    )
    uow.session.add(row)
    audit.append(
        uow.session,
        action="case.participant_added",
        actor=actor,
        object_type="case",
        object_id=case.id,
        org_id=case.org_id,
        detail={"user_id": user_id, "role": role},
    )
    uow.flush()
    return row


def end_participation(uow: UnitOfWork, *, actor: Actor, case_id: str, user_id: str) -> Participant:
    """A coordinator ends someone's part in the case (the row keeps its start and end)."""
    authorize(actor, "case.manage")
    case = get_case(uow, actor=actor, case_id=case_id)
    row = next(
        (p for p in current_participants(uow, case_id=case.id) if p.user_id == user_id), None
    )
    if row is None:
        raise NotFound("this user does not take part in the case")
    row.ended_at = utcnow()
    audit.append(
        uow.session,
        action="case.participant_ended",
        actor=actor,
        object_type="case",
        object_id=case.id,
        org_id=case.org_id,
        detail={"user_id": user_id},
    )
    return row


def threads(uow: UnitOfWork, *, actor: Actor, case: Case) -> list[Thread]:
    """The general thread first, then one per finding the actor may see."""
    visible = {f.finding_id for f in case_findings(uow, actor=actor, case=case)}
    rows = uow.session.scalars(
        select(Thread).where(Thread.case_id == case.id).order_by(Thread.created_at)
    )
    out = [t for t in rows if t.finding_id is None or t.finding_id in visible]
    return sorted(out, key=lambda t: t.finding_id is not None)


def _thread_for_participant(
    uow: UnitOfWork, *, actor: Actor, thread_id: str
) -> tuple[Case, Thread]:
    thread = uow.session.get(Thread, thread_id)
    if thread is None:
        raise NotFound("no such thread")
    case = get_case(uow, actor=actor, case_id=thread.case_id)
    if thread not in threads(uow, actor=actor, case=case):
        raise NotFound("no such thread")
    if not is_participant(uow, case_id=case.id, user_id=actor.user_id):
        raise Forbidden(f"you do not take part in case {case.reference}; ask its coordinator")
    return case, thread


@dataclass(frozen=True)
class ShownMessage:
    """A message as its reader sees it."""

    id: str
    author_user_id: str
    at: datetime
    text: str


def post_message(uow: UnitOfWork, *, actor: Actor, thread_id: str, text: str) -> Message:
    """A participant writes in a thread; the body is stored encrypted for the firm."""
    authorize(actor, "case.message")
    body = text.strip()
    if not body:
        raise InvalidInput("text: write something before sending")
    if len(body) > MAX_MESSAGE_CHARS:
        raise InvalidInput(f"text: at most {MAX_MESSAGE_CHARS} characters (got {len(body)})")
    case, thread = _thread_for_participant(uow, actor=actor, thread_id=thread_id)
    message_id = new_id()
    version, sealed = sealing.seal(uow, org_id=case.org_id, message_id=message_id, text=body)
    row = Message(
        id=message_id,
        thread_id=thread.id,
        author_user_id=actor.user_id,
        key_version=version,
        sealed=sealed,
        at=utcnow(),
    )
    uow.session.add(row)
    audit.append(
        uow.session,
        action="case.message_posted",
        actor=actor,
        object_type="case",
        object_id=case.id,
        org_id=case.org_id,
        detail={"thread_id": thread.id},
    )
    uow.flush()
    return row


def read_thread(uow: UnitOfWork, *, actor: Actor, thread_id: str) -> list[ShownMessage]:
    """A participant reads a thread; the reading is audited."""
    authorize(actor, "case.message")
    case, thread = _thread_for_participant(uow, actor=actor, thread_id=thread_id)
    rows = list(
        uow.session.scalars(
            select(Message).where(Message.thread_id == thread.id).order_by(Message.at, Message.id)
        )
    )
    audit.append(
        uow.session,
        action="case.messages_read",
        actor=actor,
        object_type="case",
        object_id=case.id,
        org_id=case.org_id,
        detail={"thread_id": thread.id, "messages": len(rows)},
    )
    return [
        ShownMessage(
            m.id,
            m.author_user_id,
            m.at,
            sealing.open_sealed(
                uow, org_id=case.org_id, message_id=m.id, version=m.key_version, sealed=m.sealed
            ),
        )
        for m in rows
    ]


def is_embargoed(case: Case) -> bool:
    """Whether nothing about the case may leave the review workspace."""
    return EmbargoState(case.embargo_state) in EMBARGOED


def _move_embargo(
    uow: UnitOfWork, actor: Actor | None, case: Case, target: EmbargoState, reason: str
) -> Case:
    current = EmbargoState(case.embargo_state)
    check_embargo_move(current, target)
    record_change(
        uow.session,
        actor,
        object_type=ObjectType.EMBARGO,
        object_id=case.id,
        org_id=case.org_id,
        from_state=current,
        to_state=target,
        reason=reason,
    )
    case.embargo_state = target
    return case


def move_embargo(
    uow: UnitOfWork,
    *,
    actor: Actor,
    case_id: str,
    target: EmbargoState,
    ends_at: datetime | None = None,
    reason: str = "",
) -> Case:
    """A coordinator proposes, activates, revises or ends a case's embargo."""
    authorize(actor, "case.manage")
    case = get_case(uow, actor=actor, case_id=case_id)
    if (
        target in {EmbargoState.PROPOSED, EmbargoState.ACTIVE, EmbargoState.REVISE}
        and ends_at is not None
    ):
        now = utcnow()
        if ends_at.tzinfo is None:
            raise InvalidInput("ends_at: give a time zone (for example 2026-06-01T12:00:00Z)")
        if not now < ends_at <= now + MAX_EMBARGO:
            raise InvalidInput(
                f"ends_at: must be in the future and within {MAX_EMBARGO.days} days "
                f"(got {ends_at.isoformat()})"
            )
        case.embargo_ends_at = ends_at
    if target == EmbargoState.PROPOSED and case.embargo_ends_at is None:
        raise InvalidInput("ends_at: a proposed embargo needs an end time")
    return _move_embargo(uow, actor, case, target, reason)


def record_public_event(
    uow: UnitOfWork, *, actor: Actor, case_id: str, event: PublicEvent, note: str
) -> Case:
    """Record that the issue became public or is exploited; an embargo in force exits by itself."""
    authorize(actor, "case.manage")
    case = get_case(uow, actor=actor, case_id=case_id)
    if not note.strip():
        raise InvalidInput("note: say where it became public or how it is exploited")
    case.public_event = event
    audit.append(
        uow.session,
        action=f"case.{event}",
        actor=actor,
        object_type="case",
        object_id=case.id,
        org_id=case.org_id,
        detail={"note_chars": len(note)},
    )
    if is_embargoed(case):
        _move_embargo(uow, None, case, EmbargoState.EXITED, f"the issue is {event}")
    return case


def record_consent(uow: UnitOfWork, *, actor: Actor, case_id: str) -> Case:
    """The firm's administrator agrees that an advisory about the case may be published."""
    authorize(actor, "case.consent", org_id=None)
    case = get_case(uow, actor=actor, case_id=case_id)
    if case.publication_consent_at is None:
        case.publication_consent_at = utcnow()
        audit.append(
            uow.session,
            action="case.publication_consent",
            actor=actor,
            object_type="case",
            object_id=case.id,
            org_id=case.org_id,
        )
    return case
