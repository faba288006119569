"""What the scanning stage does: keep check states, run checks, show scan results.

Services take a unit of work and never commit. A check run reads what it needs in a short
read transaction, runs with no transaction open (the artifact engine reads a temporary
plaintext file, never loads it), and is recorded in the job's transaction, which also marks
the job done and publishes `check.recorded`.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from sqlalchemy import func, select

from airlock.core import audit, events
from airlock.core.access import Actor, authorize, may_read_confidential
from airlock.core.db import new_id, utcnow
from airlock.core.errors import Conflict, Forbidden, NotFound
from airlock.core.uow import UnitOfWork
from airlock.scanning import registry, rules
from airlock.scanning.engine.model import Verdict
from airlock.scanning.models import AUTO_REQUEST, Scanner, ScanResult, ScanRun
from airlock.scanning.registry import (
    CHECK_RECORDED_EVENT,
    Check,
    CheckOutcome,
    CheckUnavailable,
    Subject,
    SubjectKind,
)
from airlock.scanning.rules import ScannerState
from airlock.submissions import service as submissions
from airlock.vault import sealing
from airlock.vault.keys import KeyDestroyed
from airlock.vault.models import Artifact

# --- scanners ---------------------------------------------------------------------------------


def _check(name: str) -> Check[Any]:
    check = registry.get(name)
    if check is None:
        raise NotFound(f"no check is called {name!r}")
    return check


def ensure_scanner(uow: UnitOfWork, *, name: str) -> Scanner:
    """A registered check's row (made on first use), with the version that runs now."""
    check = _check(name)
    version = check.version
    row = uow.session.get(Scanner, name)
    if row is None:
        now = utcnow()
        row = Scanner(
            name=name, version=version, state=check.default_state, created_at=now, updated_at=now
        )
        uow.session.add(row)
        uow.flush()
    elif row.version != version:
        row.version, row.updated_at = version, utcnow()
    return row


def _current(uow: UnitOfWork) -> list[Scanner]:
    """Every registered check; one never stored yet is shown in its default state, unsaved."""
    out = []
    for check in registry.all_checks():
        row = uow.session.get(Scanner, check.name)
        if row is None:
            row = Scanner(
                name=check.name, version=check.version, state=check.default_state, updated_by=""
            )
            row.created_at = row.updated_at = utcnow()
        out.append(row)
    return out


def state_of(uow: UnitOfWork, *, name: str) -> ScannerState:
    """A check's state, without writing anything (its default until an admin sets one)."""
    check = _check(name)
    row = uow.session.get(Scanner, name)
    return ScannerState(row.state) if row is not None else check.default_state


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


# --- running checks ---------------------------------------------------------------------------

RUN_CHECK: Final = "checks.run"


def _recorded(uow: UnitOfWork, *, check: Check[Any], subject_id: str, request_key: str) -> bool:
    """Whether this check version recorded a run on the subject for this request."""
    stmt = select(ScanRun.id).where(
        ScanRun.subject_kind == check.subject,
        ScanRun.subject_id == subject_id,
        ScanRun.scanner_name == check.name,
        ScanRun.scanner_version == check.version,
        ScanRun.request_key == request_key,
    )
    return uow.session.scalars(stmt).first() is not None


def queue_run(
    uow: UnitOfWork, *, name: str, subject_id: str, request_key: str = AUTO_REQUEST
) -> str | None:
    """Queue a run of the check on the subject, unless the check does not run or this version
    already ran on it for this request; return the job id."""
    check = _check(name)
    ensure_scanner(uow, name=name)
    if not rules.runs(state_of(uow, name=name)):
        return None
    if _recorded(uow, check=check, subject_id=subject_id, request_key=request_key):
        return None
    payload = {"check": name, "subject_id": subject_id, "request_key": request_key}
    return uow.enqueue(RUN_CHECK, payload)


