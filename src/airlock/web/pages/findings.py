"""Findings pages: the reviewers' triage queue and finding page, the firm's findings inbox,
and the agency's metrics dashboard. Forms post, redirect and say what was done."""

from __future__ import annotations

from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import Response

from airlock.core.access import Actor
from airlock.core.errors import AirlockError, Forbidden, InvalidInput
from airlock.core.roles import Role
from airlock.core.transitions import ObjectType, history
from airlock.core.uow import UnitOfWork
from airlock.findings import metrics, rules, service, views
from airlock.findings.rules import FindingState
from airlock.findings.taxonomy import OWASP_LLM_2025
from airlock.scanning.engine.model import Severity
from airlock.web.deps import ActorDep, UoWDep
from airlock.web.pages.render import form_data, page, redirect

router = APIRouter(include_in_schema=False)

DONE: Final = {
    "confirmed": "The finding was confirmed.",
    "false_positive": "Marked as false positive.",
    "duplicate": "Marked as duplicate.",
    "moved": "Done: the finding's state changed.",
    "bulk": "The selected findings were marked as false positives.",
}


def _staff(actor: Actor) -> Actor:
    if not actor.is_agency or actor.role == Role.AUDITOR:
        raise Forbidden("the triage queue is for agency reviewers, coordinators and admins")
    return actor


def _firm(actor: Actor) -> Actor:
    if actor.is_agency:
        raise Forbidden("the findings inbox is for participating firms")
    return actor


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.replace(",", " ").split() if v.strip()]


# --- agency: triage queue and finding page ----------------------------------------------------


@router.get("/review/findings")
def triage_queue(
    request: Request,
    actor: ActorDep,
    uow: UoWDep,
    check: str = "",
    rule: str = "",
    severity: str = "",
    state: str = "draft",
    submission_id: str = "",
    done: str = "",
) -> Response:
    """Findings to triage, filtered by check, rule, severity and state; bulk false positive."""
    actor = _staff(actor)
    states = [state] if state in {s.value for s in FindingState} else None
    sev = severity if severity in {s.value for s in Severity} else ""
    with uow:
        rows = service.list_findings(
            uow,
            actor=actor,
            submission_id=submission_id[:64] or None,
            check=check[:80] or None,
            rule=rule[:40] or None,
            severity=sev or None,
            states=states,
        )
        return page(
            request,
            "findings/queue.html",
            findings=[views.finding_out(uow, actor=actor, finding=f) for f in rows],
            check=check[:80],
            rule=rule[:40],
            severity=sev,
            state=state if states else "",
            submission_id=submission_id[:64],
            states=[(s.value, rules.LABELS[s]) for s in FindingState],
            severities=[s.value for s in Severity],
            done=DONE.get(done, ""),
        )


@router.post("/review/findings/false-positive")
async def triage_bulk_false_positive(request: Request, actor: ActorDep, uow: UoWDep) -> Response:
    """Mark the ticked findings false positive with one reason."""
    form = await request.form(max_fields=600, max_files=0)
    ids = [str(v) for k, v in form.multi_items() if k == "finding_id"]
    reason = str(form.get("reason", ""))
    with uow:
        try:
            service.bulk_false_positive(uow, actor=_staff(actor), finding_ids=ids, reason=reason)
        except AirlockError as exc:
            uow.session.rollback()
            return page(
                request,
                "error.html",
                status_code=exc.status_code,
                status=exc.status_code,
                message=str(exc),
            )
        uow.commit()
    return redirect("/review/findings?done=bulk")


def _finding_page(
    request: Request,
    uow: UnitOfWork,
    actor: Actor,
    finding_id: str,
    *,
    template: str,
    error: str = "",
    done: str = "",
    status_code: int = 200,
) -> Response:
    detail = views.finding_detail(uow, actor=actor, finding_id=finding_id)
    return page(
        request,
        template,
        status_code=status_code,
        f=detail,
        history=history(uow.session, object_type=ObjectType.FINDING, object_id=detail.id),
        labels={s.value: rules.LABELS[s] for s in FindingState},
        action_labels={s.value: rules.ACTION_LABELS[s] for s in rules.ACTION_LABELS},
        reason_required={s.value for s in rules.REASON_REQUIRED},
        severities=[s.value for s in Severity],
        owasp=OWASP_LLM_2025,
        error=error,
        done=DONE.get(done, ""),
    )


@router.get("/review/findings/{finding_id}")
def review_finding(
    finding_id: str, request: Request, actor: ActorDep, uow: UoWDep, done: str = ""
) -> Response:
    """A finding with its evidence (need-to-know), decisions, history and the moves offered."""
    with uow:
        return _finding_page(
            request, uow, _staff(actor), finding_id, template="findings/finding.html", done=done
        )


