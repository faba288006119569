"""Pages: sign in, sign out, accept an invitation, API tokens."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from airlock.accounts import members as people
from airlock.accounts import rules, service
from airlock.accounts.models import Invitation
from airlock.core.access import Actor
from airlock.core.db import utcnow
from airlock.core.errors import AirlockError, Conflict, InvalidInput, NotFound
from airlock.core.roles import Role
from airlock.core.uow import UnitOfWork
from airlock.web.deps import SESSION_COOKIE, ActorDep, ContainerDep, MaybeActorDep, UoWDep
from airlock.web.pages.render import form_data, page, redirect

router = APIRouter(include_in_schema=False)


def _safe_next(target: str) -> str:
    # Only local paths: never an open redirect to another site.
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@router.get("/login")
def login_form(request: Request, actor: MaybeActorDep, next: str = "/") -> Response:
    """The sign-in form."""
    if actor is not None:
        return redirect(_safe_next(next))
    return page(request, "login.html", next=_safe_next(next), error="", email="")


@router.post("/login")
async def login(request: Request, uow: UoWDep, container: ContainerDep) -> Response:
    """Check the password, open a session and set its cookie."""
    data = await form_data(request)
    email, password = data.get("email", ""), data.get("password", "")
    target = _safe_next(data.get("next", "/"))
    s = container.settings
    with uow:
        try:
            new = service.sign_in(
                uow,
                email=email,
                password=password,
                hours=s.session_hours,
                max_failures=s.login_max_failures,
                window_seconds=s.login_window_seconds,
            )
        except AirlockError as exc:
            uow.commit()  # the failed attempt counts towards throttling
            return page(
                request,
                "login.html",
                status_code=exc.status_code,
                next=target,
                error=str(exc),
                email=email[:320],
            )
        uow.commit()
    response = redirect(target)
    response.set_cookie(
        SESSION_COOKIE,
        new.cookie,
        max_age=s.session_hours * 3600,
        httponly=True,
        secure=s.cookie_secure,
        samesite="lax",
        path="/",
    )
    return response


@router.post("/logout")
def logout(request: Request, actor: ActorDep, uow: UoWDep) -> Response:
    """End the session (the CSRF check ran in the actor dependency)."""
    cookie = request.cookies.get(SESSION_COOKIE, "")
    with uow:
        service.sign_out(uow, cookie=cookie)
        uow.commit()
    response = redirect("/login", done="signed_out")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/invitations")
def invitation_start(request: Request) -> Response:
    """Where an invitation link lands: a form that posts the code from the link's fragment."""
    return page(request, "invitation_open.html", error="")


def _invitation_or_page(request: Request, uow: UnitOfWork, token: str) -> Invitation | Response:
    try:
        return service.invitation_for_token(uow, token=token)
    except NotFound as exc:
        # The invitee holds the secret, so telling them it expired leaks nothing.
        return page(request, "invitation_open.html", status_code=404, error=str(exc))


@router.post("/invitations/open")
async def invitation_form(request: Request, uow: UoWDep) -> Response:
    """The form that sets the invited user's password (changes nothing, so no redirect)."""
    data = await form_data(request)
    token = data.get("token", "").strip()
    with uow:
        inv = _invitation_or_page(request, uow, token)
        if isinstance(inv, Response):
            return inv
        return page(
            request, "invitation.html", email=inv.email, role=inv.role, token=token, error=""
        )


@router.post("/invitations/accept")
async def accept_invitation(request: Request, uow: UoWDep) -> Response:
    """Create the invited account, then ask them to sign in."""
    data = await form_data(request)
    token = data.get("token", "").strip()
    with uow:
        inv = _invitation_or_page(request, uow, token)
        if isinstance(inv, Response):
            return inv
        email, role = inv.email, inv.role
        if data.get("password", "") != data.get("password2", ""):
            return page(
                request,
                "invitation.html",
                status_code=422,
                email=email,
                role=role,
                token=token,
                error="the two passwords differ",
            )
        try:
            service.accept_invitation(
                uow, token=token, password=data.get("password", ""), name=data.get("name", "")
            )
        except InvalidInput as exc:
            return page(
                request,
                "invitation.html",
                status_code=422,
                email=email,
                role=role,
                token=token,
                error=str(exc),
            )
        uow.commit()
    return redirect("/login", done="account_created")


@router.get("/account")
def account(request: Request, actor: ActorDep, uow: UoWDep) -> Response:
    """The user's account: API tokens."""
    with uow:
        tokens = service.list_api_tokens(uow, actor=actor)
        return page(request, "account.html", tokens=tokens, new_secret="")


@router.post("/account/tokens")
async def new_token(request: Request, actor: ActorDep, uow: UoWDep) -> Response:
    """Create an API token and show its secret once."""
    data = await form_data(request)
    with uow:
        try:
            new = service.create_api_token(
                uow, actor=actor, name=data.get("name", ""), unique_name=True
            )
        except (InvalidInput, Conflict) as exc:
            tokens = service.list_api_tokens(uow, actor=actor)
            return page(
                request,
                "account.html",
                status_code=exc.status_code,
                tokens=tokens,
                new_secret="",
                token_error=str(exc),
            )
        uow.commit()
        tokens = service.list_api_tokens(uow, actor=actor)
        return page(request, "account.html", tokens=tokens, new_secret=new.secret)


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token(token_id: str, actor: ActorDep, uow: UoWDep) -> Response:
    """Revoke a token."""
    with uow:
        service.revoke_api_token(uow, actor=actor, token_id=token_id)
        uow.commit()
    return redirect("/account", done="token_revoked")


def _members_page(
    request: Request,
    uow: UnitOfWork,
    actor: Actor,
    *,
    link: str = "",
    error: str = "",
    status_code: int = 200,
) -> Response:
    members = service.list_members(uow, actor=actor)
    roles = sorted(r.value for r in rules.INVITERS.get(actor.role, frozenset()))
    return page(
        request,
        "members.html",
        status_code=status_code,
        members=members,
        roles=roles,
        invitations=people.pending_invitations(uow, actor=actor) if roles else [],
        now=utcnow(),
        link=link,
        error=error,
    )


@router.get("/members")
def members(request: Request, actor: ActorDep, uow: UoWDep) -> Response:
    """The members of the user's organisation, with an invitation form for admins."""
    with uow:
        return _members_page(request, uow, actor)


@router.post("/members/invite")
async def invite_member(
    request: Request, actor: ActorDep, uow: UoWDep, container: ContainerDep
) -> Response:
    """Invite an email address to a role; the one-time link is shown to the admin."""
    data = await form_data(request)
    with uow:
        try:
            role = Role(data.get("role", ""))
        except ValueError:
            return _members_page(request, uow, actor, error="role: unknown role", status_code=422)
        try:
            new = service.invite(
                uow,
                actor=actor,
                email=data.get("email", ""),
                role=role,
                days=container.settings.invitation_days,
            )
        except (InvalidInput, Conflict) as exc:
            return _members_page(request, uow, actor, error=str(exc), status_code=exc.status_code)
        uow.commit()
        link = rules.invitation_link(container.settings.base_url, new.token)
        return _members_page(request, uow, actor, link=link)
