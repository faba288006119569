"""The FastAPI application: API under /api/v1, server-rendered pages, error handling."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from airlock import __version__
from airlock.bootstrap import Container, start_workers
from airlock.composition import api_routers, page_routers
from airlock.web import api_docs, errors
from airlock.web.pages import render

STATIC = Path(__file__).parent / "static"
WORKER_SCRIPT = "/static/upload-worker.js"


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
    for router in api_routers():
        api.include_router(router)
    app.include_router(api)
    for router in page_routers():
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
        if request.url.path == WORKER_SCRIPT:
            # The upload worker compiles the vendored WebAssembly SHA-256: that, and no eval.
            policy = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'"
        else:
            policy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'"
        response.headers.setdefault("Content-Security-Policy", policy)
        if not request.url.path.startswith("/static"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    large = {"/chunks": settings.upload_chunk_bytes + 1024 * 1024}
    app.add_middleware(errors.BodyLimit, limit=settings.max_body_bytes, large=large)
    return app
