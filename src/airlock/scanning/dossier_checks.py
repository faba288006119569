"""The dossier check engines as registered checks on submissions, run when one is submitted.

`prepare` copies the stored dossier (and, for declared-versus-actual, the keys of the
submission's weights and config files) in a short read; `run` calls the pure engine in
`scanning/dossier/` and turns its report into scan results, with no database access.
"""

from __future__ import annotations

import contextlib
import copy
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePath
from typing import Any, Final

from sqlalchemy import select

from airlock.core.errors import NotFound, PayloadTooLarge
from airlock.core.ports import Services
from airlock.core.uow import UnitOfWork
from airlock.scanning.dossier import compute, coverage, declared
from airlock.scanning.dossier.results import CheckReport, CheckResult, jsonable
from airlock.scanning.engine.model import Severity, Verdict
from airlock.scanning.registry import (
    Check,
    CheckOutcome,
    CheckUnavailable,
    JSONObject,
    RawResult,
    Subject,
    SubjectKind,
)
from airlock.scanning.rules import ScannerState
from airlock.submissions.models import Submission
from airlock.submissions.service import SUBMISSION_SUBMITTED_EVENT, stored_dossier
from airlock.vault import reading
from airlock.vault.crypto import VaultIntegrityError
from airlock.vault.keys import KeyDestroyed
from airlock.vault.models import Artifact
from airlock.vault.rules import ArtifactKind, ArtifactState

FORMAT: Final = "dossier"
# The kinds of file declared-versus-actual reads (headers of weights, the model's config).
_DECLARED_KINDS: Final = (ArtifactKind.WEIGHTS, ArtifactKind.CONFIG)


def _verdict(severity: Severity) -> Verdict:
    """Dossier results are discrepancies for a reviewer, never a reason to block a file."""
    return Verdict.PASS if severity == Severity.INFO else Verdict.REVIEW


def _raw(result: CheckResult) -> RawResult:
    evidence: JSONObject = {
        "check": result.check,
        "title": result.title,
        "location": result.location,
        "details": jsonable(result.details),
    }
    return RawResult(
        rule_id=result.rule_id,
        severity=result.severity,
        verdict=_verdict(result.severity),
        message=result.message,
        fingerprint=result.fingerprint(),
        evidence=evidence,
        atlas=tuple(result.atlas),
    )


def outcome_of(report: CheckReport, *, seconds: float = 0.0) -> CheckOutcome:
    """A dossier engine's report as a check outcome: review when anything above info."""
    results = tuple(_raw(r) for r in report.results)
    worst = max((r.verdict for r in results), key=lambda v: v.rank, default=Verdict.PASS)
    return CheckOutcome(verdict=worst, results=results, format=FORMAT, seconds=seconds)


def locate(uow: UnitOfWork, submission_id: str) -> Subject | None:
    """The submission as a subject; None when it does not exist."""
    sub = uow.session.get(Submission, submission_id) if len(submission_id) <= 64 else None
    if sub is None:
        return None
    return Subject(
        kind=SubjectKind.SUBMISSION,
        id=sub.id,
        submission_id=sub.id,
        org_id=sub.org_id,
        name=sub.title,
    )


def read_dossier(uow: UnitOfWork, subject: Subject) -> dict[str, Any]:
    """A copy of the stored dossier with its sealed confidential fields opened (the run must
    not touch the ORM object; the results that quote values are sealed again when recorded)."""
    sub = uow.session.get(Submission, subject.id)
    if sub is None or sub.redacted:
        raise CheckUnavailable(f"submission {subject.id}: no dossier to check")
    return copy.deepcopy(stored_dossier(uow, sub=sub))


def candidates(uow: UnitOfWork, since: datetime | None) -> Iterable[str]:
    """Every submission that was submitted (since the given time)."""
    stmt = select(Submission.id).where(Submission.submitted_at.is_not(None))
    if since is not None:
        stmt = stmt.where(Submission.submitted_at >= since)
    return list(uow.session.scalars(stmt.order_by(Submission.submitted_at, Submission.id)))


ESTIMATE_RULE: Final = "DOS-CMP-000"


def estimate_result(report: CheckReport) -> CheckResult:
    """The estimate itself as an info result, so the stored run keeps its range, methods and
    inputs for the submission's pages (info: a pass, never a finding)."""
    summary = report.summary
    span = summary.get("range")
    if span:
        methods = ", ".join(e["method"] for e in summary.get("estimates", []))
        message = (
            f"estimated {span['low']:.3g}-{span['high']:.3g} FLOP (central "
            f"{span['central']:.3g}) by {methods}"
        )
    else:
        message = "no estimate: the dossier gives neither parameters and tokens nor hardware"
    details = {
        k: summary.get(k)
        for k in ("range", "declared", "estimates", "stages", "thresholds", "policy")
    }
    return CheckResult(
        ESTIMATE_RULE,
        compute.CHECK,
        Severity.INFO,
        "Training compute estimate",
        message,
        "sections.D",
        "estimate",
        details,
    )


