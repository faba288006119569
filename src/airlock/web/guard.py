"""The request-validation layer: hostile input is refused with a 4xx naming the field, before
any route, dependency or database call sees it.

One ASGI middleware checks the path, the query string, urlencoded form fields and JSON bodies:
no NUL or other control characters where a database or a log line would take them, no
integers outside 64 bits where a route declares an integer, no JSON deeper, larger or longer
than `safejson.Limits`, no duplicate JSON keys. A JSON body is decoded by `safejson` here and
handed on unchanged, so the route's own decoding can no longer fail on it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from email.message import Message
from typing import Any, Final, get_args
from urllib.parse import parse_qsl

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, compile_path

from airlock.core import safejson

MAX_PATH_CHARS: Final = 2048
MAX_SEGMENT_CHARS: Final = 512
MAX_QUERY_FIELDS: Final = 100
MAX_QUERY_VALUE_CHARS: Final = 4096
MAX_FORM_FIELDS: Final = 1000
# Form fields that carry a JSON document (the dossier editor's raw mode).
JSON_FORM_FIELDS: Final = frozenset({"raw_json"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_INTEGER = re.compile(r"\s*[+-]?[\d_]+(\.0*)?\s*")
_BODY_METHODS: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class Refused(Exception):
    """One input problem: where (`query.before`, `body.items[2]`), which rule, what."""

    def __init__(self, path: str, rule: str, message: str, *, status: int = 422) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.rule = rule
        self.message = message
        self.status = status


@dataclass(frozen=True)
class _Shape:
    """What the guard needs to know of a route: its integer parameters and JSON body."""

    int_query: frozenset[str]
    int_path: frozenset[str]
    json_body: bool


def _is_int(annotation: Any) -> bool:
    if annotation is int:
        return True
    return any(_is_int(arg) for arg in get_args(annotation))


def _params(dependant: Dependant) -> tuple[list[Any], list[Any], list[Any]]:
    """Query, path and body parameters of a route and of every dependency it has."""
    query: list[Any] = []
    path: list[Any] = []
    body: list[Any] = []
    stack = [dependant]
    while stack:
        current = stack.pop()
        query.extend(current.query_params)
        path.extend(current.path_params)
        body.extend(current.body_params)
        stack.extend(current.dependencies)
    return query, path, body


def _shape(route: APIRoute) -> _Shape:
    query, path, body = _params(route.dependant)
    return _Shape(
        frozenset(f.alias for f in query if _is_int(f.field_info.annotation)),
        frozenset(f.alias for f in path if _is_int(f.field_info.annotation)),
        bool(body),
    )


_Entry = tuple[re.Pattern[str], frozenset[str], _Shape]


def api_routes(routes: Iterable[BaseRoute], prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    """(full path, route) of every API route, through included routers (recent FastAPI keeps
    an included router whole, its routes carrying their path without the prefix)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path, route
        included = getattr(route, "original_router", None)
        if included is not None:
            inner: str = getattr(route, "include_context").prefix  # noqa: B009 - a FastAPI private
            yield from api_routes(included.routes, prefix + inner)


def route_table(routes: Iterable[BaseRoute]) -> list[_Entry]:
    """(full path pattern, methods, shape) of every API route."""
    return [
        (compile_path(path)[0], frozenset(route.methods or ()), _shape(route))
        for path, route in api_routes(routes)
    ]


def _text(where: str, value: str, *, controls: bool) -> None:
    """Refuse NUL (and, where controls is set, every control character) and lone surrogates."""
    if controls and _CONTROL.search(value):
        raise Refused(where, "text", "contains a control character")
    problem = safejson.text_problem(value)
    if problem:
        raise Refused(where, "text", problem)


def _nesting(where: str, value: str, limits: safejson.Limits) -> None:
    if value.lstrip()[:1] in ("[", "{") and safejson.nesting_exceeds(value, limits.max_depth):
        raise Refused(where, "max_depth", f"nests deeper than {limits.max_depth} levels")


def _integer(where: str, value: str) -> None:
    if not _INTEGER.fullmatch(value):
        return  # not an integer at all: the route's own validation names it
    digits = value.strip().replace("_", "").split(".")[0]
    if len(digits.lstrip("+-")) > 20 or not (
        safejson.INT64_MIN <= int(digits) <= safejson.INT64_MAX
    ):
        raise Refused(where, "int_range", "integer out of range")


def check_path(path: str) -> None:
    """The decoded URL path: bounded, no control characters."""
    if len(path) > MAX_PATH_CHARS:
        raise Refused("path", "max_length", f"is longer than {MAX_PATH_CHARS} characters")
    _text("path", path, controls=True)
    if any(len(segment) > MAX_SEGMENT_CHARS for segment in path.split("/")):
        raise Refused("path", "max_length", f"has a part over {MAX_SEGMENT_CHARS} characters")


