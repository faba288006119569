"""API: cases, their threads and messages, embargo, consent, deadlines and extensions, the
deadline policy, notifications and webhooks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from airlock.cases import deadlines, notify, webhooks
from airlock.cases import service as cases
from airlock.cases.models import Case, Deadline
from airlock.cases.rules import EmbargoState, PublicEvent, check_zone, show_time
from airlock.cases.schemas import (
    AttemptOut,
    CaseFindingOut,
    CaseOut,
    CasesOut,
    CaseSummaryOut,
    DeadlineOut,
    DecisionIn,
    DeliveriesOut,
    DeliveryOut,
    EmbargoIn,
    ExtensionIn,
    ExtensionOut,
    MarkReadIn,
    MessageIn,
    MessageOut,
    MessagesOut,
    NotificationOut,
    NotificationsOut,
    OpenCaseIn,
    ParticipantIn,
    ParticipantOut,
    PolicyIn,
    PolicyOut,
    PublicEventIn,
    ShownTimeOut,
    ThreadOut,
    WebhookCreatedOut,
    WebhookIn,
    WebhookOut,
    WebhooksOut,
)
from airlock.core.access import Actor, authorize
from airlock.core.db import utcnow
from airlock.core.uow import UnitOfWork
from airlock.web.deps import ActorDep, UoWDep

router = APIRouter(tags=["cases"])

TzQuery = Annotated[str | None, Query(max_length=64, description="IANA time zone to show times in")]


def shown(moment: object, tz: str | None) -> ShownTimeOut:
    """A UTC moment with its text in the viewer's zone."""
    from datetime import datetime

    assert isinstance(moment, datetime)
    s = show_time(moment, tz)
    return ShownTimeOut(utc=moment, shown=s.text, zone=s.zone)


def deadline_out(d: Deadline, tz: str | None) -> DeadlineOut:
    """A deadline with its due time shown in the viewer's zone."""
    return DeadlineOut(
        id=d.id,
        finding_id=d.finding_id,
        phase=d.phase,
        severity=d.severity,
        policy_version=d.policy_version,
        started_at=d.started_at,
        due=shown(d.due_at, tz),
        met_at=d.met_at,
        escalated_at=d.escalated_at,
    )


def case_out(uow: UnitOfWork, *, actor: Actor, case: Case, tz: str | None) -> CaseOut:
    """Everything about a case the actor may see."""
    return CaseOut(
        id=case.id,
        reference=case.reference,
        submission_id=case.submission_id,
        org_id=case.org_id,
        embargo_state=case.embargo_state,
        embargo_ends=shown(case.embargo_ends_at, tz) if case.embargo_ends_at else None,
        public_event=case.public_event,
        publication_consent_at=case.publication_consent_at,
        created_at=case.created_at,
        findings=[
            CaseFindingOut.model_validate(f)
            for f in cases.case_findings(uow, actor=actor, case=case)
        ],
        participants=[
            ParticipantOut.model_validate(p) for p in cases.all_participants(uow, case_id=case.id)
        ],
        threads=[ThreadOut.model_validate(t) for t in cases.threads(uow, actor=actor, case=case)],
        deadlines=[
            deadline_out(d, tz) for d in deadlines.deadlines_of(uow, actor=actor, case_id=case.id)
        ],
        extensions=[
            ExtensionOut.model_validate(e)
            for e in deadlines.extensions_of(uow, actor=actor, case_id=case.id)
        ],
    )


def _tz(tz: str | None) -> str | None:
    return check_zone(tz) if tz else None


@router.get("/cases", response_model=CasesOut)
def list_cases(actor: ActorDep, uow: UoWDep) -> CasesOut:
    """The cases the viewer may see."""
    with uow:
        rows = cases.list_cases(uow, actor=actor)
        return CasesOut(cases=[CaseSummaryOut.model_validate(c) for c in rows])


@router.post("/cases", response_model=CaseOut, status_code=201)
def open_case(body: OpenCaseIn, actor: ActorDep, uow: UoWDep) -> CaseOut:
    """Open (or find) the case of a submission (coordinators)."""
    with uow:
        case = cases.open_case(uow, actor=actor, submission_id=body.submission_id)
        out = case_out(uow, actor=actor, case=case, tz=None)
        uow.commit()
        return out


