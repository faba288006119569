"""What the scanning stage does: keep scanner states, scan artifacts, show findings.

Services take a unit of work and never commit. A scan is planned in one transaction, run with
no transaction open (the engine reads a temporary plaintext file, never loads it), and
recorded in the job's transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select

from airlock.core import audit
from airlock.core.access import Actor, authorize, may_read_confidential
from airlock.core.db import new_id, utcnow
from airlock.core.errors import Forbidden, NotFound, PayloadTooLarge
from airlock.core.ports import BlobStore
from airlock.core.uow import UnitOfWork
from airlock.scanning import rules
from airlock.scanning.engine import ENGINE_NAME, Limits, Verdict, scan_path
from airlock.scanning.models import ScanFinding, Scanner, ScanRun
from airlock.scanning.rules import ScannerState
from airlock.submissions import service as submissions
from airlock.vault import reading
from airlock.vault.crypto import VaultIntegrityError
from airlock.vault.keys import KeyDestroyed, MasterKey
from airlock.vault.models import Artifact

SYSTEM_LABEL = f"system ({ENGINE_NAME})"

# --- scanners ---------------------------------------------------------------------------------


def ensure_scanner(uow: UnitOfWork, *, name: str) -> Scanner:
    """A known scanner's row (made on first use), with the version that runs now."""
    version = rules.KNOWN_SCANNERS.get(name)
    if version is None:
        raise NotFound(f"no scanner is called {name!r}")
    row = uow.session.get(Scanner, name)
    if row is None:
        now = utcnow()
        row = Scanner(
            name=name, version=version, state=rules.DEFAULT_STATE, created_at=now, updated_at=now
        )
        uow.session.add(row)
        uow.flush()
    elif row.version != version:
        row.version, row.updated_at = version, utcnow()
    return row


def _current(uow: UnitOfWork) -> list[Scanner]:
    """Every known scanner; one never stored yet is shown in its default state, unsaved."""
    out = []
    for name, version in sorted(rules.KNOWN_SCANNERS.items()):
        row = uow.session.get(Scanner, name)
        if row is None:
            row = Scanner(name=name, version=version, state=rules.DEFAULT_STATE, updated_by="")
            row.created_at = row.updated_at = utcnow()
        out.append(row)
    return out


def list_scanners(uow: UnitOfWork, *, actor: Actor) -> list[Scanner]:
    """Every known scanner with its state (agency admins)."""
    authorize(actor, "scanner.manage")
    return _current(uow)


def set_scanner_state(uow: UnitOfWork, *, actor: Actor, name: str, state: str) -> Scanner:
    """Enable a scanner, put it in evaluation (the firm sees nothing), or disable it."""
    authorize(actor, "scanner.manage")
    target = rules.parse_state(state)
    row = ensure_scanner(uow, name=name)
    before = row.state
    if before != target:
        row.state, row.updated_at, row.updated_by = target, utcnow(), actor.label
        audit.append(
            uow.session,
            action="scanner.state_changed",
            actor=actor,
            object_type="scanner",
            object_id=name,
            detail={"from": before, "to": str(target), "version": row.version},
        )
    return row


# --- scanning ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanPlan:
    """What one scan needs, read in a unit of work that is closed before the scan runs."""

    read: reading.SystemRead
    scanner_name: str
    scanner_version: str


@dataclass(frozen=True)
class ScanOutcome:
    """What the engine said about one artifact, with evidence located in the artifact."""

    verdict: str
    format: str
    seconds: float
    findings: list[dict[str, object]] = field(default_factory=list)
    error: str = ""
    started_at: datetime = field(default_factory=utcnow)


def _run_of(uow: UnitOfWork, *, artifact_id: str, name: str, version: str) -> ScanRun | None:
    stmt = select(ScanRun).where(
        ScanRun.artifact_id == artifact_id,
        ScanRun.scanner_name == name,
        ScanRun.scanner_version == version,
    )
    return uow.session.scalars(stmt).first()


def plan_scan(
    uow: UnitOfWork, *, artifact_id: str, master: MasterKey, name: str = ENGINE_NAME
) -> ScanPlan | ScanOutcome | None:
    """Plan a scan of an artifact by the scanner called name.

    None when there is nothing to do: the scanner is disabled, the artifact is gone, or this
    scanner version already ran on it. A ScanOutcome (review, with the error) when the artifact
    can no longer be decrypted, to be recorded as is.
    """
    scanner = ensure_scanner(uow, name=name)
    if not rules.runs(ScannerState(scanner.state)):
        return None
    if _run_of(uow, artifact_id=artifact_id, name=name, version=scanner.version) is not None:
        return None
    try:
        read = reading.open_for_system(uow, artifact_id=artifact_id, master=master)
    except NotFound:
        return None
    except KeyDestroyed as exc:
        return ScanOutcome(verdict=Verdict.REVIEW, format="", seconds=0.0, error=str(exc))
    return ScanPlan(read=read, scanner_name=name, scanner_version=scanner.version)


