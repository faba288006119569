"""Every error answered as a 4xx that names the problem; HTML for pages, JSON for the API."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from airlock.core.errors import AirlockError, NotFound, Unauthenticated

log = logging.getLogger(__name__)

# Every 404 says the same: a made-up id, another firm's real one and an unknown path must be
# indistinguishable, whatever the service that refused wrote in its message.
NOT_FOUND = "not found"


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get(
        "accept", ""
    )


def _loc(loc: Any) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")] or [str(x) for x in loc]
    return ".".join(parts)


def validation_messages(exc: RequestValidationError) -> list[dict[str, str]]:
    """Pydantic's errors as {path, rule, message} with what was given."""
    out = []
    for err in exc.errors():
        path = _loc(err.get("loc", ()))
        rule = str(err.get("type", "invalid"))
        msg = str(err.get("msg", "invalid"))
        if rule == "json_invalid":
            msg = f"the body is not valid JSON ({err.get('ctx', {}).get('error', 'parse error')})"
        elif rule in ("model_attributes_type", "dict_type") and path in ("", "body"):
            msg = "the body must be a JSON object (send Content-Type: application/json)"
        elif rule == "extra_forbidden":
            msg = "unknown field"
        given = err.get("input")
        if rule not in ("missing", "json_invalid", "extra_forbidden") and isinstance(
            given, str | int | float | bool
        ):
            msg += f" (got {str(given)[:60]!r})"
        out.append({"path": path, "rule": rule, "message": msg})
    return out


def error_headers(exc: AirlockError) -> dict[str, str] | None:
    """Headers an error carries: the bearer challenge on 401, Retry-After on 429."""
    if isinstance(exc, Unauthenticated):
        return {"WWW-Authenticate": "Bearer"}
    retry = getattr(exc, "retry_after", None)
    if isinstance(retry, int) and retry > 0:
        return {"Retry-After": str(retry)}
    return None


def install(app: FastAPI, render_error: Callable[[Request, int, str], Response]) -> None:
    """Register the handlers on app; render_error(request, status, message) draws a page."""

    @app.exception_handler(AirlockError)
    async def airlock_error(request: Request, exc: AirlockError) -> Response:
        message = NOT_FOUND if isinstance(exc, NotFound) else str(exc)
        if _wants_html(request):
            if isinstance(exc, Unauthenticated) and request.method == "GET":
                return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
            target = getattr(exc, "redirect_to", None)
            if isinstance(target, str) and request.method == "GET":
                return RedirectResponse(target, status_code=303)
            response = render_error(request, exc.status_code, message)
            if not isinstance(exc, Unauthenticated):
                response.headers.update(error_headers(exc) or {})
            return response
        body: dict[str, Any] = {"detail": message}
        errors = getattr(exc, "errors", None)
        if errors:
            body["errors"] = errors
        return JSONResponse(body, status_code=exc.status_code, headers=error_headers(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        errors = validation_messages(exc)
        summary = "; ".join(f"{e['path']}: {e['message']}" for e in errors[:5])
        if _wants_html(request):
            return render_error(request, 422, summary)
        return JSONResponse({"detail": summary, "errors": errors}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        detail = NOT_FOUND if exc.status_code == 404 else exc.detail
        if _wants_html(request):
            return render_error(request, exc.status_code, str(detail))
        return JSONResponse({"detail": detail}, status_code=exc.status_code)


class BodyLimit:
    """ASGI middleware refusing bodies over a limit (413), before the app reads them."""

    def __init__(self, app: Any, *, limit: int, large: dict[str, int] | None = None) -> None:
        self.app = app
        self.limit = limit
        self.large = large or {}

    def _limit_for(self, path: str) -> int:
        for marker, limit in self.large.items():
            if marker in path:
                return limit
        return self.limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit_for(scope.get("path", ""))
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared < 0 or declared > limit:
                    await _too_large(send, limit)
                    return
        seen = 0

        async def limited_receive() -> Any:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _BodyTooLarge:
            await _too_large(send, limit)


class _BodyTooLarge(Exception):
    pass


async def _too_large(send: Any, limit: int) -> None:
    body = f'{{"detail":"the request body is larger than the limit of {limit} bytes"}}'.encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
