"""The FastAPI application: API under /api/v1, server-rendered pages, error handling."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from airlock import __version__
from airlock.bootstrap import Container, start_workers
from airlock.web import api_docs, errors
from airlock.web.api.v1 import accounts, enrollment, submissions, system
from airlock.web.pages import render

STATIC = Path(__file__).parent / "static"

# Routers of later stages, included when their package is present.
_OPTIONAL_API = ("airlock.web.api.v1.artifacts", "airlock.web.api.v1.scanning")
_OPTIONAL_PAGES = ("airlock.web.pages.artifacts",)


def _optional_routers(names: tuple[str, ...]) -> list[APIRouter]:
    routers = []
    for name in names:
        if importlib.util.find_spec(name) is not None:
            routers.append(importlib.import_module(name).router)
    return routers


def create_app(container: Container, *, start_jobs: bool = True) -> FastAPI:
    """Build the app around a container; in-process workers start with the server."""
    settings = container.settings
    settings.effective_secret_key()  # refuses to start without a real secret outside dev

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if start_jobs:
            start_workers(container)
        yield
        container.queue.stop()

    app = FastAPI(
        title="Airlock",
        version=__version__,
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # served by airlock.web.api_docs from vendored Swagger UI files
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.container = container
    api = APIRouter(prefix="/api/v1")
    for router in (
        system.router,
        accounts.router,
        enrollment.router,
        submissions.router,
        *_optional_routers(_OPTIONAL_API),
    ):
        api.include_router(router)
    app.include_router(api)
    from airlock.web.pages import audit, people, portal, public, review, session

    for router in (
        session.router,
        people.router,
        audit.router,
        public.router,
        portal.router,
        review.router,
        *_optional_routers(_OPTIONAL_PAGES),
    ):
        app.include_router(router)
    app.include_router(api_docs.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    errors.install(app, render.error_page)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'",
        )
        if not request.url.path.startswith("/static"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    large = {"/chunks": settings.upload_chunk_bytes + 1024 * 1024}
    app.add_middleware(errors.BodyLimit, limit=settings.max_body_bytes, large=large)
    return app
