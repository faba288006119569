"""Pages: people and access. An admin renews or revokes pending invitations, changes a
member's role or deactivates a member; everyone changes their own password."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from airlock.accounts import members, rules
from airlock.core.errors import AirlockError
from airlock.core.roles import Role
from airlock.web.deps import SESSION_COOKIE, ActorDep, ContainerDep, UoWDep
from airlock.web.pages.render import form_data, redirect
from airlock.web.pages.session import _members_page, account_page

router = APIRouter(include_in_schema=False)


@router.post("/members/invitations/{invitation_id}/renew")
def renew_invitation(
    invitation_id: str, request: Request, actor: ActorDep, uow: UoWDep, container: ContainerDep
) -> Response:
    """A fresh link for a pending invitation, shown once; the old link stops working."""
    with uow:
        renewed = members.renew_invitation(
            uow,
            actor=actor,
            invitation_id=invitation_id,
            days=container.settings.invitation_days,
        )
        uow.commit()
        link = rules.invitation_link(container.settings.base_url, renewed.token)
        return _members_page(request, uow, actor, link=link)


@router.post("/members/invitations/{invitation_id}/revoke")
def revoke_invitation(invitation_id: str, actor: ActorDep, uow: UoWDep) -> Response:
    """Make a pending invitation's link stop working."""
    with uow:
        members.revoke_invitation(uow, actor=actor, invitation_id=invitation_id)
        uow.commit()
    return redirect("/members", done="invitation_revoked")


@router.post("/members/{user_id}/role")
async def change_role(user_id: str, request: Request, actor: ActorDep, uow: UoWDep) -> Response:
    """Give a member another role."""
    data = await form_data(request)
    with uow:
        try:
            role = Role(data.get("role", ""))
            members.change_role(uow, actor=actor, user_id=user_id, role=role)
        except ValueError:
            return _members_page(request, uow, actor, error="role: unknown role", status_code=422)
        except AirlockError as exc:
            uow.session.rollback()
            return _members_page(request, uow, actor, error=str(exc), status_code=exc.status_code)
        uow.commit()
    return redirect("/members", done="role_changed")


@router.post("/members/{user_id}/deactivate")
async def deactivate(user_id: str, request: Request, actor: ActorDep, uow: UoWDep) -> Response:
    """Stop a member signing in (their sessions and tokens end)."""
    data = await form_data(request)
    with uow:
        try:
            members.deactivate_member(
                uow, actor=actor, user_id=user_id, reason=data.get("reason", "")
            )
        except AirlockError as exc:
            uow.session.rollback()
            return _members_page(request, uow, actor, error=str(exc), status_code=exc.status_code)
        uow.commit()
    return redirect("/members", done="member_deactivated")


@router.post("/account/password")
async def change_password(request: Request, actor: ActorDep, uow: UoWDep) -> Response:
    """Change one's own password; other sessions end, this one stays."""
    data = await form_data(request)
    with uow:
        try:
            if data.get("new_password") != data.get("new_password2"):
                raise ValueError("new password: the two new passwords differ")
            members.change_password(
                uow,
                actor=actor,
                current=data.get("current_password", ""),
                new=data.get("new_password", ""),
                keep_session=request.cookies.get(SESSION_COOKIE, ""),
            )
        except (AirlockError, ValueError) as exc:
            uow.session.rollback()
            status = exc.status_code if isinstance(exc, AirlockError) else 422
            return account_page(
                request,
                uow,
                actor,
                status_code=422 if status == 401 else status,
                password_error=str(exc),
            )
        uow.commit()
    return redirect("/account", done="password_changed")
