"""The agency's submission page: an overview to act from (reviewers, moves, sign-off) and a tab
each for the dossier, the files, the scan results, the findings and the history."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from airlock.accounts import service as accounts
from airlock.core.access import Actor, allowed
from airlock.core.errors import AirlockError, Forbidden
from airlock.core.roles import Role
from airlock.core.uow import UnitOfWork
from airlock.findings import review as findings_review
from airlock.findings import views as findings_views
from airlock.submissions import grants
from airlock.submissions import service as submissions
from airlock.submissions.rules import SubmissionState
from airlock.web.deps import ActorDep, UoWDep
from airlock.web.pages import submission_page as tabs
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


def _overview(
    request: Request,
    uow: UnitOfWork,
    actor: Actor,
    submission_id: str,
    error: str = "",
    status_code: int = 200,
) -> Response:
    ctx = tabs.context(uow, actor=actor, submission_id=submission_id, tab="")
    sub = ctx["sub"]
    assigned_ids = {u.id for u in ctx["assignees"]}
    reviewers: list[Any] = []
    if tabs.may_assign(uow, actor=actor, sub=sub):
        reviewers = [
            u
            for u in accounts.users_with_role(
                uow, org_id=actor.org_id, roles={Role.REVIEWER, Role.COORDINATOR}
            )
            if u.id not in assigned_ids
        ]
    status = findings_views.review_status(uow, actor=actor, submission_id=sub.id)
    verdicts = findings_review.verdict_counts(uow, actor=actor, submission_ids=[sub.id])
    may_sign = (
        sub.state == SubmissionState.IN_REVIEW
        and actor.role.value in status.required_roles
        and allowed(actor, "review.signoff")
    )
    return page(
        request,
        "submission/review_overview.html",
        status_code=status_code,
        granted=submissions.granted_user_ids(uow, submission_id=sub.id),
        may_grant=tabs.may_assign(uow, actor=actor, sub=sub),
        reviewers=reviewers,
        moves=[m.value for m in submissions.allowed_moves(uow, actor=actor, submission_id=sub.id)],
        error=error,
        review_status=status,
        verdicts=verdicts[sub.id],
        may_sign=may_sign,
        signoff_labels=SIGNOFF_LABELS,
        **ctx,
    )


@router.get("/review/submissions/{submission_id}")
def review_submission(
    submission_id: str, request: Request, actor: ActorDep, uow: UoWDep
) -> Response:
    """A submission's overview: reviewers, the moves this person may make, sign-off."""
    with uow:
        response = _overview(request, uow, _staff(actor), submission_id)
        uow.commit()  # audit rows of the reads the overview makes, if any
        return response


@router.get("/review/submissions/{submission_id}/dossier")
def review_dossier(submission_id: str, request: Request, actor: ActorDep, uow: UoWDep) -> Response:
    """The dossier by section; the confidential fields only for assigned staff (audited)."""
    with uow:
        ctx = tabs.context(uow, actor=_staff(actor), submission_id=submission_id, tab="dossier")
        ctx.update(tabs.dossier_tab(uow, actor=actor, sub=ctx["sub"]))
        response = page(request, "submission/dossier.html", **ctx)
        uow.commit()  # the audit row of a confidential read
        return response


@router.get("/review/submissions/{submission_id}/artifacts")
def review_artifacts(
    submission_id: str, request: Request, actor: ActorDep, uow: UoWDep
) -> Response:
    """The files with their verdicts, updated while a scan runs."""
    with uow:
        ctx = tabs.context(uow, actor=_staff(actor), submission_id=submission_id, tab="artifacts")
        ctx.update(tabs.live_panel(uow, actor=actor, sub=ctx["sub"]))
        response = page(request, "submission/artifacts.html", **ctx)
        uow.commit()  # the audit row of a manifest read
        return response


@router.get("/review/submissions/{submission_id}/artifacts/live")
def review_artifacts_live(
    submission_id: str, request: Request, actor: ActorDep, uow: UoWDep
) -> Response:
    """The files list alone (polled by the artifacts tab)."""
    with uow:
        sub = submissions.get_submission(uow, actor=_staff(actor), submission_id=submission_id)
        response = page(
            request, "submission/_live.html", sub=sub, **tabs.live_panel(uow, actor=actor, sub=sub)
        )
        uow.commit()
        return response


@router.get("/review/submissions/{submission_id}/scan")
def review_scan(submission_id: str, request: Request, actor: ActorDep, uow: UoWDep) -> Response:
    """Scan results of the files and of the dossier checks (assigned staff)."""
    with uow:
        ctx = tabs.context(uow, actor=_staff(actor), submission_id=submission_id, tab="scan")
        ctx.update(tabs.scan_tab(uow, actor=actor, sub=ctx["sub"]))
        response = page(request, "submission/scan.html", **ctx)
        uow.commit()  # the audit row of a scan results read
        return response


@router.get("/review/submissions/{submission_id}/findings")
def review_findings(submission_id: str, request: Request, actor: ActorDep, uow: UoWDep) -> Response:
    """The submission's findings."""
    with uow:
        ctx = tabs.context(uow, actor=_staff(actor), submission_id=submission_id, tab="findings")
        ctx.update(tabs.findings_tab(uow, actor=actor, found=ctx["found"]))
        return page(request, "submission/findings.html", **ctx)


@router.get("/review/submissions/{submission_id}/history")
def review_history(submission_id: str, request: Request, actor: ActorDep, uow: UoWDep) -> Response:
    """Who moved the submission, when, from, to, and why."""
    with uow:
        ctx = tabs.context(uow, actor=_staff(actor), submission_id=submission_id, tab="history")
        ctx.update(tabs.history_tab(uow, actor=actor, sub=ctx["sub"]))
        return page(request, "submission/history.html", **ctx)


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
            return _overview(
                request, uow, actor, submission_id, error="unknown target state", status_code=422
            )
        except AirlockError as exc:
            uow.session.rollback()
            return _overview(
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
            return _overview(
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
            return _overview(
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
            return _overview(
                request, uow, actor, submission_id, error=str(exc), status_code=exc.status_code
            )
        uow.commit()
    return redirect(f"/review/submissions/{submission_id}")
