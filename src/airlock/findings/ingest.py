"""Turn scan results that need a human (verdict review or block) into draft findings."""

from __future__ import annotations

from collections import defaultdict
from typing import Final

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from airlock.core.transitions import ObjectType, record_change
from airlock.core.uow import UnitOfWork
from airlock.findings.models import Finding, FindingEvidence
from airlock.findings.rules import FindingState
from airlock.scanning import service as scanning
from airlock.scanning.engine.model import Severity, Verdict
from airlock.scanning.models import ScanResult

NEEDS_HUMAN: Final = frozenset({Verdict.REVIEW.value, Verdict.BLOCK.value})
_SEVERITY_RANK: Final = {s.value: i for i, s in enumerate(reversed(list(Severity)))}
_VERDICT_RANK: Final = {Verdict.REVIEW.value: 0, Verdict.BLOCK.value: 1}


def worst_severity(severities: list[str]) -> str:
    """The most severe of the given severities (unknown words count as info)."""
    return max(severities, key=lambda s: _SEVERITY_RANK.get(s, 0))


def _create(
    session: Session, submission_id: str, fingerprint: str, rows: list[ScanResult]
) -> Finding:
    """A draft finding for the fingerprint; if a concurrent run made it first, that one."""
    first = rows[0]
    finding = Finding(
        submission_id=submission_id,
        org_id=first.org_id,
        fingerprint=fingerprint,
        check_name=first.scanner_name,
        rule_id=first.rule_id,
        title=(
            first.message
            or scanning.result_title(rule_id=first.rule_id, check_name=first.scanner_name)
        )[:300],
        reported_severity=worst_severity([r.severity for r in rows]),
        reported_verdict=max((r.verdict for r in rows), key=_VERDICT_RANK.__getitem__),
        state=FindingState.DRAFT,
    )
    try:
        with session.begin_nested():
            session.add(finding)
            session.flush()
    except IntegrityError:
        # Two artifacts of one submission scanned at once raised the same problem.
        existing = session.scalars(
            select(Finding).where(
                Finding.submission_id == submission_id, Finding.fingerprint == fingerprint
            )
        ).one()
        return existing
    record_change(
        session,
        None,
        object_type=ObjectType.FINDING,
        object_id=finding.id,
        org_id=finding.org_id,
        from_state=None,
        to_state=FindingState.DRAFT,
        reason=f"raised by {first.scanner_name} {first.scanner_version} ({first.rule_id})",
    )
    return finding


def ingest_run(uow: UnitOfWork, *, run_id: str) -> list[Finding]:
    """Group the run's review/block results by fingerprint into draft findings; idempotent.

    A result already attached as evidence is skipped, so a redelivered job or a second call
    adds nothing. Returns the findings that gained evidence.
    """
    session = uow.session
    results = list(
        session.scalars(
            select(ScanResult)
            .where(ScanResult.run_id == run_id, ScanResult.verdict.in_(NEEDS_HUMAN))
            .order_by(ScanResult.created_at, ScanResult.id)
        )
    )
    groups: dict[tuple[str, str], list[ScanResult]] = defaultdict(list)
    for r in results:
        groups[(r.submission_id, r.fingerprint)].append(r)
    touched: list[Finding] = []
    for (submission_id, fingerprint), rows in groups.items():
        finding = session.scalars(
            select(Finding).where(
                Finding.submission_id == submission_id, Finding.fingerprint == fingerprint
            )
        ).first()
        if finding is None:
            finding = _create(session, submission_id, fingerprint, rows)
        have = set(
            session.scalars(
                select(FindingEvidence.scan_result_id).where(
                    FindingEvidence.finding_id == finding.id
                )
            )
        )
        added = False
        for r in rows:
            if r.id in have:
                continue
            session.add(
                FindingEvidence(
                    finding_id=finding.id, scan_result_id=r.id, artifact_id=r.artifact_id
                )
            )
            added = True
        if added:
            touched.append(finding)
    session.flush()
    return touched