def execute_check(
    uow: UnitOfWork, *, name: str, subject_id: str, request_key: str = AUTO_REQUEST
) -> ScanRun | None:
    """Run a check on a subject and record it in uow (what the `checks.run` job does).

    None when there is nothing to do: the check is disabled, the subject is gone, or this run
    was recorded already. What the run needs is read first; that read-only transaction is
    ended before the check runs, so no transaction (no SQLite write lock) is held meanwhile.
    """
    check = registry.get(name)
    if check is None:
        raise LookupError(f"no check is registered as {name!r}")
    if not rules.runs(state_of(uow, name=name)):
        return None
    subject = check.locate(uow, subject_id)
    if subject is None:
        return None
    if _recorded(uow, check=check, subject_id=subject.id, request_key=request_key):
        return None
    started = utcnow()
    try:
        material = check.prepare(uow, subject)
        failure = ""
    except CheckUnavailable as exc:
        material, failure = None, str(exc)
    uow.end_reads()
    if failure:
        outcome = CheckOutcome(verdict=Verdict.REVIEW, error=failure, started_at=started)
    else:
        outcome = check.run(material, uow.services)
    return record_run(uow, check=check, subject=subject, request_key=request_key, outcome=outcome)


def record_run(
    uow: UnitOfWork,
    *,
    check: Check[Any],
    subject: Subject,
    outcome: CheckOutcome,
    request_key: str = AUTO_REQUEST,
) -> ScanRun | None:
    """Store a run and its scan results once, and publish `check.recorded` {"run_id"}; a
    second recording of the same run stores nothing."""
    if _recorded(uow, check=check, subject_id=subject.id, request_key=request_key):
        return None
    now = utcnow()
    run = ScanRun(
        id=new_id(),
        subject_kind=str(subject.kind),
        subject_id=subject.id,
        request_key=request_key,
        artifact_id=subject.artifact_id,
        submission_id=subject.submission_id,
        org_id=subject.org_id,
        scanner_name=check.name,
        scanner_version=check.version,
        verdict=str(outcome.verdict),
        format=outcome.format[:40],
        seconds=outcome.seconds,
        started_at=outcome.started_at,
        finished_at=now,
        error=outcome.error[:2000],
    )
    uow.session.add(run)
    uow.flush()  # the unique (subject, check, version, request) constraint settles a race here
    for result in outcome.results:
        result_id = new_id()
        message, evidence = _sealed_content(
            uow,
            org_id=subject.org_id,
            result_id=result_id,
            message=result.message[:4000],
            evidence=dict(result.evidence),
        )
        uow.session.add(
            ScanResult(
                id=result_id,
                run_id=run.id,
                subject_kind=str(subject.kind),
                subject_id=subject.id,
                artifact_id=subject.artifact_id,
                submission_id=subject.submission_id,
                org_id=subject.org_id,
                rule_id=result.rule_id[:40],
                severity=str(result.severity),
                verdict=str(result.verdict),
                message=message,
                evidence=evidence,
                atlas=list(result.atlas),
                fingerprint=result.fingerprint[:64],
                scanner_name=check.name,
                scanner_version=check.version,
                created_at=now,
            )
        )
    audit.append(
        uow.session,
        action="artifact.scanned" if subject.kind == SubjectKind.ARTIFACT else "check.recorded",
        actor_label=f"system ({check.name})",
        object_type=str(subject.kind),
        object_id=subject.id,
        org_id=subject.org_id,
        detail={
            "submission_id": subject.submission_id,
            "scanner": check.name,
            "version": check.version,
            "run_id": run.id,
            "request": request_key,
            "verdict": str(outcome.verdict),
            "results": len(outcome.results),
            "error": outcome.error[:200],
        },
    )
    events.publish(uow, CHECK_RECORDED_EVENT, {"run_id": run.id})
    uow.flush()
    return run


def _content_binding(result_id: str) -> str:
    return f"scan_result:{result_id}:content"


