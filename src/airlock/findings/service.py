"""What the findings stage does: show findings on need-to-know, triage them, move them along.

Services take a unit of work and keyword arguments, authorise through `core.access`, append
rows (decisions, evidence, transitions) and never commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final

from sqlalchemy import Select, select

from airlock.core import events
from airlock.core.access import Actor, authorize
from airlock.core.db import new_id, utcnow
from airlock.core.errors import AirlockError, Conflict, Forbidden, InvalidInput, NotFound
from airlock.core.roles import OrgKind, Role
from airlock.core.transitions import ObjectType, record_change
from airlock.core.uow import UnitOfWork
from airlock.findings import fixes, rules, taxonomy
from airlock.findings.models import Finding, FindingDecision, FindingEvidence
from airlock.findings.rules import FindingState as F
from airlock.findings.rules import Side
from airlock.findings.taxonomy import Classification, classify
from airlock.scanning import service as scanning_service
from airlock.scanning.models import ScanResult
from airlock.scanning.service import ResultView
from airlock.submissions import service as submissions
from airlock.submissions.models import Assignment

MANUAL_CHECK: Final = "manual"
FINDING_MOVED_EVENT: Final = "finding.moved"
MAX_BULK: Final = 500
MAX_TITLE: Final = 300


class DecisionKind:
    """The kinds of triage decision rows."""

    CONFIRM = "confirm"
    FALSE_POSITIVE = "false_positive"
    DUPLICATE = "duplicate"


# --- reading ----------------------------------------------------------------------------------


def _get(uow: UnitOfWork, finding_id: str) -> Finding:
    finding = uow.session.get(Finding, finding_id) if len(finding_id) <= 64 else None
    if finding is None:
        raise NotFound("finding not found")
    return finding


def _check_may_see(uow: UnitOfWork, actor: Actor, finding: Finding) -> None:
    authorize(actor, "finding.read", org_id=finding.org_id)
    if actor.org_kind == OrgKind.DEVELOPER:
        # A firm sees only what was notified to it; a draft's existence is not confirmed.
        if F(finding.state) not in rules.VISIBLE_TO_FIRM:
            raise NotFound("finding not found")
        return
    if actor.role == Role.REVIEWER and actor.user_id not in submissions.assigned_user_ids(
        uow, submission_id=finding.submission_id
    ):
        raise Forbidden("only reviewers assigned to the submission see its findings")


def get_finding(uow: UnitOfWork, *, actor: Actor, finding_id: str) -> Finding:
    """One finding, for the firm once notified, for staff on need-to-know."""
    finding = _get(uow, finding_id)
    _check_may_see(uow, actor, finding)
    return finding


def decisions(uow: UnitOfWork, *, finding_id: str) -> list[FindingDecision]:
    """Every triage decision on a finding, oldest first."""
    stmt = (
        select(FindingDecision)
        .where(FindingDecision.finding_id == finding_id)
        .order_by(FindingDecision.at, FindingDecision.id)
    )
    return list(uow.session.scalars(stmt))


def current_classification(uow: UnitOfWork, *, finding: Finding) -> FindingDecision | None:
    """The latest confirmation of the finding, if it was confirmed."""
    rows = [d for d in decisions(uow, finding_id=finding.id) if d.kind == DecisionKind.CONFIRM]
    return rows[-1] if rows else None


def severity_of(uow: UnitOfWork, *, finding: Finding) -> str:
    """The confirmed severity, or what the check reported while unconfirmed."""
    decision = current_classification(uow, finding=finding)
    return decision.severity if decision else finding.reported_severity


def evidence(
    uow: UnitOfWork, *, finding_id: str
) -> list[tuple[FindingEvidence, ResultView | None]]:
    """Evidence rows with the scan results they point to (sealed content opened), oldest first.

    Callers check need-to-know first: the opened results carry the firm's content.
    """
    rows = list(
        uow.session.scalars(
            select(FindingEvidence)
            .where(FindingEvidence.finding_id == finding_id)
            .order_by(FindingEvidence.created_at, FindingEvidence.id)
        )
    )
    ids = [e.scan_result_id for e in rows if e.scan_result_id]
    stored = (
        list(uow.session.scalars(select(ScanResult).where(ScanResult.id.in_(ids)))) if ids else []
    )
    opened = {r.id: r for r in scanning_service.opened_results(uow, stored)}
    return [(e, opened.get(e.scan_result_id) if e.scan_result_id else None) for e in rows]


def _filtered(
    stmt: Select[Finding],
    *,
    submission_id: str | None,
    check: str | None,
    rule: str | None,
    severity: str | None,
    states: Iterable[str] | None,
    limit: int,
) -> Select[Finding]:
    if submission_id:
        stmt = stmt.where(Finding.submission_id == submission_id)
    if check:
        stmt = stmt.where(Finding.check_name == check)
    if rule:
        stmt = stmt.where(Finding.rule_id == rule)
    if severity:
        stmt = stmt.where(Finding.reported_severity == taxonomy.check_severity(severity).value)
    if states is not None:
        try:
            wanted = [F(s).value for s in states]
        except ValueError:
            allowed = ", ".join(s.value for s in F)
            raise InvalidInput(f"state: must be one of {allowed}") from None
        stmt = stmt.where(Finding.state.in_(wanted))
    return stmt.order_by(Finding.created_at.desc(), Finding.id).limit(max(1, min(limit, 2000)))


def list_findings(
    uow: UnitOfWork,
    *,
    actor: Actor,
    submission_id: str | None = None,
    check: str | None = None,
    rule: str | None = None,
    severity: str | None = None,
    states: Iterable[str] | None = None,
    limit: int = 500,
) -> list[Finding]:
    """Findings the actor may see: a reviewer's assigned submissions, coordinators' all, a
    firm's notified ones; filtered by submission, check, rule, reported severity and state."""
    authorize(actor, "finding.read")
    stmt = select(Finding)
    if actor.org_kind == OrgKind.DEVELOPER:
        stmt = stmt.where(
            Finding.org_id == actor.org_id, Finding.state.in_(list(rules.VISIBLE_TO_FIRM))
        )
    elif actor.role == Role.REVIEWER:
        mine = select(Assignment.submission_id).where(Assignment.user_id == actor.user_id)
        stmt = stmt.where(Finding.submission_id.in_(mine))
    stmt = _filtered(
        stmt,
        submission_id=submission_id,
        check=check,
        rule=rule,
        severity=severity,
        states=states,
        limit=limit,
    )
    return list(uow.session.scalars(stmt))


