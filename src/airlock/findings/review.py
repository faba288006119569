"""What a review needs before it completes: no untriaged block, no open serious finding, and
a sign-off by every required role (policy data an agency admin edits)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from sqlalchemy import select

from airlock.core import audit
from airlock.core.access import Actor, authorize
from airlock.core.db import new_id, utcnow
from airlock.core.errors import Conflict, Forbidden, InvalidInput
from airlock.core.roles import Role
from airlock.core.transitions import ObjectType
from airlock.core.uow import UnitOfWork
from airlock.findings import rules
from airlock.findings.models import Finding, FindingDecision, Signoff, SignoffPolicy
from airlock.findings.rules import FindingState as F
from airlock.scanning.engine.model import Verdict
from airlock.scanning.models import ScanResult, ScanRun
from airlock.submissions import service as submissions
from airlock.submissions.models import Submission
from airlock.submissions.rules import SubmissionState as SS

DEFAULT_REQUIRED: Final = (Role.REVIEWER, Role.COORDINATOR)
MAY_SIGN: Final = frozenset({Role.REVIEWER, Role.COORDINATOR, Role.AGENCY_ADMIN})
MAX_COMMENT: Final = 5000


class SignoffDecision(StrEnum):
    """What a sign-off row says."""

    APPROVE = "approve"
    REQUEST_CHANGES = "request_changes"
    REOPENED = "reopened"


@dataclass
class Blockers:
    """Why a submission may not complete review yet; empty when it may."""

    untriaged_block: list[str] = field(default_factory=list)  # fingerprints
    open_serious: list[str] = field(default_factory=list)  # finding ids
    missing_signoffs: list[str] = field(default_factory=list)  # roles

    def messages(self) -> list[str]:
        """Each reason in words."""
        out = []
        if self.untriaged_block:
            out.append(f"{len(self.untriaged_block)} blocking scan result(s) are not triaged yet")
        if self.open_serious:
            out.append(
                f"{len(self.open_serious)} confirmed critical or high finding(s) are neither "
                "verified nor risk-accepted"
            )
        if self.missing_signoffs:
            out.append("sign-off still needed from: " + ", ".join(self.missing_signoffs))
        return out


# --- policy -----------------------------------------------------------------------------------


def required_roles(uow: UnitOfWork) -> list[str]:
    """The roles that must approve a review under the current policy."""
    row = uow.session.scalars(
        select(SignoffPolicy).order_by(SignoffPolicy.created_at.desc(), SignoffPolicy.id)
    ).first()
    return list(row.required_roles) if row else [r.value for r in DEFAULT_REQUIRED]


def set_required_roles(uow: UnitOfWork, *, actor: Actor, roles: Iterable[str]) -> SignoffPolicy:
    """An agency admin sets who must sign off; a new policy row, the old ones stay."""
    authorize(actor, "signoff_policy.manage")
    chosen: list[str] = []
    for value in roles:
        try:
            role = Role(value)
        except ValueError:
            role = None
        if role is None or role not in MAY_SIGN:
            allowed = ", ".join(sorted(MAY_SIGN))
            raise InvalidInput(f"required_roles: {value!r} is not one of {allowed}")
        if role.value not in chosen:
            chosen.append(role.value)
    if not chosen:
        raise InvalidInput("required_roles: name at least one role")
    row = SignoffPolicy(id=new_id(), required_roles=chosen, created_by=actor.user_id)
    row.created_at = utcnow()
    uow.session.add(row)
    audit.append(
        uow.session,
        actor=actor,
        action="signoff_policy.set",
        object_type="signoff_policy",
        object_id=row.id,
        detail={"required_roles": chosen},
    )
    return row


# --- sign-off ---------------------------------------------------------------------------------


def signoffs(uow: UnitOfWork, *, submission_id: str) -> list[Signoff]:
    """Every sign-off row of a submission, oldest first."""
    stmt = (
        select(Signoff)
        .where(Signoff.submission_id == submission_id)
        .order_by(Signoff.at, Signoff.id)
    )
    return list(uow.session.scalars(stmt))


def current_round(rows: list[Signoff]) -> list[Signoff]:
    """The rows after the last reopening: what counts now."""
    last = max(
        (i for i, r in enumerate(rows) if r.decision == SignoffDecision.REOPENED), default=-1
    )
    return rows[last + 1 :]


def missing_roles(uow: UnitOfWork, *, submission_id: str) -> list[str]:
    """Required roles whose latest sign-off in this round is not an approval."""
    latest: dict[str, str] = {}
    for row in current_round(signoffs(uow, submission_id=submission_id)):
        latest[row.role] = row.decision
    return [r for r in required_roles(uow) if latest.get(r) != SignoffDecision.APPROVE]


def sign_off(
    uow: UnitOfWork, *, actor: Actor, submission_id: str, decision: str, comment: str = ""
) -> Signoff:
    """Approve or request changes on a review in progress, with a comment; a new row."""
    sub = submissions.get_submission(uow, actor=actor, submission_id=submission_id)
    authorize(actor, "review.signoff")
    try:
        choice = SignoffDecision(decision)
    except ValueError:
        choice = None
    if choice not in (SignoffDecision.APPROVE, SignoffDecision.REQUEST_CHANGES):
        raise InvalidInput(f"decision: must be approve or request_changes (got {decision!r})")
    comment = comment.strip()
    if len(comment) > MAX_COMMENT:
        raise InvalidInput(f"comment: must be at most {MAX_COMMENT} characters")
    if choice == SignoffDecision.REQUEST_CHANGES and not comment:
        raise InvalidInput("comment: required when requesting changes")
    if sub.state != SS.IN_REVIEW:
        raise Conflict(f"only a submission in review can be signed off (this one is {sub.state})")
    if actor.role.value not in required_roles(uow):
        raise Forbidden(f"the sign-off policy does not ask a {actor.role} to sign off")
    if actor.role == Role.REVIEWER and actor.user_id not in submissions.assigned_user_ids(
        uow, submission_id=sub.id
    ):
        raise Forbidden("only a reviewer assigned to the submission may sign it off")
    row = Signoff(
        id=new_id(),
        submission_id=sub.id,
        decision=choice,
        role=actor.role.value,
        comment=comment,
        actor_user_id=actor.user_id,
        at=utcnow(),
    )
    uow.session.add(row)
    audit.append(
        uow.session,
        actor=actor,
        action=f"review.signoff.{choice}",
        object_type=ObjectType.SUBMISSION,
        object_id=sub.id,
        org_id=sub.org_id,
    )
    return row


def reopen_signoffs(uow: UnitOfWork, *, submission_id: str, why: str) -> Signoff | None:
    """After a change to the submission, earlier sign-offs no longer count; says why."""
    rows = current_round(signoffs(uow, submission_id=submission_id))
    if not rows:
        return None
    row = Signoff(
        id=new_id(),
        submission_id=submission_id,
        decision=SignoffDecision.REOPENED,
        comment=why,
        at=utcnow(),
    )
    uow.session.add(row)
    audit.append(
        uow.session,
        action="review.signoff.reopened",
        actor_label="system",
        object_type=ObjectType.SUBMISSION,
        object_id=submission_id,
        detail={"why": why},
    )
    return row


# --- completion -------------------------------------------------------------------------------


def untriaged_blocks(uow: UnitOfWork, *, submission_id: str) -> list[str]:
    """Fingerprints of block results whose finding is missing or still a draft."""
    blocked = set(
        uow.session.scalars(
            select(ScanResult.fingerprint).where(
                ScanResult.submission_id == submission_id, ScanResult.verdict == Verdict.BLOCK
            )
        )
    )
    if not blocked:
        return []
    rows = uow.session.execute(
        select(Finding.fingerprint, Finding.state).where(
            Finding.submission_id == submission_id, Finding.fingerprint.in_(list(blocked))
        )
    )
    states = {fp: state for fp, state in rows}
    return sorted(fp for fp in blocked if states.get(fp, F.DRAFT) in rules.UNTRIAGED)


def open_serious(uow: UnitOfWork, *, submission_id: str) -> list[str]:
    """Ids of confirmed critical or high findings neither verified nor risk-accepted."""
    out = []
    findings = uow.session.scalars(
        select(Finding).where(
            Finding.submission_id == submission_id,
            Finding.state.in_(list(rules.OPEN_CONFIRMED)),
        )
    )
    for f in findings:
        confirm = uow.session.scalars(
            select(FindingDecision)
            .where(FindingDecision.finding_id == f.id, FindingDecision.kind == "confirm")
            .order_by(FindingDecision.at.desc(), FindingDecision.id)
        ).first()
        severity = confirm.severity if confirm else f.reported_severity
        if rules.blocks_review_complete(state=F(f.state), severity=severity):
            out.append(f.id)
    return out


def blockers(uow: UnitOfWork, *, submission_id: str) -> Blockers:
    """Everything that keeps the submission from review_complete."""
    return Blockers(
        untriaged_block=untriaged_blocks(uow, submission_id=submission_id),
        open_serious=open_serious(uow, submission_id=submission_id),
        missing_signoffs=missing_roles(uow, submission_id=submission_id),
    )


def guard_review_complete(uow: UnitOfWork, sub: Submission) -> None:
    """The submission guard: refuse review_complete while anything blocks it, saying what."""
    found = blockers(uow, submission_id=sub.id)
    reasons = found.messages()
    if reasons:
        raise Conflict("the review cannot complete: " + "; ".join(reasons))


submissions.add_guard(SS.REVIEW_COMPLETE, guard_review_complete)


def verdict_counts(
    uow: UnitOfWork, *, actor: Actor, submission_ids: Iterable[str]
) -> dict[str, dict[str, int]]:
    """Per submission, how many results of the checks' latest runs say block or review, and
    how many findings await triage: counts only, for every agency role that sees the queue."""
    authorize(actor, "queue.read")
    ids = list(dict.fromkeys(submission_ids))
    out = {sid: {"block": 0, "review": 0, "untriaged": 0} for sid in ids}
    if not ids:
        return out
    latest: dict[tuple[str, str, str], str] = {}
    runs = uow.session.execute(
        select(ScanRun.id, ScanRun.subject_kind, ScanRun.subject_id, ScanRun.scanner_name)
        .where(ScanRun.submission_id.in_(ids))
        .order_by(ScanRun.finished_at)
    )
    for run_id, kind, subject, scanner in runs:
        latest[(kind, subject, scanner)] = run_id
    if latest:
        rows = uow.session.execute(
            select(ScanResult.submission_id, ScanResult.verdict).where(
                ScanResult.run_id.in_(list(latest.values())),
                ScanResult.verdict.in_([Verdict.BLOCK.value, Verdict.REVIEW.value]),
            )
        )
        for sid, verdict in rows:
            out[sid][verdict] += 1
    drafts = uow.session.execute(
        select(Finding.submission_id).where(
            Finding.submission_id.in_(ids), Finding.state.in_(list(rules.UNTRIAGED))
        )
    )
    for (sid,) in drafts:
        out[sid]["untriaged"] += 1
    return out