def check_query(pairs: Sequence[tuple[str, str]], limits: safejson.Limits) -> None:
    """Every query parameter: bounded, no control characters, no deep brackets."""
    if len(pairs) > MAX_QUERY_FIELDS:
        raise Refused("query", "max_fields", f"has over {MAX_QUERY_FIELDS} parameters")
    for name, value in pairs:
        where = f"query.{name[:60]}"
        _text("query", name, controls=True)
        _text(where, value, controls=True)
        if len(value) > MAX_QUERY_VALUE_CHARS:
            raise Refused(where, "max_length", f"is over {MAX_QUERY_VALUE_CHARS} characters")
        _nesting(where, value, limits)


def check_form(pairs: Sequence[tuple[str, str]], limits: safejson.Limits) -> None:
    """Every urlencoded form field: no NUL; JSON fields decoded by the safe parser."""
    if len(pairs) > MAX_FORM_FIELDS:
        raise Refused("form", "max_fields", f"has over {MAX_FORM_FIELDS} fields")
    for name, value in pairs:
        where = name[:60]
        _text("form", name, controls=True)
        _text(where, value, controls=False)  # text areas hold line breaks and tabs
        if name in JSON_FORM_FIELDS and value.strip():
            try:
                safejson.loads(value, where=where, limits=limits)
            except safejson.JSONRefused as exc:
                # invalid JSON is the page's to explain (it shows the line); limits are not
                if exc.rule != "json":
                    raise Refused(exc.path, exc.rule, exc.message) from None
        else:
            _nesting(where, value, limits)


def _content_type(scope: dict[str, Any]) -> str:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return str(value.decode("latin-1"))
    return ""


def _is_json(ctype: str) -> bool:
    if not ctype:
        return True  # FastAPI decodes a body without a content type as JSON
    message = Message()
    message["content-type"] = ctype
    sub = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        sub == "json" or sub.endswith("+json")
    )


class InputGuard:
    """ASGI middleware applying the checks above; refusals are 4xx answers naming the field."""

    def __init__(
        self,
        app: Any,
        *,
        routes: Iterable[BaseRoute],
        render_error: Callable[[Request, int, str], Response],
        limits: safejson.Limits = safejson.DEFAULT_LIMITS,
    ) -> None:
        self.app = app
        self.routes = routes
        self.render_error = render_error
        self.limits = limits
        self._table: list[_Entry] | None = None

    def _route(self, scope: dict[str, Any]) -> tuple[_Shape, dict[str, str]]:
        """What every route matching this method and path declares, taken together."""
        if self._table is None:
            self._table = route_table(self.routes)
        path, method = scope.get("path", ""), scope.get("method", "")
        int_query: set[str] = set()
        int_path: set[str] = set()
        json_body = False
        params: dict[str, str] = {}
        for regex, methods, shape in self._table:
            found = regex.match(path)
            if found is None or method not in methods:
                continue
            int_query |= shape.int_query
            int_path |= shape.int_path
            json_body = json_body or shape.json_body
            params.update(found.groupdict())
        return _Shape(frozenset(int_query), frozenset(int_path), json_body), params

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            check_path(scope.get("path", ""))
            query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), True)
            check_query(query, self.limits)
            shape, path_params = self._route(scope)
            for name, value in query:
                if name in shape.int_query:
                    _integer(f"query.{name}", value)
            for name in shape.int_path:
                _integer(f"path.{name}", str(path_params.get(name, "")))
        except Refused as exc:
            await self._refuse(scope, receive, send, exc)
            return
        ctype = _content_type(scope)
        if scope.get("method") in _BODY_METHODS and ctype.startswith("multipart/"):
            # No route takes multipart; its fields would pass unchecked into request.form().
            message = "multipart bodies are not accepted; send application/x-www-form-urlencoded"
            await self._refuse(
                scope, receive, send, Refused("body", "content_type", message, status=415)
            )
            return
        is_form = ctype.startswith("application/x-www-form-urlencoded")
        wants_json = shape.json_body and _is_json(ctype)
        if scope.get("method") not in _BODY_METHODS or not (is_form or wants_json):
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        try:
            if is_form:
                check_form(parse_qsl(body.decode("latin-1"), True), self.limits)
            elif body.strip():
                safejson.loads(body, where="body", limits=self.limits)
        except Refused as exc:
            await self._refuse(scope, receive, send, exc)
            return
        except safejson.JSONRefused as exc:
            await self._refuse(scope, receive, send, Refused(exc.path, exc.rule, exc.message))
            return
        await self.app(scope, _replay(body, receive), send)

    async def _refuse(self, scope: Any, receive: Any, send: Any, exc: Refused) -> None:
        request = Request(scope, receive)
        summary = f"{exc.path}: {exc.message}"
        response: Response
        wants_html = "text/html" in request.headers.get("accept", "")
        if not scope.get("path", "").startswith("/api/") and wants_html:
            response = self.render_error(request, exc.status, summary)
        else:
            error = {"path": exc.path, "rule": exc.rule, "message": exc.message}
            response = JSONResponse({"detail": summary, "errors": [error]}, status_code=exc.status)
        await response(scope, receive, send)


async def _read_body(receive: Any) -> bytes:
    # The body-size limit sits outside this middleware, so what is read here is bounded.
    parts = []
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        parts.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(parts)


def _replay(body: bytes, receive: Any) -> Any:
    sent = False

    async def replay() -> Any:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