def list_for_operator(
    uow: UnitOfWork,
    *,
    submission_id: str | None = None,
    check: str | None = None,
    rule: str | None = None,
    severity: str | None = None,
    states: Iterable[str] | None = None,
    limit: int = 500,
) -> list[Finding]:
    """Every finding matching the filters, for the operator's command line (who runs it
    already reads the database); titles and states only, never evidence."""
    stmt = _filtered(
        select(Finding),
        submission_id=submission_id,
        check=check,
        rule=rule,
        severity=severity,
        states=states,
        limit=limit,
    )
    return list(uow.session.scalars(stmt))


# --- moving -----------------------------------------------------------------------------------


def _check_actor_may_move(uow: UnitOfWork, actor: Actor, finding: Finding, target: F) -> None:
    _check_may_see(uow, actor, finding)
    authorize(actor, rules.ACTION_FOR[target], org_id=finding.org_id)
    side = Side.FIRM if actor.org_kind == OrgKind.DEVELOPER else Side.AGENCY
    if rules.SIDE_FOR[target] != side:
        raise Forbidden(f"the {rules.SIDE_FOR[target]} makes this move ({target})")
    if (
        target in rules.NEEDS_ASSIGNMENT
        and actor.role == Role.REVIEWER
        and actor.user_id
        not in submissions.assigned_user_ids(uow, submission_id=finding.submission_id)
    ):
        raise Forbidden("only a reviewer assigned to the submission may do this")


def allowed_moves(uow: UnitOfWork, *, actor: Actor, finding: Finding) -> list[F]:
    """The moves the actor may make on the finding now (what a page offers)."""
    out = []
    for target in sorted(rules.ALLOWED[F(finding.state)]):
        try:
            _check_actor_may_move(uow, actor, finding, target)
        except (Forbidden, NotFound):
            continue
        out.append(target)
    return out