@router.get("/cases/{case_id}", response_model=CaseOut)
def get_case(case_id: str, actor: ActorDep, uow: UoWDep, tz: TzQuery = None) -> CaseOut:
    """A case: findings, participants, threads, deadlines (shown in `tz`), extensions."""
    with uow:
        zone = _tz(tz)
        case = cases.get_case(uow, actor=actor, case_id=case_id)
        return case_out(uow, actor=actor, case=case, tz=zone)


@router.post("/cases/{case_id}/participants", response_model=ParticipantOut, status_code=201)
def add_participant(
    case_id: str, body: ParticipantIn, actor: ActorDep, uow: UoWDep
) -> ParticipantOut:
    """Add someone to a case from now on (coordinators)."""
    with uow:
        row = cases.add_participant(
            uow, actor=actor, case_id=case_id, user_id=body.user_id, role=body.role
        )
        uow.commit()
        return ParticipantOut.model_validate(row)


@router.delete("/cases/{case_id}/participants/{user_id}", response_model=ParticipantOut)
def end_participation(case_id: str, user_id: str, actor: ActorDep, uow: UoWDep) -> ParticipantOut:
    """End someone's part in a case now (coordinators); the record stays."""
    with uow:
        row = cases.end_participation(uow, actor=actor, case_id=case_id, user_id=user_id)
        uow.commit()
        return ParticipantOut.model_validate(row)


@router.get("/threads/{thread_id}/messages", response_model=MessagesOut)
def read_thread(thread_id: str, actor: ActorDep, uow: UoWDep) -> MessagesOut:
    """A thread's messages (participants only; the reading is audited)."""
    with uow:
        rows = cases.read_thread(uow, actor=actor, thread_id=thread_id)
        uow.commit()
    return MessagesOut(
        thread_id=thread_id,
        messages=[
            MessageOut(id=m.id, author_user_id=m.author_user_id, at=m.at, text=m.text) for m in rows
        ],
    )


@router.post("/threads/{thread_id}/messages", response_model=MessageOut, status_code=201)
def post_message(thread_id: str, body: MessageIn, actor: ActorDep, uow: UoWDep) -> MessageOut:
    """Write in a thread (participants only)."""
    with uow:
        row = cases.post_message(uow, actor=actor, thread_id=thread_id, text=body.text)
        uow.commit()
        return MessageOut(
            id=row.id, author_user_id=row.author_user_id, at=row.at, text=body.text.strip()
        )


@router.post("/cases/{case_id}/embargo", response_model=CaseSummaryOut)
def move_embargo(case_id: str, body: EmbargoIn, actor: ActorDep, uow: UoWDep) -> CaseSummaryOut:
    """Propose, activate, revise or end the case's embargo (coordinators)."""
    with uow:
        case = cases.move_embargo(
            uow,
            actor=actor,
            case_id=case_id,
            target=EmbargoState(body.target),
            ends_at=body.ends_at,
            reason=body.reason,
        )
        uow.commit()
        return CaseSummaryOut.model_validate(case)


@router.post("/cases/{case_id}/public-event", response_model=CaseSummaryOut)
def public_event(case_id: str, body: PublicEventIn, actor: ActorDep, uow: UoWDep) -> CaseSummaryOut:
    """Record that the issue is public or exploited; an embargo in force ends by itself."""
    with uow:
        case = cases.record_public_event(
            uow, actor=actor, case_id=case_id, event=PublicEvent(body.event), note=body.note
        )
        uow.commit()
        return CaseSummaryOut.model_validate(case)


@router.post("/cases/{case_id}/consent", response_model=CaseSummaryOut)
def consent(case_id: str, actor: ActorDep, uow: UoWDep) -> CaseSummaryOut:
    """The firm's administrator agrees to publication of an advisory about the case."""
    with uow:
        case = cases.record_consent(uow, actor=actor, case_id=case_id)
        uow.commit()
        return CaseSummaryOut.model_validate(case)


@router.post("/deadlines/{deadline_id}/extensions", response_model=ExtensionOut, status_code=201)
def request_extension(
    deadline_id: str, body: ExtensionIn, actor: ActorDep, uow: UoWDep
) -> ExtensionOut:
    """The firm asks for more time on a deadline, saying why."""
    with uow:
        ext = deadlines.request_extension(
            uow, actor=actor, deadline_id=deadline_id, until=body.until, reason=body.reason
        )
        uow.commit()
        return ExtensionOut.model_validate(ext)