def run_scan(store: BlobStore, plan: ScanPlan, *, scratch: Path, limits: Limits) -> ScanOutcome:
    """Decrypt the artifact to a temporary file, scan it without loading it, delete the file."""
    started = utcnow()
    try:
        with reading.plaintext_file(
            store, plan.read, scratch=scratch, max_bytes=limits.max_file_bytes
        ) as path:
            report = scan_path(path, limits=limits)
    except (VaultIntegrityError, PayloadTooLarge) as exc:
        # Permanent: a stored object that fails authentication, or a file over the limit.
        return ScanOutcome(
            verdict=Verdict.REVIEW, format="", seconds=0.0, error=str(exc), started_at=started
        )
    found: list[dict[str, object]] = []
    for finding in report.findings:
        item = finding.to_dict()  # the fingerprint leaves out the outer (temporary) file name
        evidence = dict(item["evidence"])
        evidence["location"] = rules.relocate(
            str(evidence["location"]), scanned_path=str(path), artifact_name=plan.read.name
        )
        item["evidence"] = evidence
        found.append(item)
    return ScanOutcome(
        verdict=report.verdict.value,
        format=report.format,
        seconds=report.seconds,
        findings=found,
        started_at=started,
    )


def record_scan(
    uow: UnitOfWork, *, artifact_id: str, name: str, version: str, outcome: ScanOutcome
) -> ScanRun | None:
    """Store a run and its findings once; a second recording of the same run stores nothing."""
    if _run_of(uow, artifact_id=artifact_id, name=name, version=version) is not None:
        return None
    art = uow.session.get(Artifact, artifact_id)
    if art is None:
        return None
    now = utcnow()
    run = ScanRun(
        id=new_id(),
        artifact_id=art.id,
        submission_id=art.submission_id,
        org_id=art.org_id,
        scanner_name=name,
        scanner_version=version,
        verdict=outcome.verdict,
        format=outcome.format[:40],
        seconds=outcome.seconds,
        started_at=outcome.started_at,
        finished_at=now,
        error=outcome.error[:2000],
    )
    uow.session.add(run)
    uow.flush()  # the unique (artifact, scanner, version) constraint settles a race here
    for item in outcome.findings:
        uow.session.add(
            ScanFinding(
                id=new_id(),
                run_id=run.id,
                artifact_id=art.id,
                submission_id=art.submission_id,
                org_id=art.org_id,
                rule_id=str(item["rule_id"]),
                severity=str(item["severity"]),
                verdict=str(item["verdict"]),
                message=str(item["message"])[:4000],
                evidence=dict(item["evidence"]),  # type: ignore[call-overload]
                atlas=list(item["atlas"]),  # type: ignore[call-overload]
                fingerprint=str(item["fingerprint"]),
                scanner_name=name,
                scanner_version=version,
                created_at=now,
            )
        )
    audit.append(
        uow.session,
        action="artifact.scanned",
        actor_label=SYSTEM_LABEL,
        object_type="artifact",
        object_id=art.id,
        org_id=art.org_id,
        detail={
            "submission_id": art.submission_id,
            "scanner": name,
            "version": version,
            "verdict": outcome.verdict,
            "findings": len(outcome.findings),
            "error": outcome.error[:200],
        },
    )
    uow.flush()
    return run


# --- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArtifactScan:
    """One artifact as a viewer sees its scans: its verdict and the findings they may see."""

    artifact_id: str
    name: str
    verdict: str | None
    scanned_at: datetime | None
    error: str
    runs: list[ScanRun]
    findings: list[ScanFinding]
    # fingerprint -> how many other submissions of the firm had the same finding
    recurring: dict[str, int] = field(default_factory=dict)


def _viewer_states(uow: UnitOfWork, *, actor: Actor, org_id: str, submission_id: str) -> bool:
    """Whether the viewer is the firm (True) or assigned staff (False); Forbidden otherwise."""
    authorize(actor, "artifact.read", org_id=org_id)
    assigned = submissions.assigned_user_ids(uow, submission_id=submission_id)
    if not may_read_confidential(actor, org_id=org_id, assigned_user_ids=assigned):
        raise Forbidden(
            "only the owning firm and the reviewers assigned to this submission see scan findings"
        )
    return not actor.is_agency


