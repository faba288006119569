"""Review workspace pages: the queue, the submission view, firms and the audit trail."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from airlock.accounts import service as accounts
from airlock.core.access import Actor, allowed
from airlock.core.errors import AirlockError, Forbidden, InvalidInput, InvalidTransition
from airlock.core.roles import Role
from airlock.core.transitions import ObjectType, history
from airlock.core.uow import UnitOfWork
from airlock.enrollment import service as enrollment
from airlock.enrollment.rules import ParticipationState
from airlock.findings import review as findings_review
from airlock.findings import views as findings_views
from airlock.submissions import grants
from airlock.submissions import service as submissions
from airlock.submissions.rules import SubmissionState
from airlock.web.deps import ActorDep, UoWDep
from airlock.web.pages import artifacts, dossier_view
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
    state: str = "",
    q: str = "",
    mine: bool = False,
    page_no: int = 1,
) -> Response:
    """The agency queue with filters and pagination."""
    actor = _staff(actor)
    if actor.role == Role.AUDITOR:
        return redirect("/audit")
    states = [state] if state in {s.value for s in SubmissionState} else []
    with uow:
        result = submissions.queue(
            uow,
            actor=actor,
            states=states,
            q=q[:100],
            assigned_to_me=mine,
            page=max(1, min(page_no, 100000)),
            per_page=20,
        )
        pages = max(1, -(-result.total // result.per_page))
        counts = submissions.counts_by_state(uow, actor=actor)
        verdicts = findings_review.verdict_counts(
            uow, actor=actor, submission_ids=[s.id for s, _, _ in result.items]
        )
        return page(
            request,
            "review/queue.html",
            counts=counts,
            count_max=max([1, *counts.values()]),
            verdicts=verdicts,
            result=result,
            pages=pages,
            state=state,
            q=q[:100],
            mine=mine,
            states=[s.value for s in SubmissionState if s != SubmissionState.DRAFT],
        )


def _view(
    request: Request,
    uow: UnitOfWork,
    actor: Actor,
    submission_id: str,
    error: str = "",
    status_code: int = 200,
) -> Response:
    sub = submissions.get_submission(uow, actor=actor, submission_id=submission_id)
    view = submissions.view_dossier(uow, actor=actor, submission_id=submission_id)
    assignees = submissions.list_assignees(uow, actor=actor, submission_id=submission_id)
    assigned_ids = {u.id for u in assignees}
    reviewers: list[Any] = []
    if allowed(actor, "submission.assign"):
        reviewers = [
            u
            for u in accounts.users_with_role(
                uow, org_id=actor.org_id, roles={Role.REVIEWER, Role.COORDINATOR}
            )
            if u.id not in assigned_ids
        ]
    granted = submissions.granted_user_ids(uow, submission_id=sub.id)
    moves = submissions.allowed_moves(uow, actor=actor, submission_id=sub.id)
    status = findings_views.review_status(uow, actor=actor, submission_id=sub.id)
    verdicts = findings_review.verdict_counts(uow, actor=actor, submission_ids=[sub.id])
    may_sign = (
        sub.state == SubmissionState.IN_REVIEW
        and actor.role.value in status.required_roles
        and allowed(actor, "review.signoff")
    )
    return page(
        request,
        "review/submission.html",
        status_code=status_code,
        sub=sub,
        view=view,
        dossier_json=json.dumps(view.dossier, indent=2),
        sections=dossier_view.sections(view.dossier),
        assignees=assignees,
        granted=granted,
        may_grant=allowed(actor, "submission.assign"),
        reviewers=reviewers,
        moves=[m.value for m in moves],
        error=error,
        history=history(uow.session, object_type=ObjectType.SUBMISSION, object_id=sub.id),
        review_status=status,
        verdicts=verdicts[sub.id],
        may_sign=may_sign,
        signoff_labels=SIGNOFF_LABELS,
        **artifacts.submission_sections(uow, actor=actor, sub=sub),
    )


@router.get("/review/submissions/{submission_id}")
def review_submission(
    submission_id: str, request: Request, actor: ActorDep, uow: UoWDep
) -> Response:
    """A submission as agency staff see it; the confidential dossier only when assigned."""
    with uow:
        response = _view(request, uow, _staff(actor), submission_id)
        uow.commit()  # audit row of a confidential read
        return response


@router.post("/review/submissions/{submission_id}/transition")
async def review_transition(
    submission_id: str, request: Request, actor: ActorDep, uow: UoWDep
) -> Response:
    """Accept, return, start or complete the review, close."""
    data = await form_data(request)
    with uow:
        try:
            target = SubmissionState(data.get("to", ""))
            submissions.transition(
                uow,
                actor=_staff(actor),
                submission_id=submission_id,
                target=target,
                reason=data.get("reason", ""),
            )
        except ValueError:
            return _view(
                request, uow, actor, submission_id, error="unknown target state", status_code=422
            )
        except AirlockError as exc:
            uow.session.rollback()
            return _view(
                request, uow, actor, submission_id, error=str(exc), status_code=exc.status_code
            )
        uow.commit()
    return redirect(f"/review/submissions/{submission_id}", done="moved")


@router.post("/review/submissions/{submission_id}/signoff")
async def review_signoff(
    submission_id: str, request: Request, actor: ActorDep, uow: UoWDep
) -> Response:
    """Approve the review or request changes, with a comment."""
    data = await form_data(request)
    with uow:
        try:
            findings_review.sign_off(
                uow,
                actor=_staff(actor),
                submission_id=submission_id,
                decision=data.get("decision", ""),
                comment=data.get("comment", ""),
            )
        except AirlockError as exc:
            uow.session.rollback()
            return _view(
                request, uow, actor, submission_id, error=str(exc), status_code=exc.status_code
            )
        uow.commit()
    return redirect(f"/review/submissions/{submission_id}")


@router.post("/review/submissions/{submission_id}/assign")
async def review_assign(
    submission_id: str, request: Request, actor: ActorDep, uow: UoWDep
) -> Response:
    """A coordinator assigns a reviewer."""
    data = await form_data(request)
    with uow:
        try:
            submissions.assign_reviewer(
                uow,
                actor=_staff(actor),
                submission_id=submission_id,
                reviewer_id=data.get("reviewer_id", ""),
            )
        except AirlockError as exc:
            uow.session.rollback()
            return _view(
                request, uow, actor, submission_id, error=str(exc), status_code=exc.status_code
            )
        uow.commit()
    return redirect(f"/review/submissions/{submission_id}", done="assigned")


@router.post("/review/submissions/{submission_id}/restricted")
async def review_restricted(
    submission_id: str, request: Request, actor: ActorDep, uow: UoWDep
) -> Response:
    """A coordinator grants (or revokes) an assigned reviewer's access to restricted fields."""
    data = await form_data(request)
    change = grants.revoke_restricted if data.get("action") == "revoke" else grants.grant_restricted
    with uow:
        try:
            change(
                uow,
                actor=_staff(actor),
                submission_id=submission_id,
                user_id=data.get("user_id", ""),
            )
        except AirlockError as exc:
            uow.session.rollback()
            return _view(
                request, uow, actor, submission_id, error=str(exc), status_code=exc.status_code
            )
        uow.commit()
    return redirect(f"/review/submissions/{submission_id}")


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