def _move(
    uow: UnitOfWork, *, actor: Actor | None, finding: Finding, target: F, reason: str
) -> Finding:
    current = F(finding.state)
    rules.check_transition(current, target)
    finding.state = target
    record_change(
        uow.session,
        actor,
        object_type=ObjectType.FINDING,
        object_id=finding.id,
        org_id=finding.org_id,
        from_state=current,
        to_state=target,
        reason=reason,
    )
    # Later stages (cases, deadlines, notifications) react to moves without being imported.
    events.publish(
        uow,
        FINDING_MOVED_EVENT,
        {"finding_id": finding.id, "from": current.value, "to": target.value},
    )
    return finding


def transition(
    uow: UnitOfWork, *, actor: Actor, finding_id: str, target: F, reason: str = ""
) -> Finding:
    """Move a finding through its lifecycle, if the actor's side and role make that move."""
    finding = _get(uow, finding_id)
    _check_actor_may_move(uow, actor, finding, target)
    rules.check_transition(F(finding.state), target)
    reason = rules.check_reason(target, reason)
    if target in (F.CONFIRMED, F.FALSE_POSITIVE, F.DUPLICATE):
        raise InvalidInput(f"target: use the triage action to move a finding to {target}")
    if target == F.FIX_SUBMITTED and not fixes.latest_fix(uow, submission_id=finding.submission_id):
        raise InvalidInput(
            "fix: submit the fixed version first (a new submission with fixes_submission_id "
            f"= {finding.submission_id})"
        )
    if target == F.FIX_VERIFIED:
        status = fixes.status_of(uow, finding=finding)
        if status != fixes.FixStatus.FIXED:
            raise Conflict(f"the fix cannot be verified: the latest scan says {status}")
    return _move(uow, actor=actor, finding=finding, target=target, reason=reason)


# --- triage -----------------------------------------------------------------------------------


def _decide(
    uow: UnitOfWork,
    *,
    actor: Actor,
    finding: Finding,
    kind: str,
    reason: str = "",
    classification: Classification | None = None,
    duplicate_of: str | None = None,
) -> FindingDecision:
    c = classification
    row = FindingDecision(
        id=new_id(),
        finding_id=finding.id,
        kind=kind,
        severity=c.severity if c else "",
        cvss_vector=c.cvss_vector if c else "",
        cvss_score=c.cvss_score if c else None,
        atlas=list(c.atlas) if c else [],
        owasp_llm=list(c.owasp_llm) if c else [],
        cwe=list(c.cwe) if c else [],
        reason=reason,
        duplicate_of=duplicate_of,
        check_name=finding.check_name,
        rule_id=finding.rule_id,
        actor_user_id=actor.user_id,
        at=utcnow(),
    )
    uow.session.add(row)
    return row


def confirm(
    uow: UnitOfWork,
    *,
    actor: Actor,
    finding_id: str,
    severity: str,
    cvss_vector: str = "",
    atlas: Iterable[str] = (),
    owasp_llm: Iterable[str] = (),
    cwe: Iterable[str] = (),
    note: str = "",
) -> Finding:
    """An assigned reviewer confirms a draft finding with its severity and taxonomy."""
    finding = _get(uow, finding_id)
    _check_actor_may_move(uow, actor, finding, F.CONFIRMED)
    rules.check_transition(F(finding.state), F.CONFIRMED)
    classification = classify(
        severity=severity, cvss_vector=cvss_vector, atlas=atlas, owasp_llm=owasp_llm, cwe=cwe
    )
    note = rules.check_reason(F.CONFIRMED, note)
    _decide(
        uow,
        actor=actor,
        finding=finding,
        kind=DecisionKind.CONFIRM,
        reason=note,
        classification=classification,
    )
    return _move(
        uow,
        actor=actor,
        finding=finding,
        target=F.CONFIRMED,
        reason=f"confirmed as {classification.severity}",
    )


def mark_false_positive(uow: UnitOfWork, *, actor: Actor, finding_id: str, reason: str) -> Finding:
    """An assigned reviewer marks a draft (or disputed) finding false positive, with a reason."""
    finding = _get(uow, finding_id)
    _check_actor_may_move(uow, actor, finding, F.FALSE_POSITIVE)
    rules.check_transition(F(finding.state), F.FALSE_POSITIVE)
    reason = rules.check_reason(F.FALSE_POSITIVE, reason)
    _decide(uow, actor=actor, finding=finding, kind=DecisionKind.FALSE_POSITIVE, reason=reason)
    return _move(uow, actor=actor, finding=finding, target=F.FALSE_POSITIVE, reason=reason)


