"""Fix verification: match a submission's findings against the latest scans of its fixed version.

Each finding is matched by fingerprint: `fixed` when the fixed version's latest runs no longer
report it, `still_present` when they do, `pending` while the fixed version has not been fully
scanned (or the finding was added by hand, so no check can match it). Results of the fixed
version that match no finding of the original are `new`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import select

from airlock.core.access import Actor, authorize
from airlock.core.uow import UnitOfWork
from airlock.findings.ingest import NEEDS_HUMAN
from airlock.findings.models import Finding
from airlock.findings.rules import FindingState as F
from airlock.scanning import service as scanning
from airlock.scanning.models import ScanResult, ScanRun
from airlock.submissions import service as submissions
from airlock.submissions.models import Submission
from airlock.vault.models import Artifact
from airlock.vault.rules import ArtifactState

# Findings that were judged not real take no part in the comparison.
_SET_ASIDE = frozenset({F.FALSE_POSITIVE, F.DUPLICATE})


class FixStatus(StrEnum):
    """How a finding stands in the fixed version."""

    FIXED = "fixed"
    STILL_PRESENT = "still_present"
    NEW = "new"
    PENDING = "pending"


@dataclass(frozen=True)
class FixRow:
    """One line of the diff: a finding of the original, or a new result of the fixed version."""

    status: FixStatus
    fingerprint: str
    rule_id: str
    title: str
    severity: str
    finding_id: str | None = None
    finding_state: str | None = None


@dataclass
class FixDiff:
    """The original submission, its latest fixed version (if any) and the matched rows."""

    submission_id: str
    fix_submission_id: str | None
    scanned: bool
    rows: list[FixRow] = field(default_factory=list)

    def count(self, status: FixStatus) -> int:
        """How many rows have this status."""
        return sum(1 for r in self.rows if r.status == status)


def latest_fix(uow: UnitOfWork, *, submission_id: str) -> Submission | None:
    """The newest fixed version submitted for a submission."""
    stmt = (
        select(Submission)
        .where(Submission.fixes_submission_id == submission_id)
        .order_by(Submission.created_at.desc(), Submission.id)
    )
    return uow.session.scalars(stmt).first()


def _latest_results(uow: UnitOfWork, *, submission_id: str) -> tuple[bool, dict[str, ScanResult]]:
    """Whether every stored artifact has a run, and the review/block results of latest runs."""
    runs = uow.session.scalars(
        select(ScanRun).where(ScanRun.submission_id == submission_id).order_by(ScanRun.finished_at)
    )
    latest: dict[tuple[str, str, str], ScanRun] = {}
    for run in runs:
        latest[(run.subject_kind, run.subject_id, run.scanner_name)] = run
    artifacts = set(
        uow.session.scalars(
            select(Artifact.id).where(
                Artifact.submission_id == submission_id, Artifact.state == ArtifactState.STORED
            )
        )
    )
    scanned_artifacts = {run.artifact_id for run in latest.values() if run.artifact_id}
    scanned = bool(artifacts) and artifacts <= scanned_artifacts
    found: dict[str, ScanResult] = {}
    run_ids = [run.id for run in latest.values()]
    if run_ids:
        for r in uow.session.scalars(
            select(ScanResult).where(
                ScanResult.run_id.in_(run_ids), ScanResult.verdict.in_(NEEDS_HUMAN)
            )
        ):
            found.setdefault(r.fingerprint, r)
    return scanned, found


def compute(uow: UnitOfWork, *, submission_id: str) -> FixDiff:
    """The diff between a submission's findings and its latest fixed version; no access check."""
    fix = latest_fix(uow, submission_id=submission_id)
    if fix is None:
        return FixDiff(submission_id=submission_id, fix_submission_id=None, scanned=False)
    scanned, found = _latest_results(uow, submission_id=fix.id)
    findings = [
        f
        for f in uow.session.scalars(
            select(Finding)
            .where(Finding.submission_id == submission_id)
            .order_by(Finding.created_at, Finding.id)
        )
        if F(f.state) not in _SET_ASIDE
    ]
    diff = FixDiff(submission_id=submission_id, fix_submission_id=fix.id, scanned=scanned)
    known = set()
    for f in findings:
        known.add(f.fingerprint)
        if not scanned or f.manual:
            status = FixStatus.PENDING
        elif f.fingerprint in found:
            status = FixStatus.STILL_PRESENT
        else:
            status = FixStatus.FIXED
        diff.rows.append(
            FixRow(status, f.fingerprint, f.rule_id, f.title, f.reported_severity, f.id, f.state)
        )
    for fp, r in sorted(found.items()):
        if fp not in known:
            diff.rows.append(
                FixRow(
                    FixStatus.NEW,
                    fp,
                    r.rule_id,
                    (
                        r.message
                        or scanning.result_title(rule_id=r.rule_id, check_name=r.scanner_name)
                    )[:300],
                    r.severity,
                )
            )
    return diff


def fix_diff(uow: UnitOfWork, *, actor: Actor, submission_id: str) -> FixDiff:
    """The fix diff of a submission, for the firm and for staff who may read its findings."""
    sub = submissions.get_submission(uow, actor=actor, submission_id=submission_id)
    authorize(actor, "finding.read", org_id=sub.org_id)
    diff = compute(uow, submission_id=sub.id)
    if not actor.is_agency:
        # The firm sees the fate of findings notified to it and what is new in its fix.
        from airlock.findings.rules import VISIBLE_TO_FIRM

        diff.rows = [
            r for r in diff.rows if r.finding_state is None or F(r.finding_state) in VISIBLE_TO_FIRM
        ]
    return diff


def status_of(uow: UnitOfWork, *, finding: Finding) -> FixStatus:
    """The fix status of one finding (pending when there is no scanned fixed version)."""
    for row in compute(uow, submission_id=finding.submission_id).rows:
        if row.finding_id == finding.id:
            return row.status
    return FixStatus.PENDING