@router.post("/review/findings/{finding_id}/triage")
async def review_triage(
    finding_id: str, request: Request, actor: ActorDep, uow: UoWDep
) -> Response:
    """Confirm (with severity, CVSS and taxonomy), mark false positive, or mark duplicate."""
    data = await form_data(request)
    action = data.get("action", "")
    with uow:
        try:
            actor = _staff(actor)
            if action == "confirm":
                service.confirm(
                    uow,
                    actor=actor,
                    finding_id=finding_id,
                    severity=data.get("severity", ""),
                    cvss_vector=data.get("cvss_vector", ""),
                    atlas=_split(data.get("atlas", "")),
                    owasp_llm=_split(data.get("owasp_llm", "")),
                    cwe=_split(data.get("cwe", "")),
                    note=data.get("note", ""),
                )
                done = "confirmed"
            elif action == "false_positive":
                service.mark_false_positive(
                    uow, actor=actor, finding_id=finding_id, reason=data.get("reason", "")
                )
                done = "false_positive"
            elif action == "duplicate":
                service.mark_duplicate(
                    uow,
                    actor=actor,
                    finding_id=finding_id,
                    duplicate_of=data.get("duplicate_of", "").strip(),
                    reason=data.get("reason", ""),
                )
                done = "duplicate"
            else:
                raise InvalidInput(
                    f"action: must be confirm, false_positive or duplicate (got {action!r})"
                )
        except AirlockError as exc:
            uow.session.rollback()
            return _finding_page(
                request,
                uow,
                actor,
                finding_id,
                template="findings/finding.html",
                error=str(exc),
                status_code=exc.status_code,
            )
        uow.commit()
    return redirect(f"/review/findings/{finding_id}?done={done}")


async def _move(
    request: Request, uow: UnitOfWork, actor: Actor, finding_id: str, *, template: str, back: str
) -> Response:
    data = await form_data(request)
    with uow:
        try:
            try:
                target = FindingState(data.get("target", ""))
            except ValueError:
                raise InvalidInput(
                    f"target: not a finding state ({data.get('target', '')!r})"
                ) from None
            service.transition(
                uow,
                actor=actor,
                finding_id=finding_id,
                target=target,
                reason=data.get("reason", ""),
            )
        except AirlockError as exc:
            uow.session.rollback()
            return _finding_page(
                request,
                uow,
                actor,
                finding_id,
                template=template,
                error=str(exc),
                status_code=exc.status_code,
            )
        uow.commit()
    return redirect(f"{back}/{finding_id}?done=moved")


@router.post("/review/findings/{finding_id}/move")
async def review_move(finding_id: str, request: Request, actor: ActorDep, uow: UoWDep) -> Response:
    """Send to the firm, verify the fix, accept the risk, close."""
    return await _move(
        request,
        uow,
        _staff(actor),
        finding_id,
        template="findings/finding.html",
        back="/review/findings",
    )


# --- firm: findings inbox ---------------------------------------------------------------------


@router.get("/portal/findings")
def inbox(request: Request, actor: ActorDep, uow: UoWDep) -> Response:
    """The findings the agency sent to the firm, with what the firm may do next."""
    actor = _firm(actor)
    with uow:
        rows = service.list_findings(uow, actor=actor)
        return page(
            request,
            "findings/inbox.html",
            findings=[views.finding_out(uow, actor=actor, finding=f) for f in rows],
        )


@router.get("/portal/findings/{finding_id}")
def portal_finding(
    finding_id: str, request: Request, actor: ActorDep, uow: UoWDep, done: str = ""
) -> Response:
    """A finding sent to the firm: acknowledge, dispute with a reason, start and submit a fix."""
    with uow:
        return _finding_page(
            request,
            uow,
            _firm(actor),
            finding_id,
            template="findings/portal_finding.html",
            done=done,
        )


@router.post("/portal/findings/{finding_id}/move")
async def portal_move(finding_id: str, request: Request, actor: ActorDep, uow: UoWDep) -> Response:
    """Acknowledge, dispute, start the fix, submit the fix."""
    return await _move(
        request,
        uow,
        _firm(actor),
        finding_id,
        template="findings/portal_finding.html",
        back="/portal/findings",
    )


# --- agency: metrics dashboard ----------------------------------------------------------------


def _bars(m: metrics.Metrics) -> list[dict[str, Any]]:
    rows = [
        ("Time to acknowledge", m.to_acknowledge),
        ("Time to fix", m.to_fix),
        ("Time to verify", m.to_verify),
    ]
    top = max([1.0, *[d.median_hours or 0.0 for _, d in rows]])
    return [
        {
            "label": label,
            "hours": d.median_hours,
            "count": d.count,
            "mean": d.mean_hours,
            "width": round(480 * (d.median_hours or 0.0) / top, 1),
        }
        for label, d in rows
    ]


@router.get("/review/metrics")
def metrics_dashboard(request: Request, actor: ActorDep, uow: UoWDep) -> Response:
    """Review metrics from the transitions table, as a chart and as a table."""
    with uow:
        m = metrics.dashboard(uow, actor=_staff(actor))
        return page(
            request,
            "findings/metrics.html",
            m=m,
            bars=_bars(m),
            checks=metrics.check_rates(uow, m),
        )
