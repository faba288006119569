"""Findings as the API and the pages show them, built through the services."""

from __future__ import annotations

from airlock.core.access import Actor, authorize, may_read_confidential
from airlock.core.uow import UnitOfWork
from airlock.findings import fixes, metrics, review, rules, service
from airlock.findings.models import Finding
from airlock.findings.rules import FindingState as F
from airlock.findings.schemas import (
    CheckRateOut,
    DecisionOut,
    DurationsOut,
    EvidenceOut,
    FalsePositiveRateOut,
    FindingDetailOut,
    FindingOut,
    FixDiffOut,
    FixRowOut,
    MetricsOut,
    ReviewStatusOut,
    SignoffOut,
)
from airlock.submissions import service as submissions


def finding_out(uow: UnitOfWork, *, actor: Actor, finding: Finding) -> FindingOut:
    """One finding's summary with the moves this actor may make on it."""
    return FindingOut(
        id=finding.id,
        submission_id=finding.submission_id,
        org_id=finding.org_id,
        fingerprint=finding.fingerprint,
        check_name=finding.check_name,
        rule_id=finding.rule_id,
        title=finding.title,
        reported_severity=finding.reported_severity,
        reported_verdict=finding.reported_verdict,
        severity=service.severity_of(uow, finding=finding),
        state=finding.state,
        state_label=rules.LABELS[F(finding.state)],
        manual=finding.manual,
        created_at=finding.created_at,
        allowed_moves=[m.value for m in service.allowed_moves(uow, actor=actor, finding=finding)],
    )


def may_see_evidence(uow: UnitOfWork, *, actor: Actor, finding: Finding) -> bool:
    """Evidence is confidential: the firm, or staff assigned to the submission."""
    return may_read_confidential(
        actor,
        org_id=finding.org_id,
        assigned_user_ids=submissions.assigned_user_ids(uow, submission_id=finding.submission_id),
    )


def finding_detail(uow: UnitOfWork, *, actor: Actor, finding_id: str) -> FindingDetailOut:
    """A finding with its evidence (on need-to-know) and its triage decisions."""
    finding = service.get_finding(uow, actor=actor, finding_id=finding_id)
    summary = finding_out(uow, actor=actor, finding=finding)
    evidence = []
    if may_see_evidence(uow, actor=actor, finding=finding):
        for e, r in service.evidence(uow, finding_id=finding.id):
            location = str(r.evidence.get("location", "")) if r else None
            evidence.append(
                EvidenceOut(
                    id=e.id,
                    scan_result_id=e.scan_result_id,
                    artifact_id=e.artifact_id,
                    rule_id=r.rule_id if r else None,
                    severity=r.severity if r else None,
                    verdict=r.verdict if r else None,
                    message=r.message if r else None,
                    location=location,
                    attachment_name=e.attachment_name,
                    attachment_size=e.attachment_size,
                    note=e.note,
                    created_at=e.created_at,
                )
            )
    # The firm sees the confirmed classification, not the reviewers' internal triage trail.
    rows = service.decisions(uow, finding_id=finding.id)
    if not actor.is_agency:
        rows = [d for d in rows if d.kind == service.DecisionKind.CONFIRM]
    return FindingDetailOut(
        **summary.model_dump(),
        evidence=evidence,
        decisions=[DecisionOut.model_validate(d) for d in rows],
    )


def fix_diff_out(uow: UnitOfWork, *, actor: Actor, submission_id: str) -> FixDiffOut:
    """The fix diff of a submission as the API returns it."""
    diff = fixes.fix_diff(uow, actor=actor, submission_id=submission_id)
    return FixDiffOut(
        submission_id=diff.submission_id,
        fix_submission_id=diff.fix_submission_id,
        scanned=diff.scanned,
        fixed=diff.count(fixes.FixStatus.FIXED),
        still_present=diff.count(fixes.FixStatus.STILL_PRESENT),
        new=diff.count(fixes.FixStatus.NEW),
        pending=diff.count(fixes.FixStatus.PENDING),
        rows=[
            FixRowOut(
                status=r.status,
                fingerprint=r.fingerprint,
                rule_id=r.rule_id,
                title=r.title,
                severity=r.severity,
                finding_id=r.finding_id,
                finding_state=r.finding_state,
            )
            for r in diff.rows
        ],
    )


def review_status(uow: UnitOfWork, *, actor: Actor, submission_id: str) -> ReviewStatusOut:
    """What still keeps a submission's review from completing, and its sign-offs (staff)."""
    sub = submissions.get_submission(uow, actor=actor, submission_id=submission_id)

    authorize(actor, "queue.read")
    found = review.blockers(uow, submission_id=sub.id)
    return ReviewStatusOut(
        submission_id=sub.id,
        required_roles=review.required_roles(uow),
        missing_signoffs=found.missing_signoffs,
        untriaged_block=len(found.untriaged_block),
        open_serious=len(found.open_serious),
        may_complete=not found.messages(),
        reasons=found.messages(),
        signoffs=[SignoffOut.model_validate(s) for s in review.signoffs(uow, submission_id=sub.id)],
    )


def metrics_out(uow: UnitOfWork, *, actor: Actor) -> MetricsOut:
    """The dashboard metrics as the API returns them."""
    m = metrics.dashboard(uow, actor=actor)
    return MetricsOut(
        to_acknowledge=DurationsOut(**vars(m.to_acknowledge)),
        to_fix=DurationsOut(**vars(m.to_fix)),
        to_verify=DurationsOut(**vars(m.to_verify)),
        critical_confirmed_with_release_date=m.critical_confirmed_with_release_date,
        critical_fixed_before_release=m.critical_fixed_before_release,
        critical_fixed_before_release_share=m.critical_fixed_before_release_share,
        deadline_overruns=m.deadline_overruns,
        false_positive_rates=[
            FalsePositiveRateOut(
                check_name=r.check_name,
                rule_id=r.rule_id,
                triaged=r.triaged,
                false_positives=r.false_positives,
                rate=r.rate,
            )
            for r in m.false_positive_rates
        ],
        checks=[CheckRateOut(**vars(c)) for c in metrics.check_rates(uow, m)],
    )