def run_compute(doc: dict[str, Any], services: Services) -> CheckOutcome:
    """Training compute estimated from the dossier against its declared figure and thresholds;
    the estimate (method and inputs) is kept as an info result."""
    report = compute.check_compute(doc)
    return outcome_of(
        CheckReport(
            report.check, report.version, report.summary, (estimate_result(report), *report.results)
        )
    )


def run_coverage(doc: dict[str, Any], services: Services) -> CheckOutcome:
    """ATLAS techniques the declared safeguards leave uncovered for the deployment."""
    return outcome_of(coverage.check_coverage(doc))


@dataclass(frozen=True)
class DeclaredInput:
    """The dossier and the vault reads of the submission's weights and config files."""

    dossier: dict[str, Any]
    files: tuple[reading.SystemRead, ...]


def prepare_declared(uow: UnitOfWork, subject: Subject) -> DeclaredInput:
    """The dossier and data keys of the stored weights/config; unavailable without weights."""
    doc = read_dossier(uow, subject)
    ids = list(
        uow.session.scalars(
            select(Artifact.id).where(
                Artifact.submission_id == subject.id,
                Artifact.state == ArtifactState.STORED,
                Artifact.kind.in_([k.value for k in _DECLARED_KINDS]),
            )
        )
    )
    if not ids:
        raise CheckUnavailable("no weights were shared with this submission: nothing to compare")
    vault = reading.system_vault(uow)
    try:
        files = tuple(reading.open_for_system(uow, artifact_id=i, master=vault.master) for i in ids)
    except (KeyDestroyed, NotFound) as exc:
        raise CheckUnavailable(str(exc)) from None
    return DeclaredInput(dossier=doc, files=files)


def run_declared(prepared: DeclaredInput, services: Services) -> CheckOutcome:
    """Decrypt the files into a private folder under their names, count from headers only."""
    settings = services.settings
    scratch = settings.data_dir / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    try:
        with contextlib.ExitStack() as stack, tempfile.TemporaryDirectory(dir=scratch) as tmp:
            folder = Path(tmp)
            for read in prepared.files:
                plain = stack.enter_context(
                    reading.plaintext_file(
                        services.blob_store,
                        read,
                        scratch=scratch,
                        max_bytes=settings.max_artifact_bytes,
                    )
                )
                # Only the base name: a stored name never chooses where the link goes.
                name = PurePath(read.name.replace("\\", "/")).name or read.artifact_id
                target = folder / name
                if not target.exists():
                    os.link(plain, target)
            report = declared.check_declared(folder, prepared.dossier)
    except (VaultIntegrityError, PayloadTooLarge) as exc:
        return CheckOutcome(verdict=Verdict.REVIEW, format=FORMAT, error=str(exc))
    return outcome_of(report)


DOSSIER_COMPUTE: Final[Check[dict[str, Any]]] = Check(
    name="dossier-compute",
    version=compute.VERSION,
    subject=SubjectKind.SUBMISSION,
    trigger=SUBMISSION_SUBMITTED_EVENT,
    locate=locate,
    prepare=read_dossier,
    run=run_compute,
    candidates=candidates,
    description="Training compute estimated from the dossier against the declared figure and "
    "the 10^23/10^25/10^26 thresholds.",
)

DOSSIER_COVERAGE: Final[Check[dict[str, Any]]] = Check(
    name="dossier-coverage",
    version=coverage.VERSION,
    subject=SubjectKind.SUBMISSION,
    trigger=SUBMISSION_SUBMITTED_EVENT,
    locate=locate,
    prepare=read_dossier,
    run=run_coverage,
    candidates=candidates,
    description="MITRE ATLAS techniques the declared safeguards leave uncovered.",
)

DOSSIER_DECLARED: Final[Check[DeclaredInput]] = Check(
    name="dossier-declared",
    version=declared.VERSION,
    subject=SubjectKind.SUBMISSION,
    trigger=SUBMISSION_SUBMITTED_EVENT,
    locate=locate,
    prepare=prepare_declared,
    run=run_declared,
    candidates=candidates,
    # Decrypts every shared weight file to disk: an admin turns it on where that is wanted.
    default_state=ScannerState.EVALUATION,
    description="Parameter counts and architecture in the shared weight headers against the "
    "dossier's section C.",
)

CHECKS: Final[tuple[Check[Any], ...]] = (DOSSIER_COMPUTE, DOSSIER_COVERAGE, DOSSIER_DECLARED)
"""Checks this module declares, for the catalogue."""
