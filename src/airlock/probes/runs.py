"""Probe runs a reviewer starts on a submission's evaluation endpoint, as a registered check.

The reviewer chooses packs and a request budget on the submission's probe page; `start_run`
stores a `ProbeRun` and publishes `probe_run.requested` {"endpoint_id": run id}. The scanning
stage's jobs plan and run the `probe-runs` check on that subject: `prepare` reads the run's
request and the endpoint the dossier declares, `run` sends the packs through the engine (its
progress written to the run's row in short transactions of its own, so the page can follow
it, and its answers kept in the database response cache), and the outcome is recorded as scan
results whose prompts and answers are sealed under the firm's key. The check starts in
evaluation: its results are shown to the reviewers assigned to the submission, not the firm.
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from sqlalchemy import select

from airlock.core import audit, events
from airlock.core.access import Actor, authorize, may_read_confidential
from airlock.core.db import new_id, utcnow
from airlock.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from airlock.core.ports import Services
from airlock.core.uow import UnitOfWork
from airlock.probes import check as endpoint_check
from airlock.probes.cache import DatabaseResponseCache
from airlock.probes.engine import ENGINE_VERSION
from airlock.probes.engine import packs as probe_packs
from airlock.probes.engine import run as probe_run
from airlock.probes.engine.scoring import Outcome
from airlock.probes.engine.targets import Budget, OpenAIChatTarget
from airlock.probes.models import ProbeRun
from airlock.scanning import rules as scanning_rules
from airlock.scanning import service as scanning
from airlock.scanning.engine.model import Verdict
from airlock.scanning.models import ScanResult, ScanRun
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
from airlock.scanning.service import ResultView, opened_results
from airlock.submissions import service as submissions

CHECK_NAME: Final = "probe-runs"
PROBE_RUN_REQUESTED_EVENT: Final = "probe_run.requested"
# Packs a reviewer may choose: the engine's built-in packs (never a path on the server).
CHOOSABLE: Final = ("harmful", "jailbreak", "injection", "leakage", "capability", "over_refusal")
DEFAULT_PACKS: Final = ("harmful", "injection", "leakage")
MAX_BUDGET: Final = 20_000
DEFAULT_BUDGET: Final = 500
EXAMPLES_PER_RESULT: Final = 5
EXAMPLE_CHARS: Final = 2000


class RunState:
    """Where a probe run is (a plain namespace: the states are stored as text)."""

    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"


@dataclass(frozen=True)
class PreparedRun:
    """What the check's run needs: the request and where to send it (no secret)."""

    run_id: str
    org_id: str
    endpoint: endpoint_check.Endpoint
    packs: tuple[str, ...]
    budget_requests: int
    seed: str


# --- the reviewer's side -------------------------------------------------------------------


def _check_assigned(uow: UnitOfWork, *, actor: Actor, org_id: str, submission_id: str) -> None:
    authorize(actor, "submission.review", org_id=org_id)
    assigned = submissions.assigned_user_ids(uow, submission_id=submission_id)
    if not actor.is_agency or not may_read_confidential(
        actor, org_id=org_id, assigned_user_ids=assigned
    ):
        raise Forbidden("only reviewers assigned to this submission run and read probes")


def parse_request(packs: Sequence[str], budget: str | int) -> tuple[list[str], int]:
    """The chosen packs (known, in a stable order) and the request budget; InvalidInput names
    what is wrong."""
    unknown = sorted(set(packs) - set(CHOOSABLE))
    if unknown:
        raise InvalidInput(f"packs: unknown {', '.join(unknown)}; choose from {CHOOSABLE}")
    chosen: list[str] = [p for p in CHOOSABLE if p in set(packs)]
    if not chosen:
        raise InvalidInput("packs: choose at least one pack")
    try:
        n = int(str(budget).strip())
    except ValueError:
        raise InvalidInput(
            f"budget: a whole number of requests (got {str(budget)[:20]!r})"
        ) from None
    if not 1 <= n <= MAX_BUDGET:
        raise InvalidInput(f"budget: between 1 and {MAX_BUDGET} requests (got {n})")
    return chosen, n


def start_run(
    uow: UnitOfWork,
    *,
    actor: Actor,
    submission_id: str,
    packs: Sequence[str],
    budget_requests: str | int,
    reuse_answers: bool = False,
) -> ProbeRun:
    """An assigned reviewer starts a probe run on the endpoint the submission's dossier
    declares; it runs as a job (`probe_run.requested`)."""
    sub = submissions.get_submission(uow, actor=actor, submission_id=submission_id)
    _check_assigned(uow, actor=actor, org_id=sub.org_id, submission_id=sub.id)
    chosen, budget = parse_request(packs, budget_requests)
    if not scanning_rules.runs(scanning.state_of(uow, name=CHECK_NAME)):
        raise Conflict(f"the {CHECK_NAME} check is disabled; an agency admin can enable it")
    if endpoint_check.locate(uow, sub.id) is None:
        raise InvalidInput("the dossier declares no evaluation endpoint (section G) to probe")
    run = ProbeRun(
        id=new_id(),
        submission_id=sub.id,
        org_id=sub.org_id,
        requested_by=actor.user_id,
        packs=chosen,
        budget_requests=budget,
        reuse_answers=reuse_answers,
        state=RunState.QUEUED,
        created_at=utcnow(),
    )
    uow.session.add(run)
    uow.flush()
    audit.append(
        uow.session,
        action="probe_run.requested",
        actor=actor,
        object_type="probe_run",
        object_id=run.id,
        org_id=sub.org_id,
        detail={"submission_id": sub.id, "packs": chosen, "budget_requests": budget},
    )
    events.publish(uow, PROBE_RUN_REQUESTED_EVENT, {"endpoint_id": run.id})
    return run


