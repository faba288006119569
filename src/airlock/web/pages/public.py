"""Public pages: the home page (the reports and advisories are in transparency.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from airlock.publishing import public_site
from airlock.web.deps import ContainerDep, MaybeActorDep, UoWDep
from airlock.web.pages.render import page, redirect

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(request: Request, actor: MaybeActorDep, uow: UoWDep, container: ContainerDep) -> Response:
    """Signed-in users go to their workspace; everyone else sees the program's home with its
    participation figures, latest reports and advisories."""
    if actor is not None:
        return redirect("/review" if actor.is_agency else "/portal")
    with uow:
        data = public_site.home(uow, min_cell=container.settings.public_min_cell)
    return page(request, "home.html", data=data)
