"""The artifact safety scanner as a registered check: every artifact stored in the vault is
decrypted to a bounded temporary file and scanned without being loaded."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Final

from sqlalchemy import select

from airlock.core.errors import NotFound, PayloadTooLarge
from airlock.core.ports import Services
from airlock.core.uow import UnitOfWork
from airlock.scanning import rules
from airlock.scanning.engine import ENGINE_NAME, ENGINE_VERSION, Finding, Limits, scan_path
from airlock.scanning.engine.model import Verdict
from airlock.scanning.registry import (
    Check,
    CheckOutcome,
    CheckUnavailable,
    JSONObject,
    RawResult,
    Subject,
    SubjectKind,
)
from airlock.settings import Settings
from airlock.vault import reading
from airlock.vault.crypto import VaultIntegrityError
from airlock.vault.keys import KeyDestroyed
from airlock.vault.models import Artifact
from airlock.vault.rules import ArtifactState
from airlock.vault.service import ARTIFACT_STORED_EVENT


def limits_from(settings: Settings) -> Limits:
    """The engine's bounds for this deployment (AIRLOCK_SCAN_*)."""
    return Limits(
        time_seconds=settings.scan_time_seconds,
        max_file_bytes=settings.max_artifact_bytes,
        max_depth=settings.scan_max_depth,
        max_members=settings.scan_max_members,
        max_expanded_bytes=settings.scan_max_expanded_bytes,
        max_member_bytes=settings.scan_max_member_bytes,
        max_ratio=settings.scan_max_ratio,
        max_findings=settings.scan_max_results,
    )


def locate(uow: UnitOfWork, artifact_id: str) -> Subject | None:
    """The artifact as a subject; None when it does not exist."""
    art = uow.session.get(Artifact, artifact_id) if len(artifact_id) <= 64 else None
    if art is None:
        return None
    return Subject(
        kind=SubjectKind.ARTIFACT,
        id=art.id,
        submission_id=art.submission_id,
        org_id=art.org_id,
        name=art.name,
    )


def prepare(uow: UnitOfWork, subject: Subject) -> reading.SystemRead:
    """The artifact's data key and storage key; CheckUnavailable once it was destroyed."""
    vault = reading.system_vault(uow)
    try:
        return reading.open_for_system(uow, artifact_id=subject.id, master=vault.master)
    except (KeyDestroyed, NotFound) as exc:
        raise CheckUnavailable(str(exc)) from None


def _result(finding: Finding, *, scanned_path: Path, artifact_name: str) -> RawResult:
    """A scan result whose location names the artifact, not the temporary file."""
    ev = finding.evidence
    evidence: JSONObject = {
        "location": rules.relocate(
            ev.location, scanned_path=str(scanned_path), artifact_name=artifact_name
        ),
        "offset": ev.offset,
        "trace": [step for step in ev.trace],
        "global": ev.global_name,
        "detail": ev.detail,
    }
    return RawResult(
        rule_id=finding.rule_id,
        severity=finding.severity,
        verdict=finding.verdict,
        message=finding.message,
        # Computed on the engine's location: it leaves out the outer (temporary) file name.
        fingerprint=finding.fingerprint(),
        evidence=evidence,
        atlas=tuple(finding.atlas),
    )


def run(read: reading.SystemRead, services: Services) -> CheckOutcome:
    """Decrypt the artifact to a temporary file, scan it without loading it, delete the file."""
    settings = services.settings
    limits = limits_from(settings)
    scratch = settings.data_dir / "tmp"
    try:
        with reading.plaintext_file(
            services.blob_store, read, scratch=scratch, max_bytes=limits.max_file_bytes
        ) as path:
            report = scan_path(path, limits=limits)
            results = tuple(
                _result(f, scanned_path=path, artifact_name=read.name) for f in report.findings
            )
    except (VaultIntegrityError, PayloadTooLarge) as exc:
        # Permanent: a stored object that fails authentication, or a file over the limit.
        return CheckOutcome(verdict=Verdict.REVIEW, error=str(exc))
    return CheckOutcome(
        verdict=report.verdict, results=results, format=report.format, seconds=report.seconds
    )


def candidates(uow: UnitOfWork, since: datetime | None) -> Iterable[str]:
    """Every stored artifact (created since the given time)."""
    stmt = select(Artifact.id).where(Artifact.state == ArtifactState.STORED)
    if since is not None:
        stmt = stmt.where(Artifact.created_at >= since)
    return list(uow.session.scalars(stmt.order_by(Artifact.created_at, Artifact.id)))


ARTIFACT_SAFETY: Final[Check[reading.SystemRead]] = Check(
    name=ENGINE_NAME,
    version=ENGINE_VERSION,
    subject=SubjectKind.ARTIFACT,
    trigger=ARTIFACT_STORED_EVENT,
    locate=locate,
    prepare=prepare,
    run=run,
    candidates=candidates,
    description="Code that runs when a model file is loaded (pickle, Keras, ONNX, archives).",
)
