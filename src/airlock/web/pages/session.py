"""Pages: sign in, sign out, accept an invitation, API tokens."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from airlock.accounts import members as people
from airlock.accounts import mfa, rules, service
from airlock.accounts.models import Invitation
from airlock.core.access import Actor
from airlock.core.db import utcnow
from airlock.core.errors import AirlockError, Conflict, InvalidInput, NotFound
from airlock.core.roles import Role
from airlock.core.uow import UnitOfWork
from airlock.settings import Settings
from airlock.web.deps import (
    SESSION_COOKIE,
    ActorDep,
    ContainerDep,
    MaybeActorDep,
    UoWDep,
    client_address,
)
from airlock.web.errors import error_headers
from airlock.web.pages import once
from airlock.web.pages.render import form_data, form_lists, page, redirect

router = APIRouter(include_in_schema=False)


def _safe_next(target: str) -> str:
    # Only local paths: never an open redirect to another site.
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


MFA_COOKIE = "airlock_mfa"


def _login_page(
    request: Request, *, next: str, error: str = "", email: str = "", status_code: int = 200
) -> Response:
    settings = request.app.state.container.settings
    response = page(
        request,
        "login.html",
        status_code=status_code,
        next=next,
        error=error,
        email=email[:320],
        sso_label=settings.oidc_label if settings.oidc_enabled() else "",
    )
    return response


def signed_in(target: str, new: service.NewSession, settings: Settings) -> Response:
    """The redirect that sets the new session's cookie."""
    response = redirect(target)
    response.set_cookie(
        SESSION_COOKIE,
        new.cookie,
        max_age=settings.session_hours * 3600,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
        path="/",
    )
    response.delete_cookie(MFA_COOKIE, path="/login")
    return response


@router.get("/login")
def login_form(request: Request, actor: MaybeActorDep, next: str = "/") -> Response:
    """The sign-in form."""
    if actor is not None:
        return redirect(_safe_next(next))
    return _login_page(request, next=_safe_next(next))


@router.post("/login")
async def login(request: Request, uow: UoWDep, container: ContainerDep) -> Response:
    """Check the password; then ask for the second factor, or open a session."""
    data = await form_data(request)
    email, password = data.get("email", ""), data.get("password", "")
    target = _safe_next(data.get("next", "/"))
    s = container.settings
    with uow:
        try:
            user = service.authenticate(
                uow, email=email, password=password, address=client_address(request)
            )
        except AirlockError as exc:
            uow.commit()  # the failed attempt counts towards throttling
            response = _login_page(
                request, next=target, error=str(exc), email=email, status_code=exc.status_code
            )
            response.headers.update(error_headers(exc) or {})
            return response
        if mfa.is_enrolled(uow, user_id=user.id):
            challenge = mfa.start_challenge(uow, user_id=user.id)
            uow.commit()
            response = redirect(f"/login/code?next={quote(target)}")
            response.set_cookie(
                MFA_COOKIE,
                challenge,
                max_age=mfa.CHALLENGE_MINUTES * 60,
                httponly=True,
                secure=s.cookie_secure,
                samesite="lax",
                path="/login",
            )
            return response
        new = service.open_session(uow, user_id=user.id, hours=s.session_hours, method="password")
        uow.commit()
    return signed_in(target, new, s)


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


def account_page(
    request: Request, uow: UnitOfWork, actor: Actor, *, status_code: int = 200, **extra: Any
) -> Response:
    """The account page: API tokens (with scopes, expiry and last use), the second factor,
    the password form; extra carries a new secret or an error to show."""
    settings = request.app.state.container.settings
    context: dict[str, Any] = {
        "tokens": service.list_api_tokens(uow, actor=actor),
        "now": utcnow(),
        "scopes": rules.SCOPES,
        "token_days": settings.api_token_days,
        "mfa_enrolled": mfa.is_enrolled(uow, user_id=actor.user_id),
        "recovery_left": mfa.recovery_codes_left(uow, user_id=actor.user_id),
        "new_secret": "",
        "token_error": "",
        "password_error": "",
    }
    context.update(extra)
    return page(request, "account.html", status_code=status_code, **context)


@router.get("/account")
def account(request: Request, actor: ActorDep, uow: UoWDep) -> Response:
    """The user's account: API tokens, second factor, password."""
    with uow:
        return account_page(request, uow, actor)


@router.post("/account/tokens")
async def new_token(request: Request, actor: ActorDep, uow: UoWDep) -> Response:
    """Create an API token and show its secret once."""
    data = await form_lists(request)

    def one(name: str) -> str:
        values = data.get(name) or [""]
        return values[0]

    with uow:
        again = once.replay(uow, data, actor, "token")
        if again is not None:  # the secret was shown once, by the first post
            return again
        try:
            days_text = one("days").strip()
            if days_text and not days_text.isdigit():
                raise InvalidInput("days: a whole number of days from 1 to 366")
            try:
                scopes = rules.parse_scopes(data.get("scopes") or [])
            except ValueError as exc:
                raise InvalidInput(f"scopes: {exc}") from None
            new = service.create_api_token(
                uow,
                actor=actor,
                name=one("name"),
                days=int(days_text) if days_text else None,
                scopes=scopes,
                unique_name=True,
            )
        except (InvalidInput, Conflict) as exc:
            return account_page(
                request, uow, actor, status_code=exc.status_code, token_error=str(exc)
            )
        once.record(uow, data, actor, "token", "/account")
        uow.commit()
        return account_page(request, uow, actor, new_secret=new.secret)


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
        again = once.replay(uow, data, actor, "invitation")
        if again is not None:  # the link was shown once, by the first post
            return again
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
        once.record(uow, data, actor, "invitation", "/members")
        uow.commit()
        link = rules.invitation_link(container.settings.base_url, new.token)
        return _members_page(request, uow, actor, link=link)
