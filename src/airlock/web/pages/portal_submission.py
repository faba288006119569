"""The firm's submission page beside its dossier editor (`/portal/submissions/{id}`, in
`portal.py`): an overview of what needs doing, the files, the scan results, the findings the
agency sent and the history."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from airlock.core.access import Actor
from airlock.core.errors import Forbidden
from airlock.enrollment import service as enrollment
from airlock.enrollment.rules import FirmMove
from airlock.submissions import rules as submission_rules
from airlock.submissions import service as submissions
from airlock.submissions.rules import SubmissionState
from airlock.web.deps import ActorDep, UoWDep
from airlock.web.pages import submission_page as tabs
from airlock.web.pages.render import page

router = APIRouter(prefix="/portal/submissions", include_in_schema=False)


def _firm(actor: Actor) -> Actor:
    if actor.is_agency:
        raise Forbidden("the developer portal is for participating firms")
    return actor


@router.get("/{submission_id}/overview")
def overview(submission_id: str, request: Request, actor: ActorDep, uow: UoWDep) -> Response:
    """Where the submission stands and what the firm can do next."""
    with uow:
        ctx = tabs.context(uow, actor=_firm(actor), submission_id=submission_id, tab="")
        sub = ctx["sub"]
        may_edit = submission_rules.is_editable(
            SubmissionState(sub.state)
        ) and enrollment.firm_allows(uow, org_id=sub.org_id, move=FirmMove.EDIT)
        return page(request, "submission/portal_overview.html", may_edit=may_edit, **ctx)


@router.get("/{submission_id}/artifacts")
def artifacts_tab(submission_id: str, request: Request, actor: ActorDep, uow: UoWDep) -> Response:
    """The files, the uploader while the firm may upload, and each file's verdict."""
    with uow:
        ctx = tabs.context(uow, actor=_firm(actor), submission_id=submission_id, tab="artifacts")
        ctx.update(tabs.live_panel(uow, actor=actor, sub=ctx["sub"]))
        response = page(request, "submission/artifacts.html", **ctx)
        uow.commit()  # the audit row of a manifest read
        return response


@router.get("/{submission_id}/artifacts/live")
def artifacts_live(submission_id: str, request: Request, actor: ActorDep, uow: UoWDep) -> Response:
    """The files list alone (polled by the artifacts tab)."""
    with uow:
        sub = submissions.get_submission(uow, actor=_firm(actor), submission_id=submission_id)
        response = page(
            request, "submission/_live.html", sub=sub, **tabs.live_panel(uow, actor=actor, sub=sub)
        )
        uow.commit()
        return response


@router.get("/{submission_id}/scan")
def scan_tab(submission_id: str, request: Request, actor: ActorDep, uow: UoWDep) -> Response:
    """Scan results of the files and of the dossier checks."""
    with uow:
        ctx = tabs.context(uow, actor=_firm(actor), submission_id=submission_id, tab="scan")
        ctx.update(tabs.scan_tab(uow, actor=actor, sub=ctx["sub"]))
        response = page(request, "submission/scan.html", **ctx)
        uow.commit()  # the audit row of a scan results read
        return response


@router.get("/{submission_id}/findings")
def findings_tab(submission_id: str, request: Request, actor: ActorDep, uow: UoWDep) -> Response:
    """The findings the agency sent about this submission."""
    with uow:
        ctx = tabs.context(uow, actor=_firm(actor), submission_id=submission_id, tab="findings")
        ctx.update(tabs.findings_tab(uow, actor=actor, found=ctx["found"]))
        return page(request, "submission/findings.html", **ctx)


@router.get("/{submission_id}/history")
def history_tab(submission_id: str, request: Request, actor: ActorDep, uow: UoWDep) -> Response:
    """Who moved the submission, when, from, to, and why."""
    with uow:
        ctx = tabs.context(uow, actor=_firm(actor), submission_id=submission_id, tab="history")
        ctx.update(tabs.history_tab(uow, actor=actor, sub=ctx["sub"]))
        return page(request, "submission/history.html", **ctx)
