"""What needs a firm's action now, for its dashboard: drafts and returned submissions, findings
waiting for its answer, and the deadlines that run against it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from airlock.cases.deadlines import next_deadline
from airlock.core.access import Actor
from airlock.core.uow import UnitOfWork
from airlock.enrollment import rules as enrollment_rules
from airlock.enrollment import service as enrollment
from airlock.findings import service as findings
from airlock.findings.rules import FindingState
from airlock.submissions import service as submissions
from airlock.submissions.rules import SubmissionState

# The findings the firm is expected to move next, and the words for what it should do.
_FINDING_ASKS: Final = {
    FindingState.NOTIFIED: "Acknowledge or dispute the finding",
    FindingState.ACKNOWLEDGED: "Start a fix for the finding",
    FindingState.FIX_IN_PROGRESS: "Submit the fix for the finding",
}


@dataclass(frozen=True)
class Todo:
    """One thing the firm should do, where to do it, and by when if a deadline runs."""

    text: str
    href: str
    due: datetime | None = None


def firm_todo(uow: UnitOfWork, *, actor: Actor) -> list[Todo]:
    """What the actor's firm should do next, soonest deadline first, then in page order."""
    p = enrollment.get_participation(uow, actor=actor, org_id=actor.org_id)
    state = enrollment_rules.ParticipationState(p.state)
    out: list[Todo] = []
    if state == enrollment_rules.ParticipationState.INVITED:
        out.append(Todo("Sign the participation agreement", "/portal#participation-heading"))
        return out
    may_edit = enrollment_rules.may(state, enrollment_rules.FirmMove.EDIT)
    for sub in submissions.list_for_firm(uow, actor=actor):
        href = f"/portal/submissions/{sub.id}"
        if may_edit and sub.state == SubmissionState.RETURNED:
            out.append(
                Todo(f"Correct and resubmit {sub.title} (returned: {sub.return_reason})", href)
            )
        elif may_edit and sub.state == SubmissionState.DRAFT:
            out.append(Todo(f"Complete and submit the draft {sub.title}", href))
        due = next_deadline(uow, actor=actor, submission_id=sub.id)
        if due is not None:
            out.append(
                Todo(
                    f"Deadline for {sub.title} ({due.phase.replace('_', ' ')})",
                    f"/cases/{due.case_id}",
                    due.due_at,
                )
            )
    for f in findings.list_findings(uow, actor=actor, states=list(_FINDING_ASKS), limit=100):
        ask = _FINDING_ASKS[FindingState(f.state)]
        out.append(Todo(f"{ask}: {f.title}", f"/portal/findings/{f.id}"))
    dated = sorted((t for t in out if t.due), key=lambda t: t.due or datetime.min)
    return dated + [t for t in out if not t.due]