def _sealed_content(
    uow: UnitOfWork, *, org_id: str, result_id: str, message: str, evidence: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    """A result's message and evidence, derived from the firm's content, sealed under its key:
    the row keeps an empty message and {"sealed": token}."""
    plain = json.dumps({"message": message, "evidence": evidence}, separators=(",", ":"))
    try:
        token = sealing.seal(
            uow, org_id=org_id, bound_to=_content_binding(result_id), plaintext=plain.encode()
        )
    except KeyDestroyed:  # the firm withdrew meanwhile: keep nothing of the content
        return "", {"destroyed": True}
    return "", {"sealed": token}


@dataclass(frozen=True)
class ResultView:
    """A scan result as a viewer reads it, its sealed content opened (never written back)."""

    id: str
    subject_kind: str
    subject_id: str
    artifact_id: str | None
    rule_id: str
    severity: str
    verdict: str
    message: str
    evidence: dict[str, Any]
    atlas: list[Any]
    fingerprint: str
    scanner_name: str
    scanner_version: str
    created_at: datetime


def result_title(*, rule_id: str, check_name: str) -> str:
    """A title for a scan result that reveals nothing of the artifact: the rule's own title
    (the message, which may quote content, is sealed)."""
    from airlock.scanning.engine.rules import RULES

    rule = RULES.get(rule_id)
    return rule.title if rule is not None else f"{check_name}: {rule_id}"


def opened_results(uow: UnitOfWork, rows: Iterable[ScanResult]) -> list[ResultView]:
    """Scan results with their sealed content opened; for callers that checked access."""
    out = []
    for r in rows:
        message, evidence = r.message, dict(r.evidence or {})
        token = evidence.get("sealed")
        if isinstance(token, str):
            plain = sealing.open_sealed(
                uow, org_id=r.org_id, bound_to=_content_binding(r.id), token=token
            )
            if plain is None:
                message, evidence = WITHDRAWN_CONTENT, {}
            else:
                content = json.loads(plain)
                message, evidence = str(content["message"]), dict(content["evidence"])
        elif evidence.get("destroyed"):
            message, evidence = WITHDRAWN_CONTENT, {}
        out.append(
            ResultView(
                id=r.id,
                subject_kind=r.subject_kind,
                subject_id=r.subject_id,
                artifact_id=r.artifact_id,
                rule_id=r.rule_id,
                severity=r.severity,
                verdict=r.verdict,
                message=message,
                evidence=evidence,
                atlas=list(r.atlas or []),
                fingerprint=r.fingerprint,
                scanner_name=r.scanner_name,
                scanner_version=r.scanner_version,
                created_at=r.created_at,
            )
        )
    return out


WITHDRAWN_CONTENT = "(content destroyed: the firm withdrew from the program)"


def request_rescan(uow: UnitOfWork, *, actor: Actor, name: str, subject_id: str) -> str:
    """Run the check again on the subject, same version or not (a reviewer verifying a fix, a
    scanner upgraded); assigned reviewers and coordinators only. Returns the job id."""
    check = _check(name)
    subject = check.locate(uow, subject_id)
    if subject is None:
        raise NotFound(f"no {check.subject} {subject_id!r} for check {name!r}")
    authorize(actor, "submission.review", org_id=subject.org_id)
    assigned = submissions.assigned_user_ids(uow, submission_id=subject.submission_id)
    if not may_read_confidential(actor, org_id=subject.org_id, assigned_user_ids=assigned):
        raise Forbidden("only reviewers assigned to this submission may ask for a rescan")
    request_key = new_id()
    job_id = queue_run(uow, name=name, subject_id=subject.id, request_key=request_key)
    if job_id is None:
        raise Conflict(f"check {name!r} is disabled; enable it before asking for a rescan")
    audit.append(
        uow.session,
        action="check.rescan_requested",
        actor_user_id=actor.user_id,
        actor_label=actor.label,
        object_type=str(subject.kind),
        object_id=subject.id,
        org_id=subject.org_id,
        detail={"check": name, "version": check.version, "request": request_key},
    )
    return job_id


def unseen_subjects(uow: UnitOfWork, *, name: str, since: datetime | None = None) -> list[str]:
    """Subjects of the check's kind (created since the given time) its current version has
    never run on."""
    check = _check(name)
    seen = set(
        uow.session.scalars(
            select(ScanRun.subject_id).where(
                ScanRun.subject_kind == check.subject,
                ScanRun.scanner_name == check.name,
                ScanRun.scanner_version == check.version,
            )
        )
    )
    return [sid for sid in check.candidates(uow, since) if sid not in seen]


# --- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArtifactScan:
    """One artifact as a viewer sees its checks: its verdict and the results they may see."""

    artifact_id: str
    name: str
    verdict: str | None
    scanned_at: datetime | None
    error: str
    runs: list[ScanRun]
    results: list[ResultView]
    # fingerprint -> how many other submissions of the firm had the same result
    recurring: dict[str, int] = field(default_factory=dict)


def _viewer_states(uow: UnitOfWork, *, actor: Actor, org_id: str, submission_id: str) -> bool:
    """Whether the viewer is the firm (True) or assigned staff (False); Forbidden otherwise."""
    authorize(actor, "artifact.read", org_id=org_id)
    assigned = submissions.assigned_user_ids(uow, submission_id=submission_id)
    if not may_read_confidential(actor, org_id=org_id, assigned_user_ids=assigned):
        raise Forbidden(
            "only the owning firm and the reviewers assigned to this submission see scan results"
        )
    return not actor.is_agency


def visible_scanners(uow: UnitOfWork, *, firm: bool) -> set[str]:
    """Names of the scanners whose results this kind of viewer sees."""
    states = {s.value for s in rules.visible_states(firm=firm)}
    return {row.name for row in _current(uow) if row.state in states}


def results_for_submission(
    uow: UnitOfWork, *, actor: Actor, submission_id: str
) -> list[ArtifactScan]:
    """Every artifact of a submission with its verdict and scan results, as this viewer may
    see them.

    The firm sees enabled scanners only; assigned reviewers and coordinators also see scanners
    in evaluation. An artifact's verdict is its latest visible run's (the worst over scanners).
    """
    sub = submissions.get_submission(uow, actor=actor, submission_id=submission_id)
    firm = _viewer_states(uow, actor=actor, org_id=sub.org_id, submission_id=sub.id)
    audit.append(
        uow.session,
        action="scan.results_read",
        actor=actor,
        object_type="submission",
        object_id=sub.id,
        org_id=sub.org_id,
    )
    names = visible_scanners(uow, firm=firm)
    arts = list(
        uow.session.scalars(
            select(Artifact).where(Artifact.submission_id == sub.id).order_by(Artifact.name)
        )
    )
    runs = _latest_runs(
        uow.session.scalars(
            select(ScanRun)
            .where(
                ScanRun.submission_id == sub.id,
                ScanRun.subject_kind == SubjectKind.ARTIFACT,
                ScanRun.scanner_name.in_(names),
            )
            .order_by(ScanRun.finished_at)
        ),
    )
    run_ids = [r.id for rs in runs.values() for r in rs]
    found: dict[str, list[ScanResult]] = {}
    if run_ids:
        stmt = (
            select(ScanResult)
            .where(ScanResult.run_id.in_(run_ids))
            .order_by(ScanResult.created_at, ScanResult.id)
        )
        for f in uow.session.scalars(stmt):
            found.setdefault(f.artifact_id or "", []).append(f)
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
                results=opened_results(uow, _ordered(found.get(art.id, []))),
                recurring=recurring,
            )
        )
    return out