def visible_scanners(uow: UnitOfWork, *, firm: bool) -> set[str]:
    """Names of the scanners whose results this kind of viewer sees."""
    states = {s.value for s in rules.visible_states(firm=firm)}
    return {row.name for row in _current(uow) if row.state in states}


def findings_for_submission(
    uow: UnitOfWork, *, actor: Actor, submission_id: str
) -> list[ArtifactScan]:
    """Every artifact of a submission with its verdict and findings, as this viewer may see them.

    The firm sees enabled scanners only; assigned reviewers and coordinators also see scanners
    in evaluation. An artifact's verdict is its latest visible run's (the worst over scanners).
    """
    sub = submissions.get_submission(uow, actor=actor, submission_id=submission_id)
    firm = _viewer_states(uow, actor=actor, org_id=sub.org_id, submission_id=sub.id)
    names = visible_scanners(uow, firm=firm)
    arts = list(
        uow.session.scalars(
            select(Artifact).where(Artifact.submission_id == sub.id).order_by(Artifact.name)
        )
    )
    runs = _latest_runs(
        uow.session.scalars(
            select(ScanRun)
            .where(ScanRun.submission_id == sub.id, ScanRun.scanner_name.in_(names))
            .order_by(ScanRun.finished_at)
        ),
    )
    run_ids = [r.id for rs in runs.values() for r in rs]
    found: dict[str, list[ScanFinding]] = {}
    if run_ids:
        stmt = (
            select(ScanFinding)
            .where(ScanFinding.run_id.in_(run_ids))
            .order_by(ScanFinding.created_at, ScanFinding.id)
        )
        for f in uow.session.scalars(stmt):
            found.setdefault(f.artifact_id, []).append(f)
    recurring = _recurring(
        uow,
        org_id=sub.org_id,
        submission_id=sub.id,
        fingerprints={f.fingerprint for fs in found.values() for f in fs},
        scanners=names,
    )
    out = []
    for art in arts:
        art_runs = runs.get(art.id, [])
        out.append(
            ArtifactScan(
                artifact_id=art.id,
                name=art.name,
                verdict=_worst([r.verdict for r in art_runs]) if art_runs else None,
                scanned_at=max((r.finished_at for r in art_runs), default=None),
                error="; ".join(r.error for r in art_runs if r.error),
                runs=art_runs,
                findings=_ordered(found.get(art.id, [])),
                recurring=recurring,
            )
        )
    return out


def _recurring(
    uow: UnitOfWork,
    *,
    org_id: str,
    submission_id: str,
    fingerprints: Collection[str],
    scanners: Collection[str],
) -> dict[str, int]:
    """How many other submissions of the same firm carried each fingerprint."""
    if not fingerprints:
        return {}
    stmt = (
        select(ScanFinding.fingerprint, func.count(func.distinct(ScanFinding.submission_id)))
        .where(
            ScanFinding.org_id == org_id,
            ScanFinding.submission_id != submission_id,
            ScanFinding.fingerprint.in_(list(fingerprints)),
            ScanFinding.scanner_name.in_(list(scanners)),
        )
        .group_by(ScanFinding.fingerprint)
    )
    return {fp: int(n) for fp, n in uow.session.execute(stmt)}


def artifact_verdict(
    uow: UnitOfWork, *, artifact_id: str, scanners: Collection[str] | None = None
) -> str | None:
    """The artifact's verdict: the worst of the latest run of each scanner (None: not scanned)."""
    stmt = select(ScanRun).where(ScanRun.artifact_id == artifact_id).order_by(ScanRun.finished_at)
    if scanners is not None:
        stmt = stmt.where(ScanRun.scanner_name.in_(list(scanners)))
    latest = _latest_runs(uow.session.scalars(stmt)).get(artifact_id, [])
    return _worst([r.verdict for r in latest]) if latest else None


def _latest_runs(rows: Iterable[ScanRun]) -> dict[str, list[ScanRun]]:
    """Per artifact, the last run of each scanner (rows ordered by finish time)."""
    last: dict[tuple[str, str], ScanRun] = {}
    for run in rows:
        last[(run.artifact_id, run.scanner_name)] = run
    out: dict[str, list[ScanRun]] = {}
    for (artifact_id, _), run in sorted(last.items()):
        out.setdefault(artifact_id, []).append(run)
    return out


def _worst(verdicts: list[str]) -> str:
    order = {Verdict.PASS.value: 0, Verdict.REVIEW.value: 1, Verdict.BLOCK.value: 2}
    return max(verdicts, key=lambda v: order.get(v, 1))


_SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}


def _ordered(findings: list[ScanFinding]) -> list[ScanFinding]:
    return sorted(findings, key=lambda f: (_SEVERITY_ORDER.get(f.severity, 5), f.rule_id))
