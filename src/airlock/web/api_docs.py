"""Offline API documentation: Swagger UI from vendored files (no CDN, so it works on an
isolated network and under the pages' same-origin Content-Security-Policy)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from airlock.web.deps import MaybeActorDep
from airlock.web.pages.render import page

router = APIRouter(include_in_schema=False)


@router.get("/api/v1/docs")
def api_docs(request: Request, actor: MaybeActorDep) -> Response:
    """Interactive API documentation (Swagger UI, served from this app)."""
    return page(request, "api_docs.html", actor=actor)