@dataclass(frozen=True)
class SubjectCheck:
    """The latest run of one check on a subject other than an artifact, with its results."""

    subject_kind: str
    subject_id: str
    run: ScanRun
    results: list[ResultView]


def subject_checks_for_submission(
    uow: UnitOfWork, *, actor: Actor, submission_id: str
) -> list[SubjectCheck]:
    """The latest visible run of each check on the submission's other subjects (the dossier,
    the endpoint), with its results, as this viewer may see them."""
    sub = submissions.get_submission(uow, actor=actor, submission_id=submission_id)
    firm = _viewer_states(uow, actor=actor, org_id=sub.org_id, submission_id=sub.id)
    names = visible_scanners(uow, firm=firm)
    stmt = (
        select(ScanRun)
        .where(
            ScanRun.submission_id == sub.id,
            ScanRun.subject_kind != SubjectKind.ARTIFACT,
            ScanRun.scanner_name.in_(names),
        )
        .order_by(ScanRun.finished_at)
    )
    latest: dict[tuple[str, str, str], ScanRun] = {}
    for run in uow.session.scalars(stmt):
        latest[(run.subject_kind, run.subject_id, run.scanner_name)] = run
    out = []
    for (kind, subject_id, _), run in sorted(latest.items()):
        rows = uow.session.scalars(
            select(ScanResult).where(ScanResult.run_id == run.id).order_by(ScanResult.id)
        )
        out.append(SubjectCheck(kind, subject_id, run, opened_results(uow, _ordered(list(rows)))))
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
        select(ScanResult.fingerprint, func.count(func.distinct(ScanResult.submission_id)))
        .where(
            ScanResult.org_id == org_id,
            ScanResult.submission_id != submission_id,
            ScanResult.fingerprint.in_(list(fingerprints)),
            ScanResult.scanner_name.in_(list(scanners)),
        )
        .group_by(ScanResult.fingerprint)
    )
    return {fp: int(n) for fp, n in uow.session.execute(stmt)}