@router.post("/extensions/{extension_id}/decision", response_model=ExtensionOut)
def decide_extension(
    extension_id: str, body: DecisionIn, actor: ActorDep, uow: UoWDep
) -> ExtensionOut:
    """A coordinator grants or refuses an extension, with a reason."""
    with uow:
        ext = deadlines.decide_extension(
            uow, actor=actor, extension_id=extension_id, grant=body.grant, reason=body.reason
        )
        uow.commit()
        return ExtensionOut.model_validate(ext)


@router.get("/deadline-policy", response_model=PolicyOut)
def get_policy(actor: ActorDep, uow: UoWDep) -> PolicyOut:
    """The deadline policy in force (agency staff)."""
    with uow:
        authorize(actor, "queue.read")
        version, hours = deadlines.policy_at(uow, utcnow())
        return PolicyOut(version=version, hours=hours)


@router.put("/deadline-policy", response_model=PolicyOut)
def set_policy(body: PolicyIn, actor: ActorDep, uow: UoWDep) -> PolicyOut:
    """Store a new deadline policy version (agency admins); started phases keep theirs."""
    with uow:
        row = deadlines.set_policy(uow, actor=actor, hours=body.hours, reason=body.reason)
        uow.commit()
        return PolicyOut(version=row.version, hours=row.hours)


@router.get("/notifications", response_model=NotificationsOut)
def list_notifications(actor: ActorDep, uow: UoWDep) -> NotificationsOut:
    """The viewer's notifications, newest first, and the unread count."""
    with uow:
        rows = notify.list_for(uow, actor=actor)
        return NotificationsOut(
            unread=notify.unread_count(uow, user_id=actor.user_id),
            notifications=[NotificationOut.model_validate(n) for n in rows],
        )


@router.post("/notifications/read", response_model=NotificationsOut)
def mark_read(body: MarkReadIn, actor: ActorDep, uow: UoWDep) -> NotificationsOut:
    """Mark one notification (or all) read."""
    with uow:
        notify.mark_read(uow, actor=actor, notification_id=body.id)
        uow.commit()
        rows = notify.list_for(uow, actor=actor)
        return NotificationsOut(
            unread=notify.unread_count(uow, user_id=actor.user_id),
            notifications=[NotificationOut.model_validate(n) for n in rows],
        )


@router.get("/webhooks", response_model=WebhooksOut)
def list_webhooks(actor: ActorDep, uow: UoWDep) -> WebhooksOut:
    """The firm's webhook endpoints (firm administrators)."""
    with uow:
        return WebhooksOut(
            webhooks=[
                WebhookOut.model_validate(w) for w in webhooks.list_endpoints(uow, actor=actor)
            ]
        )


@router.post("/webhooks", response_model=WebhookCreatedOut, status_code=201)
def add_webhook(body: WebhookIn, actor: ActorDep, uow: UoWDep) -> WebhookCreatedOut:
    """Register a URL for signed events; the secret is in this answer only."""
    with uow:
        created = webhooks.add_endpoint(uow, actor=actor, url=body.url)
        uow.commit()
        ep = created.endpoint
        return WebhookCreatedOut(
            id=ep.id, url=ep.url, created_at=ep.created_at, secret=created.secret
        )


@router.delete("/webhooks/{endpoint_id}", status_code=204)
def remove_webhook(endpoint_id: str, actor: ActorDep, uow: UoWDep) -> None:
    """Stop sending to an endpoint."""
    with uow:
        webhooks.remove_endpoint(uow, actor=actor, endpoint_id=endpoint_id)
        uow.commit()


@router.get("/webhooks/{endpoint_id}/deliveries", response_model=DeliveriesOut)
def webhook_deliveries(endpoint_id: str, actor: ActorDep, uow: UoWDep) -> DeliveriesOut:
    """The delivery log of an endpoint."""
    with uow:
        rows = webhooks.deliveries(uow, actor=actor, endpoint_id=endpoint_id)
        return DeliveriesOut(
            deliveries=[
                DeliveryOut(
                    id=d.id,
                    event_type=d.event_type,
                    state=d.state,
                    created_at=d.created_at,
                    attempts=[AttemptOut.model_validate(a) for a in attempts],
                )
                for d, attempts in rows
            ]
        )
