"""Coverage pages: the public view of known models against what was shared, and the agency's
blind spots with link proposals to confirm."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from airlock.core.errors import AirlockError
from airlock.coverage import rules, service
from airlock.web.api.v1.coverage import THRESHOLDS
from airlock.web.deps import ActorDep, ContainerDep, UoWDep
from airlock.web.pages.render import form_data, page, redirect

router = APIRouter(include_in_schema=False)


@router.get("/coverage")
def public_coverage(request: Request, uow: UoWDep, container: ContainerDep) -> Response:
    """Known AI models by training compute, and how many were shared with the program."""
    with uow:
        data = service.public_coverage(uow, min_cell=container.settings.public_min_cell)
    bars = [
        (
            rules.threshold_label(row.threshold_flop, superscript=True),
            [("shared", "Shared", row.shared or 0), ("unshared", "Not shared", row.not_shared or 0)]
            if row.shared is not None
            else [("withheld", "Known (split withheld)", row.known)],
        )
        for row in data.thresholds
    ]
    return page(request, "public/coverage.html", data=data, bars=bars)


@router.get("/review/coverage")
def agency_coverage(
    request: Request, actor: ActorDep, uow: UoWDep, threshold: str = "1e25", linked: str = ""
) -> Response:
    """The program's blind spots and proposed links, for coordinators."""
    return _agency_page(request, actor, uow, threshold=threshold, linked=bool(linked))


def _agency_page(
    request: Request,
    actor: ActorDep,
    uow: UoWDep,
    *,
    threshold: str,
    linked: bool = False,
    error: str = "",
    status_code: int = 200,
) -> Response:
    if threshold not in THRESHOLDS:
        threshold = "1e25"
    with uow:
        spots = service.blind_spots(uow, actor=actor, threshold=THRESHOLDS[threshold])
        proposals = service.propose_links(uow, actor=actor, limit=50)
        table = service.coverage_table(uow)
        sources = service.latest_imports(uow).imports
    return page(
        request,
        "review/coverage.html",
        spots=spots,
        proposals=proposals,
        table=table,
        totals=[(rules.threshold_label(t), table.totals[t]) for t in table.thresholds],
        sources=sources,
        threshold=threshold,
        thresholds=[(key, rules.threshold_label(value)) for key, value in THRESHOLDS.items()],
        linked=linked,
        error=error,
        status_code=status_code,
    )


@router.post("/review/coverage/link")
async def confirm_link(request: Request, actor: ActorDep, uow: UoWDep) -> Response:
    """Confirm a proposed link between a known model and a registered one."""
    data = await form_data(request)
    failure: AirlockError | None = None
    with uow:
        try:
            service.link_model(
                uow,
                actor=actor,
                known_model_id=data.get("known_model_id", ""),
                model_id=data.get("model_id", ""),
            )
            uow.commit()
        except AirlockError as exc:
            failure = exc
    if failure is not None:
        return _agency_page(
            request,
            actor,
            uow,
            threshold="1e25",
            error=str(failure),
            status_code=failure.status_code,
        )
    return redirect("/review/coverage?linked=1")
