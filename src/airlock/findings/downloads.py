"""Blocked artifacts have consequences: downloading one a check blocked is for assigned
reviewers only, needs an explicit confirmation naming the finding, and is audited as such."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from airlock.core.access import Actor
from airlock.core.errors import Conflict, Forbidden
from airlock.core.roles import Role
from airlock.core.uow import UnitOfWork
from airlock.findings.models import Finding, FindingEvidence
from airlock.scanning import service as scanning
from airlock.scanning.engine.model import Verdict
from airlock.scanning.models import ScanResult
from airlock.submissions import service as submissions
from airlock.vault import service as vault
from airlock.vault.models import Artifact

REVIEWERS = frozenset({Role.REVIEWER, Role.COORDINATOR})


def blocking_findings(uow: UnitOfWork, *, artifact_id: str) -> list[Finding]:
    """Findings with block evidence in this artifact, oldest first."""
    stmt = (
        select(Finding)
        .join(FindingEvidence, FindingEvidence.finding_id == Finding.id)
        .join(ScanResult, ScanResult.id == FindingEvidence.scan_result_id)
        .where(FindingEvidence.artifact_id == artifact_id, ScanResult.verdict == Verdict.BLOCK)
        .order_by(Finding.created_at, Finding.id)
        .distinct()
    )
    return list(uow.session.scalars(stmt))


def guard_blocked_download(
    uow: UnitOfWork, actor: Actor, art: Artifact, confirm_finding: str | None
) -> dict[str, Any] | None:
    """Refuse a blocked artifact to all but assigned reviewers confirming its finding."""
    if scanning.artifact_verdict(uow, artifact_id=art.id) != Verdict.BLOCK:
        return None
    assigned = submissions.assigned_user_ids(uow, submission_id=art.submission_id)
    if actor.role not in REVIEWERS or actor.user_id not in assigned:
        raise Forbidden(
            "a check blocked this artifact: only reviewers assigned to the submission may "
            "download it"
        )
    found = blocking_findings(uow, artifact_id=art.id)
    if not found:
        raise Conflict(
            "a check blocked this artifact and its finding is not recorded yet; try again "
            "once the scan results are in the triage queue"
        )
    names = "; ".join(f"{f.id} ({f.title[:80]})" for f in found)
    if confirm_finding not in {f.id for f in found}:
        raise Conflict(
            f"a check blocked this artifact: finding {names}. To download it anyway, repeat "
            f"the request with confirm_finding={found[0].id}"
        )
    return {"blocked": True, "confirmed_finding": confirm_finding}


vault.add_download_guard(guard_blocked_download)
