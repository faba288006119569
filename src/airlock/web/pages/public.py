"""Public pages: the home page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from airlock.web.deps import MaybeActorDep
from airlock.web.pages.render import page, redirect

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(request: Request, actor: MaybeActorDep) -> Response:
    """Signed-in users go to their workspace; everyone else sees the program's home."""
    if actor is not None:
        return redirect("/review" if actor.is_agency else "/portal")
    return page(request, "home.html")