def get_run(uow: UnitOfWork, *, actor: Actor, run_id: str) -> ProbeRun:
    """A probe run, for the reviewers assigned to its submission."""
    run = uow.session.get(ProbeRun, run_id) if len(run_id) <= 64 else None
    if run is None:
        raise NotFound("no such probe run")
    _check_assigned(uow, actor=actor, org_id=run.org_id, submission_id=run.submission_id)
    return run


def runs_of(uow: UnitOfWork, *, actor: Actor, submission_id: str) -> list[ProbeRun]:
    """The probe runs on a submission, newest first (assigned reviewers only)."""
    sub = submissions.get_submission(uow, actor=actor, submission_id=submission_id)
    _check_assigned(uow, actor=actor, org_id=sub.org_id, submission_id=sub.id)
    stmt = (
        select(ProbeRun)
        .where(ProbeRun.submission_id == sub.id)
        .order_by(ProbeRun.created_at.desc(), ProbeRun.id)
    )
    return list(uow.session.scalars(stmt))


@dataclass(frozen=True)
class RunView:
    """A run as its page shows it: state, progress and (once recorded) its scan results."""

    run: ProbeRun
    state: str
    percent: int
    scan_run: ScanRun | None
    results: list[ResultView]


def view_run(uow: UnitOfWork, *, actor: Actor, run_id: str) -> RunView:
    """A run with its progress and, once the check recorded it, its opened scan results."""
    run = get_run(uow, actor=actor, run_id=run_id)
    scan_run = uow.session.scalars(
        select(ScanRun)
        .where(ScanRun.subject_kind == SubjectKind.ENDPOINT, ScanRun.subject_id == run.id)
        .order_by(ScanRun.finished_at.desc())
    ).first()
    results: list[ResultView] = []
    state = run.state
    if scan_run is not None:
        rows = uow.session.scalars(
            select(ScanResult).where(ScanResult.run_id == scan_run.id).order_by(ScanResult.id)
        )
        results = opened_results(uow, rows)
        state = RunState.FAILED if scan_run.error else RunState.FINISHED
        audit.append(
            uow.session,
            action="scan.results_read",
            actor=actor,
            object_type="probe_run",
            object_id=run.id,
            org_id=run.org_id,
        )
    elif state == RunState.FINISHED:
        state = RunState.RUNNING  # scored; the results are being recorded
    percent = 100 if state in (RunState.FINISHED, RunState.FAILED) else 0
    if run.planned and percent < 100:
        percent = min(99, run.done * 100 // run.planned)
    return RunView(run=run, state=state, percent=percent, scan_run=scan_run, results=results)


# --- the check -----------------------------------------------------------------------------


def locate(uow: UnitOfWork, run_id: str) -> Subject | None:
    """The probe run as an endpoint subject; None when it is gone."""
    run = uow.session.get(ProbeRun, run_id) if len(run_id) <= 64 else None
    if run is None:
        return None
    return Subject(
        kind=SubjectKind.ENDPOINT,
        id=run.id,
        submission_id=run.submission_id,
        org_id=run.org_id,
        name="evaluation endpoint",
    )


def prepare(uow: UnitOfWork, subject: Subject) -> PreparedRun:
    """The run's request and the endpoint its submission declares."""
    run = uow.session.get(ProbeRun, subject.id)
    if run is None:
        raise CheckUnavailable("the probe run is gone")
    endpoint = endpoint_check.prepare(
        uow, Subject(SubjectKind.ENDPOINT, run.submission_id, run.submission_id, run.org_id)
    )
    return PreparedRun(
        run_id=run.id,
        org_id=run.org_id,
        endpoint=endpoint,
        packs=tuple(str(p) for p in run.packs),
        budget_requests=run.budget_requests,
        # The same seed plants the same secrets, so the same requests hit the cache.
        seed=f"{run.submission_id}:{','.join(run.packs)}" if run.reuse_answers else run.id,
    )


class _Progress:
    """Writes the run's counters in short transactions of their own (about 100 per run)."""

    def __init__(self, services: Services, run_id: str) -> None:
        self.services = services
        self.run_id = run_id
        self.succeeded = 0
        self.errors = 0

    def update(self, **values: Any) -> None:
        with self.services.uow() as uow:
            run = uow.session.get(ProbeRun, self.run_id)
            if run is not None:
                for name, value in values.items():
                    setattr(run, name, value)
                uow.commit()

    def on_attempt(self, done: int, total: int, attempt: probe_run.Attempt) -> None:
        self.succeeded += attempt.outcome == Outcome.SUCCEEDED
        self.errors += attempt.outcome == Outcome.ERROR
        if done == 1 or done == total or done % max(1, total // 100) == 0:
            self.update(planned=total, done=done, succeeded=self.succeeded, errors=self.errors)


def _example(record: Mapping[str, Any]) -> JSONObject:
    """One attempt as evidence: what was sent and answered, and the detector's figures."""
    messages: list[Any] = [
        {"role": m["role"], "content": str(m["content"])[:EXAMPLE_CHARS]}
        for m in record["messages"]
    ]
    return {
        "probe_id": record["probe_id"],
        "technique": record["technique"],
        "messages": messages,
        "response": str(record["response"] or "")[:EXAMPLE_CHARS],
        "detector": record["detector"],
    }


def outcome_of(result: probe_run.RunResult) -> CheckOutcome:
    """Scan results per failing category, each with up to five succeeded attempts (prompts,
    answers and the detector's precision and recall) as evidence."""
    summary = result.summary
    examples: dict[str, list[JSONObject]] = defaultdict(list)
    for a in result.attempts:
        category = str(a.probe.category)
        if a.outcome == Outcome.SUCCEEDED and len(examples[category]) < EXAMPLES_PER_RESULT:
            examples[category].append(_example(a.record()))
    raw: list[RawResult] = []
    for r in endpoint_check.results_of(summary):
        category = str(r.evidence["category"])
        evidence: JSONObject = {**r.evidence, "examples": list(examples.get(category, []))}
        raw.append(
            RawResult(
                rule_id=r.rule_id,
                severity=r.severity,
                verdict=r.verdict,
                message=r.message,
                fingerprint=r.fingerprint,
                evidence=evidence,
            )
        )
    if summary["verdict"] == "unscored":
        reasons = ", ".join(f"{k} ({n})" for k, n in summary["error_reasons"].items())
        return CheckOutcome(
            verdict=Verdict.REVIEW, format="probes", error=f"nothing scored: {reasons}"[:2000]
        )
    return CheckOutcome(verdict=Verdict(summary["verdict"]), results=tuple(raw), format="probes")


def _counts(summary: Mapping[str, Any]) -> dict[str, Any]:
    """The summary without prompts or answers: counts, rates and verdicts per category."""
    keep = ("succeeded", "resisted", "errors", "unscorable", "rate", "ci95", "verdict")
    return {
        "verdict": summary.get("verdict"),
        "errors": summary.get("errors"),
        "error_reasons": dict(summary.get("error_reasons", {})),
        "categories": {
            k: {f: v.get(f) for f in keep} for k, v in summary.get("categories", {}).items()
        },
    }


def run(prepared: PreparedRun, services: Services) -> CheckOutcome:
    """Send the chosen packs within the budget, reporting progress; score the answers."""
    progress = _Progress(services, prepared.run_id)
    progress.update(state=RunState.RUNNING, started_at=utcnow(), done=0)
    target = OpenAIChatTarget(
        base_url=prepared.endpoint.base_url,
        model=prepared.endpoint.model,
        api_key=prepared.endpoint.api_key,
        budget=Budget(max_requests=prepared.budget_requests),
    )
    packs = [probe_packs.load_pack(name) for name in prepared.packs]
    cache = DatabaseResponseCache(services.uow, org_id=prepared.org_id)
    scratch = services.settings.data_dir / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    config = probe_run.RunConfig(seed=prepared.seed)
    # The run folder (attempts with prompts and answers) lives only while the run does; what
    # is kept is sealed in the scan results.
    with tempfile.TemporaryDirectory(dir=scratch) as tmp:
        result = probe_run.run(
            target=target,
            packs=packs,
            out=Path(tmp) / "run",
            config=config,
            on_attempt=progress.on_attempt,
            cache=cache,
        )
    outcome = outcome_of(result)
    progress.update(
        state=RunState.FINISHED,
        finished_at=utcnow(),
        verdict=str(result.summary["verdict"]),
        summary=_counts(result.summary),
        cache_hits=cache.hits,
        error=outcome.error,
    )
    return outcome


def candidates(uow: UnitOfWork, since: datetime | None) -> Iterable[str]:
    """None: a probe run is started by a reviewer, never by a backfill."""
    return []


PROBE_RUNS: Final[Check[PreparedRun]] = Check(
    name=CHECK_NAME,
    version=ENGINE_VERSION,
    subject=SubjectKind.ENDPOINT,
    trigger=PROBE_RUN_REQUESTED_EVENT,
    locate=locate,
    prepare=prepare,
    run=run,
    candidates=candidates,
    # Shown to the assigned reviewers only: the prompts and answers are evidence for them.
    default_state=ScannerState.EVALUATION,
    description="Probe runs a reviewer starts on the evaluation endpoint, with the packs and "
    "request budget chosen on the submission's probe page.",
)
