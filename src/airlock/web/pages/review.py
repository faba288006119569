"""Review workspace pages: the queue, the submission view, firms and the audit trail."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from airlock.accounts import service as accounts
from airlock.cases import queue
from airlock.core.access import Actor, allowed
from airlock.core.errors import Forbidden, InvalidInput, InvalidTransition
from airlock.core.roles import Role
from airlock.core.uow import UnitOfWork
from airlock.enrollment import service as enrollment
from airlock.enrollment.rules import ParticipationState
from airlock.submissions import service as submissions
from airlock.submissions.rules import SubmissionState
from airlock.web.deps import ActorDep, UoWDep
from airlock.web.pages.render import form_data, page, redirect

router = APIRouter(include_in_schema=False)

SIGNOFF_LABELS = {
    "approve": "Approved",
    "request_changes": "Changes requested",
    "reopened": "Reopened",
}


def _staff(actor: Actor) -> Actor:
    if not actor.is_agency:
        raise Forbidden("the review workspace is for agency staff")
    return actor


@router.get("/review")
def review_queue(
    request: Request,
    actor: ActorDep,
    uow: UoWDep,
    state: str = Query("", max_length=40),
    q: str = Query("", max_length=200),
    mine: bool = False,
    assignee: str = Query("", max_length=64),
    verdict: str = Query("", max_length=20),
    deadline: str = Query("", max_length=20),
    sort: str = Query("updated", max_length=20),
    order: str = Query("", max_length=4),
    page_no: int = Query(1, ge=1, le=100000),
) -> Response:
    """The agency queue: filters and sort kept in the URL, age, assignees, verdicts, deadline."""
    actor = _staff(actor)
    if actor.role == Role.AUDITOR:
        return redirect("/audit")
    sort = sort if sort in queue.SORTS else "updated"
    descending = order == "desc" if order in ("asc", "desc") else sort in queue.DESCENDING_FIRST
    filters = queue.QueueFilters(
        states=[state] if state in {s.value for s in SubmissionState} else [],
        q=q[:100],
        assignee="me" if mine else assignee,
        verdict=verdict if verdict in queue.VERDICT_FILTERS else "",
        deadline=deadline if deadline in queue.DEADLINE_FILTERS else "",
        sort=sort,
        descending=descending,
    )
    with uow:
        view = queue.review_queue(uow, actor=actor, filters=filters, page=page_no, per_page=20)
        counts = submissions.counts_by_state(uow, actor=actor)
        staff = accounts.users_with_role(
            uow, org_id=actor.org_id, roles={Role.REVIEWER, Role.COORDINATOR}
        )
        kept = {
            "state": filters.states[0] if filters.states else "",
            "q": filters.q,
            "assignee": filters.assignee,
            "verdict": filters.verdict,
            "deadline": filters.deadline,
        }
        return page(
            request,
            "review/queue.html",
            counts=counts,
            count_max=max([1, *counts.values()]),
            view=view,
            filters=filters,
            kept=kept,
            query=urlencode({k: v for k, v in kept.items() if v}),
            staff=staff,
            states=[s.value for s in SubmissionState if s != SubmissionState.DRAFT],
        )


def _firms_page(
    request: Request, uow: UnitOfWork, actor: Actor, error: str = "", status_code: int = 200
) -> Response:
    rows = enrollment.list_firms(uow, actor=_staff(actor))
    moves = {
        p.org_id: [m.value for m in enrollment.allowed_moves(actor=actor, p=p)] for _, p in rows
    }
    return page(
        request,
        "review/firms.html",
        status_code=status_code,
        rows=rows,
        error=error,
        moves=moves if allowed(actor, "participation.set_state") else {},
    )


@router.get("/review/firms")
def firms(request: Request, actor: ActorDep, uow: UoWDep) -> Response:
    """Participating firms and their state; coordinators activate or suspend them."""
    with uow:
        return _firms_page(request, uow, actor)


@router.post("/review/firms/{org_id}/state")
async def set_firm_state(org_id: str, request: Request, actor: ActorDep, uow: UoWDep) -> Response:
    """Activate, suspend or reactivate a firm's participation."""
    data = await form_data(request)
    with uow:
        try:
            target = ParticipationState(data.get("state", ""))
            enrollment.set_state(
                uow,
                actor=_staff(actor),
                org_id=org_id,
                target=target,
                reason=data.get("reason", ""),
            )
        except ValueError:
            return _firms_page(request, uow, actor, error="state: unknown state", status_code=422)
        except (InvalidInput, InvalidTransition) as exc:
            uow.session.rollback()
            return _firms_page(request, uow, actor, error=str(exc), status_code=exc.status_code)
        uow.commit()
    return redirect("/review/firms", done="firm_changed")
