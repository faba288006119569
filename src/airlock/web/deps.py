"""FastAPI dependencies: the container, a unit of work, the signed-in actor, CSRF."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from airlock.accounts import mfa
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


def client_address(request: Request) -> str:
    """The address a request came from (the proxy's, unless uvicorn trusts its headers)."""
    return request.client.host if request.client else "unknown"


# Where an agency account that must still set up its second factor may go.
_ENROLMENT_PATHS = ("/account/mfa", "/logout")


def _enrolment_gate(request: Request, uow: UnitOfWork, actor: Actor, method: str) -> None:
    settings = request.app.state.container.settings
    if not (settings.mfa_required() and actor.is_agency and method == "password"):
        return
    if request.url.path.startswith(_ENROLMENT_PATHS):
        return
    if not mfa.is_enrolled(uow, user_id=actor.user_id):
        raise mfa.EnrolmentRequired(
            "set up your second factor (an authenticator app) before you continue"
        )


def _token_holder(container: Container, secret: str) -> tuple[accounts.TokenGrant, Actor, str]:
    """The grant, actor and organisation name behind an API token (its use recorded)."""
    with container.uow() as uow:
        grant = accounts.user_for_token(uow, secret=secret)
        actor = accounts.actor_for(uow, user_id=grant.user_id)
        org_name = accounts.organisation_name(uow, org_id=actor.org_id)
        uow.commit()  # last_used_at, even when the scope check refuses
    return grant, actor, org_name


def _session_holder(
    request: Request, container: Container, cookie: str
) -> tuple[Actor, str, str, int] | None:
    """The actor, CSRF token, organisation name and unread count of a browser session (None:
    no live session, for a request that only reads)."""
    with container.uow() as uow:
        try:
            ws = accounts.session_for_cookie(uow, cookie=cookie)
            actor = accounts.actor_for(uow, user_id=ws.user_id)
        except Unauthenticated:
            if request.method not in SAFE_METHODS:
                raise
            return None
        _enrolment_gate(request, uow, actor, ws.auth_method)
        # for page headers, read here so pages need no second unit of work; the header's
        # unread badge, read with the session it belongs to
        org_name = accounts.organisation_name(uow, org_id=actor.org_id)
        return actor, ws.csrf_token, org_name, notify.unread_count(uow, user_id=ws.user_id)


async def optional_actor(request: Request, container: ContainerDep) -> Actor | None:
    """The actor behind a bearer token or a session cookie, or None when anonymous.

    A bearer token must carry the scope the request needs (accounts.rules.scope_needed); a
    cookie-authenticated request that changes state must carry the session's CSRF token; an
    agency session that must still enrol its second factor is sent to enrolment.
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
        # Database work runs in a worker thread (here and for cookies below): it must not
        # stall the event loop, which receives every other request's body meanwhile.
        grant, holder, org_name = await run_in_threadpool(_token_holder, container, secret.strip())
        request.state.token_scopes = grant.scopes
        request.state.org_name = org_name
        actor = holder
        accounts.require_scope(grant, method=request.method, actor=holder)
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            held = await run_in_threadpool(_session_holder, request, container, cookie)
            if held is not None:
                actor, csrf_token, request.state.org_name, request.state.unread = held
                request.state.csrf_token = csrf_token
                if request.method not in SAFE_METHODS:
                    sent = await _csrf_from_request(request)
                    if not sent or not same(sent, csrf_token):
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


def writes_need(scopes: frozenset[str], what: str) -> Any:
    """A router dependency: a bearer token changing anything there must carry all of scopes
    (for example minting tokens or inviting people needs a token with every scope)."""

    async def check(request: Request, container: ContainerDep) -> None:
        # Only bearer tokens carry scopes; anonymous and cookie requests are left to the
        # routes (the sign-in endpoint must not start checking a stray session cookie).
        if request.method in SAFE_METHODS or not request.headers.get("authorization"):
            return
        await optional_actor(request, container)
        held: frozenset[str] | None = getattr(request.state, "token_scopes", None)
        if held is not None and not scopes <= held:
            missing = " ".join(sorted(scopes - held))
            raise Forbidden(f"{what} needs a token with the scopes {missing!r} as well")

    return Depends(check)
