"""Agency pages of the transparency report: build a snapshot, preview it, audit, publish."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from airlock.core.access import Actor, allowed
from airlock.core.errors import AirlockError, Forbidden
from airlock.core.uow import UnitOfWork
from airlock.publishing import reports
from airlock.web.deps import ActorDep, UoWDep
from airlock.web.pages.render import form_data, page, redirect
from airlock.web.pages.transparency import report_context

router = APIRouter(prefix="/review/reports", include_in_schema=False)


def _staff(actor: Actor) -> Actor:
    if not actor.is_agency:
        raise Forbidden("the review workspace is for agency staff")
    return actor


def _list(
    request: Request, uow: UnitOfWork, actor: Actor, *, error: str = "", status_code: int = 200
) -> Response:
    return page(
        request,
        "review/reports.html",
        snapshots=reports.snapshots(uow, actor=actor),
        may_manage=allowed(actor, "report.manage"),
        error=error,
        status_code=status_code,
    )


@router.get("")
def snapshot_list(request: Request, actor: ActorDep, uow: UoWDep) -> Response:
    """Report snapshots, drafts and published, with the form to build one."""
    with uow:
        return _list(request, uow, _staff(actor))


@router.post("")
async def build(request: Request, actor: ActorDep, uow: UoWDep) -> Response:
    """Build a draft snapshot of a period."""
    data = await form_data(request)
    with uow:
        try:
            row = reports.build(uow, actor=_staff(actor), period=data.get("period", ""))
        except AirlockError as exc:
            return _list(request, uow, actor, error=str(exc), status_code=exc.status_code)
        uow.commit()
        target = f"/review/reports/{row.id}"
    return redirect(target, done="report_built")


def _preview(
    request: Request,
    uow: UnitOfWork,
    actor: Actor,
    snapshot_id: str,
    *,
    error: str = "",
    status_code: int = 200,
) -> Response:
    row = reports.get(uow, actor=actor, snapshot_id=snapshot_id)
    result = reports.audit(uow, actor=actor, snapshot_id=row.id)
    return page(
        request,
        "review/report.html",
        snapshot=row,
        content=row.content,
        audit=result,
        failing=[reports.describe(i) for i in result.failing],
        may_manage=allowed(actor, "report.manage"),
        needs_change=bool(reports.versions_of(uow, period=row.period)),
        error=error,
        status_code=status_code,
        **report_context(row.content),
    )


@router.get("/{snapshot_id}")
def preview(request: Request, snapshot_id: str, actor: ActorDep, uow: UoWDep) -> Response:
    """A snapshot as it will appear, with its suppression audit."""
    with uow:
        return _preview(request, uow, _staff(actor), snapshot_id)


@router.post("/{snapshot_id}/publish")
async def publish(request: Request, snapshot_id: str, actor: ActorDep, uow: UoWDep) -> Response:
    """Publish a draft snapshot (refused, naming the figure, if the audit fails)."""
    data = await form_data(request)
    with uow:
        try:
            row = reports.publish(
                uow, actor=_staff(actor), snapshot_id=snapshot_id, change=data.get("change", "")
            )
        except AirlockError as exc:
            return _preview(
                request, uow, actor, snapshot_id, error=str(exc), status_code=exc.status_code
            )
        uow.commit()
        target = f"/reports/{row.period}?version={row.version}"
    return redirect(target, done="report_published")
