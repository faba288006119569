"""FastAPI dependencies: the container, a unit of work, the signed-in actor, CSRF."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from airlock.accounts import service as accounts
from airlock.bootstrap import Container
from airlock.cases import notify
from airlock.core.access import Actor
from airlock.core.errors import Forbidden, Unauthenticated
from airlock.core.secrets import same
from airlock.core.uow import UnitOfWork

SESSION_COOKIE = "airlock_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Declared for the OpenAPI document only (auto_error=False: they never refuse a request);
# optional_actor does the checking.
BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="bearerToken",
    description="An API token from your account page or POST /api/v1/auth/token.",
)
COOKIE = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    scheme_name="sessionCookie",
    description="The browser session set by signing in; requests that change something also "
    f"send the session's CSRF token in the `{CSRF_HEADER}` header.",
)


def get_container(request: Request) -> Container:
    """The container the app was built with."""
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


def get_uow(container: ContainerDep) -> Iterator[UnitOfWork]:
    """A fresh unit of work; the route opens it with `with uow:` and commits itself."""
    yield container.uow()


UoWDep = Annotated[UnitOfWork, Depends(get_uow)]


async def _csrf_from_request(request: Request) -> str:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    ctype = request.headers.get("content-type", "")
    if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


async def optional_actor(request: Request, container: ContainerDep) -> Actor | None:
    """The actor behind a bearer token or a session cookie, or None when anonymous.

    A cookie-authenticated request that changes state must carry the session's CSRF token.
    """
    if hasattr(request.state, "actor"):
        cached: Actor | None = request.state.actor
        return cached
    auth = request.headers.get("authorization", "")
    actor: Actor | None = None
    if auth:
        scheme, _, secret = auth.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise Unauthenticated("Authorization header must be 'Bearer <token>'")
        with container.uow() as uow:
            user_id = accounts.user_for_token(uow, secret=secret.strip())
            actor = accounts.actor_for(uow, user_id=user_id)
            request.state.org_name = accounts.organisation_name(uow, org_id=actor.org_id)
            uow.commit()
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            with container.uow() as uow:
                try:
                    ws = accounts.session_for_cookie(uow, cookie=cookie)
                    actor = accounts.actor_for(uow, user_id=ws.user_id)
                except Unauthenticated:
                    if request.method not in SAFE_METHODS:
                        raise
                    actor = None
                else:
                    request.state.csrf_token = ws.csrf_token
                    # for page headers, read here so pages need no second unit of work
                    request.state.org_name = accounts.organisation_name(uow, org_id=actor.org_id)
                    # the header's unread badge, read with the session it belongs to
                    request.state.unread = notify.unread_count(uow, user_id=ws.user_id)
                    if request.method not in SAFE_METHODS:
                        sent = await _csrf_from_request(request)
                        if not sent or not same(sent, ws.csrf_token):
                            raise Forbidden("missing or wrong CSRF token; reload the page")
    request.state.actor = actor
    return actor


async def require_actor(
    actor: Annotated[Actor | None, Depends(optional_actor)],
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)],
    _cookie: Annotated[str | None, Security(COOKIE)],
) -> Actor:
    """The signed-in actor, or 401 (a bearer token or the session cookie, see BEARER, COOKIE)."""
    if actor is None:
        raise Unauthenticated("sign in or send an API token")
    return actor


ActorDep = Annotated[Actor, Depends(require_actor)]
MaybeActorDep = Annotated[Actor | None, Depends(optional_actor)]