def bulk_false_positive(
    uow: UnitOfWork, *, actor: Actor, finding_ids: Sequence[str], reason: str
) -> list[Finding]:
    """Mark many findings false positive with one reason; all or none."""
    ids = list(dict.fromkeys(finding_ids))
    if not ids:
        raise InvalidInput("finding_ids: name at least one finding")
    if len(ids) > MAX_BULK:
        raise InvalidInput(f"finding_ids: at most {MAX_BULK} at once (got {len(ids)})")
    out = []
    for i in ids:
        try:
            out.append(mark_false_positive(uow, actor=actor, finding_id=i, reason=reason))
        except AirlockError as exc:  # name the finding, keep the kind (and its status)
            raise type(exc)(f"finding {i}: {exc}") from None
    return out


def mark_duplicate(
    uow: UnitOfWork, *, actor: Actor, finding_id: str, duplicate_of: str, reason: str = ""
) -> Finding:
    """An assigned reviewer marks a draft finding a duplicate of another one it may see."""
    finding = _get(uow, finding_id)
    _check_actor_may_move(uow, actor, finding, F.DUPLICATE)
    rules.check_transition(F(finding.state), F.DUPLICATE)
    if duplicate_of == finding.id:
        raise InvalidInput("duplicate_of: a finding cannot duplicate itself")
    try:
        original = get_finding(uow, actor=actor, finding_id=duplicate_of)
    except (NotFound, Forbidden):
        raise InvalidInput(f"duplicate_of: no finding {duplicate_of!r} you may see") from None
    if F(original.state) in (F.DUPLICATE, F.FALSE_POSITIVE):
        raise InvalidInput(f"duplicate_of: that finding is itself {original.state}")
    reason = rules.check_reason(F.DUPLICATE, reason)
    _decide(
        uow,
        actor=actor,
        finding=finding,
        kind=DecisionKind.DUPLICATE,
        reason=reason,
        duplicate_of=original.id,
    )
    return _move(
        uow,
        actor=actor,
        finding=finding,
        target=F.DUPLICATE,
        reason=reason or f"duplicate of {original.id}",
    )


def create_manual(
    uow: UnitOfWork,
    *,
    actor: Actor,
    submission_id: str,
    title: str,
    description: str,
    severity: str,
    cvss_vector: str = "",
    atlas: Iterable[str] = (),
    owasp_llm: Iterable[str] = (),
    cwe: Iterable[str] = (),
) -> Finding:
    """An assigned reviewer records a finding no check raised; it starts confirmed."""
    sub = submissions.get_submission(uow, actor=actor, submission_id=submission_id)
    authorize(actor, "finding.triage")
    if actor.user_id not in submissions.assigned_user_ids(uow, submission_id=sub.id):
        raise Forbidden("only a reviewer assigned to the submission may add findings to it")
    title = title.strip()
    if not title or len(title) > MAX_TITLE:
        raise InvalidInput(f"title: required, at most {MAX_TITLE} characters")
    description = rules.check_reason(F.DRAFT, description)
    # Checked before anything is written, so a bad field leaves no half-made finding.
    classification = classify(
        severity=severity, cvss_vector=cvss_vector, atlas=atlas, owasp_llm=owasp_llm, cwe=cwe
    )
    finding = Finding(
        id=new_id(),
        submission_id=sub.id,
        org_id=sub.org_id,
        fingerprint=f"manual-{new_id()}",
        check_name=MANUAL_CHECK,
        rule_id=MANUAL_CHECK,
        title=title,
        reported_severity=classification.severity,
        reported_verdict="review",
        state=F.DRAFT,
        manual=True,
        created_by=actor.user_id,
        created_at=utcnow(),
    )
    uow.session.add(finding)
    uow.flush()
    record_change(
        uow.session,
        actor,
        object_type=ObjectType.FINDING,
        object_id=finding.id,
        org_id=finding.org_id,
        from_state=None,
        to_state=F.DRAFT,
        reason="added by a reviewer",
    )
    if description:
        uow.session.add(
            FindingEvidence(finding_id=finding.id, note=description, added_by=actor.user_id)
        )
    return confirm(
        uow,
        actor=actor,
        finding_id=finding.id,
        severity=classification.severity,
        cvss_vector=classification.cvss_vector,
        atlas=classification.atlas,
        owasp_llm=classification.owasp_llm,
        cwe=classification.cwe,
        note=description,
    )
