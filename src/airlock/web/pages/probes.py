"""Probe run pages: an assigned reviewer starts a run on a submission's evaluation endpoint
(packs and request budget), then follows its progress (htmx polls a fragment) and reads its
results, whose prompts and answers only the assigned reviewers see."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from airlock.core.access import Actor
from airlock.core.errors import Conflict, Forbidden, InvalidInput
from airlock.core.uow import UnitOfWork
from airlock.probes import check as endpoint_check
from airlock.probes import runs
from airlock.submissions import service as submissions
from airlock.web.deps import ActorDep, UoWDep
from airlock.web.pages.render import form_lists, page, redirect

router = APIRouter(include_in_schema=False)

PACK_LABELS = {
    "harmful": "Clearly harmful requests",
    "jailbreak": "Jailbreak wrappers and multi-turn escalation",
    "injection": "Direct and indirect prompt injection",
    "leakage": "System prompt, canary and personal-data leakage",
    "capability": "Dangerous-capability proxies (decoding, de-obfuscation)",
    "over_refusal": "Over-refusal of benign requests (a control)",
}
STATE_LABELS = {
    runs.RunState.QUEUED: "Queued",
    runs.RunState.RUNNING: "Running",
    runs.RunState.FINISHED: "Finished",
    runs.RunState.FAILED: "Failed",
}


def _staff(actor: Actor) -> Actor:
    if not actor.is_agency:
        raise Forbidden("the review workspace is for agency staff")
    return actor


def _form_page(
    request: Request,
    uow: UnitOfWork,
    actor: Actor,
    submission_id: str,
    *,
    error: str = "",
    chosen: list[str] | None = None,
    budget: str = "",
    status_code: int = 200,
) -> Response:
    sub = submissions.get_submission(uow, actor=actor, submission_id=submission_id)
    history = runs.runs_of(uow, actor=actor, submission_id=sub.id)
    declared = endpoint_check.locate(uow, sub.id) is not None
    return page(
        request,
        "review/probes.html",
        status_code=status_code,
        sub=sub,
        runs=history,
        declared=declared,
        packs=[(p, PACK_LABELS[p]) for p in runs.CHOOSABLE],
        chosen=set(chosen if chosen is not None else runs.DEFAULT_PACKS),
        budget=budget or str(runs.DEFAULT_BUDGET),
        max_budget=runs.MAX_BUDGET,
        state_labels=STATE_LABELS,
        error=error,
    )


@router.get("/review/submissions/{submission_id}/probes")
def probe_runs(submission_id: str, request: Request, actor: ActorDep, uow: UoWDep) -> Response:
    """The submission's probe runs and the form that starts one."""
    with uow:
        return _form_page(request, uow, _staff(actor), submission_id)


@router.post("/review/submissions/{submission_id}/probes")
async def start_probe_run(
    submission_id: str, request: Request, actor: ActorDep, uow: UoWDep
) -> Response:
    """Start a probe run with the chosen packs and budget; a refused one says why."""
    form = await form_lists(request)
    packs = form.get("pack", [])
    budget = (form.get("budget") or [""])[0]
    reuse = (form.get("reuse") or [""])[0] == "yes"
    actor = _staff(actor)
    with uow:
        try:
            run = runs.start_run(
                uow,
                actor=actor,
                submission_id=submission_id,
                packs=packs,
                budget_requests=budget,
                reuse_answers=reuse,
            )
        except (InvalidInput, Conflict) as exc:
            uow.session.rollback()
            status = 409 if isinstance(exc, Conflict) else 422
            return _form_page(
                request,
                uow,
                actor,
                submission_id,
                error=str(exc),
                chosen=packs,
                budget=budget,
                status_code=status,
            )
        uow.commit()
        return redirect(f"/review/probe-runs/{run.id}", done="probe_started")


def _run_context(uow: UnitOfWork, actor: Actor, run_id: str) -> dict[str, Any]:
    view = runs.view_run(uow, actor=actor, run_id=run_id)
    sub = submissions.get_submission(uow, actor=actor, submission_id=view.run.submission_id)
    return {
        "sub": sub,
        "view": view,
        "run": view.run,
        "pack_labels": PACK_LABELS,
        "state_labels": STATE_LABELS,
        "polling": view.state in (runs.RunState.QUEUED, runs.RunState.RUNNING),
    }


@router.get("/review/probe-runs/{run_id}")
def probe_run(run_id: str, request: Request, actor: ActorDep, uow: UoWDep) -> Response:
    """One probe run: its request, live progress and, once recorded, its results."""
    with uow:
        context = _run_context(uow, _staff(actor), run_id)
        uow.commit()  # the audit row of reading sealed results
        return page(request, "review/probe_run.html", **context)


@router.get("/review/probe-runs/{run_id}/progress")
def probe_run_progress(run_id: str, request: Request, actor: ActorDep, uow: UoWDep) -> Response:
    """The progress panel alone, which the run page polls (htmx) while the run is going."""
    with uow:
        context = _run_context(uow, _staff(actor), run_id)
        uow.commit()
        return page(request, "review/probe_progress.html", **context)
