"""How a case follows its findings: notifying one opens or joins the case, tells the firm by
app, email and webhook and starts its deadlines; the firm's answers meet them."""

from __future__ import annotations

from sqlalchemy import select

from airlock.cases import deadlines, notify, webhooks
from airlock.cases.models import Case, CaseFinding
from airlock.cases.rules import Phase
from airlock.cases.service import ParticipantRole, add_finding, current_participants, ensure_case
from airlock.core.db import utcnow
from airlock.core.transitions import ObjectType, history
from airlock.core.uow import UnitOfWork
from airlock.findings.models import Finding, FindingDecision

# Finding states (airlock.findings.rules.FindingState values) the case reacts to.
ANSWERED = frozenset({"acknowledged", "disputed"})
FIX_SUBMITTED = "fix_submitted"
AGENCY_MOVES = frozenset({"fix_verified", "risk_accepted", "closed"})


def _people(uow: UnitOfWork, case: Case, role: str) -> list[str]:
    return [p.user_id for p in current_participants(uow, case_id=case.id) if p.role == role]


def finding_notified(
    uow: UnitOfWork,
    *,
    submission_id: str,
    finding_id: str,
    severity: str,
    title: str,
    by_user_id: str,
) -> CaseFinding:
    """A confirmed finding was notified to the firm: it joins the submission's case (opened if
    needed), the acknowledge and disclosure clocks start, and the firm is told."""
    case = ensure_case(uow, submission_id=submission_id, opened_by=by_user_id)
    row = add_finding(uow, case=case, finding_id=finding_id, severity=severity, title=title)
    if row.notified_at is not None:
        return row  # told already (a redelivered event)
    row.notified_at = utcnow()
    deadlines.start_phase(
        uow, case=case, finding_id=finding_id, severity=severity, phase=Phase.ACKNOWLEDGE
    )
    deadlines.start_phase(
        uow, case=case, finding_id=finding_id, severity=severity, phase=Phase.DISCLOSURE
    )
    notify.notify(
        uow,
        user_ids=_people(uow, case, ParticipantRole.FIRM_CONTACT),
        kind="finding.notified",
        case_id=case.id,
        link=f"/cases/{case.id}",
        text=f"Case {case.reference}: a finding needs your attention",
    )
    webhooks.emit(
        uow,
        org_id=case.org_id,
        event_type="finding.notified",
        data={"case": case.reference, "case_id": case.id, "finding_id": finding_id},
    )
    return row


def finding_moved(uow: UnitOfWork, *, finding_id: str, to_state: str) -> Case | None:
    """A notified finding moved: the firm's answers meet deadlines and start the fix clock; the
    agency's moves are told to the firm."""
    row = uow.session.scalars(
        select(CaseFinding).where(
            CaseFinding.finding_id == finding_id, CaseFinding.notified_at.is_not(None)
        )
    ).first()
    if row is None:
        return None
    case = uow.session.get(Case, row.case_id)
    assert case is not None
    if to_state in ANSWERED:
        deadlines.meet_phase(uow, case=case, finding_id=finding_id, phase=Phase.ACKNOWLEDGE)
        if to_state == "acknowledged":
            deadlines.start_phase(
                uow, case=case, finding_id=finding_id, severity=row.severity, phase=Phase.FIX
            )
        notify.notify(
            uow,
            user_ids=_people(uow, case, ParticipantRole.COORDINATOR),
            kind=f"finding.{to_state}",
            case_id=case.id,
            link=f"/cases/{case.id}",
            email=False,
            text=f"Case {case.reference}: the firm answered a finding ({to_state})",
        )
    elif to_state == FIX_SUBMITTED:
        deadlines.meet_phase(uow, case=case, finding_id=finding_id, phase=Phase.FIX)
        notify.notify(
            uow,
            user_ids=_people(uow, case, ParticipantRole.COORDINATOR)
            + _people(uow, case, ParticipantRole.REVIEWER),
            kind="finding.fix_submitted",
            case_id=case.id,
            link=f"/cases/{case.id}",
            email=False,
            text=f"Case {case.reference}: the firm submitted a fix",
        )
    elif to_state in AGENCY_MOVES:
        notify.notify(
            uow,
            user_ids=_people(uow, case, ParticipantRole.FIRM_CONTACT),
            kind=f"finding.{to_state}",
            case_id=case.id,
            link=f"/cases/{case.id}",
            text=f"Case {case.reference}: a finding is now {to_state.replace('_', ' ')}",
        )
        webhooks.emit(
            uow,
            org_id=case.org_id,
            event_type=f"finding.{to_state}",
            data={"case": case.reference, "case_id": case.id, "finding_id": finding_id},
        )
    return case


def finding_severity(uow: UnitOfWork, finding: Finding) -> str:
    """The severity the latest confirmation gave, else the one the check reported."""
    decided = uow.session.scalars(
        select(FindingDecision.severity)
        .where(FindingDecision.finding_id == finding.id, FindingDecision.severity != "")
        .order_by(FindingDecision.at.desc(), FindingDecision.id.desc())
        .limit(1)
    ).first()
    return decided or finding.reported_severity


def follow(uow: UnitOfWork, *, finding_id: str, to_state: str) -> None:
    """React to a finding's move (the job subscribed to the findings stage's event)."""
    finding = uow.session.get(Finding, finding_id)
    if finding is None:
        return
    if to_state == "notified":
        # whoever notified it (the transitions table says) opens the case if none is open
        moves = history(uow.session, object_type=ObjectType.FINDING, object_id=finding.id)
        by = next((t.actor_user_id for t in reversed(moves) if t.to_state == "notified"), None)
        finding_notified(
            uow,
            submission_id=finding.submission_id,
            finding_id=finding.id,
            severity=finding_severity(uow, finding),
            title=finding.title,
            by_user_id=by or finding.created_by or "",
        )
    else:
        finding_moved(uow, finding_id=finding.id, to_state=to_state)