def artifact_verdict(
    uow: UnitOfWork, *, artifact_id: str, scanners: Collection[str] | None = None
) -> str | None:
    """The artifact's verdict: the worst of the latest run of each scanner (None: not scanned)."""
    stmt = (
        select(ScanRun)
        .where(ScanRun.subject_kind == SubjectKind.ARTIFACT, ScanRun.subject_id == artifact_id)
        .order_by(ScanRun.finished_at)
    )
    if scanners is not None:
        stmt = stmt.where(ScanRun.scanner_name.in_(list(scanners)))
    latest = _latest_runs(uow.session.scalars(stmt)).get(artifact_id, [])
    return _worst([r.verdict for r in latest]) if latest else None


def verdict_counts(uow: UnitOfWork, *, actor: Actor, submission_id: str) -> dict[str, int]:
    """How many of a submission's artifacts have each verdict (non-confidential: no names);
    the caller has checked that the viewer may see the submission."""
    names = visible_scanners(uow, firm=not actor.is_agency)
    ids = list(
        uow.session.scalars(select(Artifact.id).where(Artifact.submission_id == submission_id))
    )
    stmt = (
        select(ScanRun)
        .where(
            ScanRun.submission_id == submission_id,
            ScanRun.subject_kind == SubjectKind.ARTIFACT,
            ScanRun.scanner_name.in_(names),
        )
        .order_by(ScanRun.finished_at)
    )
    latest = _latest_runs(uow.session.scalars(stmt))
    counts: dict[str, int] = {}
    for art_id in ids:
        runs = latest.get(art_id, [])
        verdict = _worst([r.verdict for r in runs]) if runs else "unscanned"
        counts[verdict] = counts.get(verdict, 0) + 1
    return counts


def artifact_verdicts(uow: UnitOfWork, *, actor: Actor, submission_id: str) -> dict[str, str]:
    """Each stored artifact's verdict over the checks this viewer sees ("" while not scanned);
    the caller has checked that the viewer may see the submission's file names."""
    names = visible_scanners(uow, firm=not actor.is_agency)
    stmt = (
        select(ScanRun)
        .where(
            ScanRun.submission_id == submission_id,
            ScanRun.subject_kind == SubjectKind.ARTIFACT,
            ScanRun.scanner_name.in_(names),
        )
        .order_by(ScanRun.finished_at)
    )
    latest = _latest_runs(uow.session.scalars(stmt))
    return {art_id: _worst([r.verdict for r in runs]) for art_id, runs in latest.items() if runs}


def _latest_runs(rows: Iterable[ScanRun]) -> dict[str, list[ScanRun]]:
    """Per artifact, the last run of each check (rows ordered by finish time): a rescan's run
    replaces the earlier one in what viewers see, which stays recorded."""
    last: dict[tuple[str, str], ScanRun] = {}
    for run in rows:
        last[(run.subject_id, run.scanner_name)] = run
    out: dict[str, list[ScanRun]] = {}
    for (artifact_id, _), run in sorted(last.items()):
        out.setdefault(artifact_id, []).append(run)
    return out


def _worst(verdicts: list[str]) -> str:
    order = {Verdict.PASS.value: 0, Verdict.REVIEW.value: 1, Verdict.BLOCK.value: 2}
    return max(verdicts, key=lambda v: order.get(v, 1))


_SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}


def _ordered(results: list[ScanResult]) -> list[ScanResult]:
    return sorted(results, key=lambda f: (_SEVERITY_ORDER.get(f.severity, 5), f.rule_id))
