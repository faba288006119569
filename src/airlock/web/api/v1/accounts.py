"""API: who am I, API tokens, members and invitations."""

from __future__ import annotations

from fastapi import APIRouter, Request

from airlock.accounts import rules, service
from airlock.accounts.schemas import (
    AcceptInvitationIn,
    InvitationIn,
    InvitationOut,
    LoginIn,
    MemberOut,
    MeOut,
    NewTokenOut,
    TokenIn,
    TokenOut,
)
from airlock.core.errors import AirlockError
from airlock.web.deps import ActorDep, ContainerDep, UoWDep

router = APIRouter(tags=["accounts"])


@router.get("/me", response_model=MeOut)
def me(actor: ActorDep) -> MeOut:
    """The signed-in user and their role."""
    return MeOut(
        user_id=actor.user_id,
        email=actor.email,
        org_id=actor.org_id,
        org_kind=str(actor.org_kind),
        role=str(actor.role),
    )


@router.post("/auth/token", response_model=NewTokenOut, status_code=201)
def login_for_token(body: LoginIn, uow: UoWDep, container: ContainerDep) -> NewTokenOut:
    """Exchange an email and password for a new API token (for the CLI)."""
    s = container.settings
    with uow:
        try:
            user = service.authenticate(
                uow,
                email=body.email,
                password=body.password,
                max_failures=s.login_max_failures,
                window_seconds=s.login_window_seconds,
            )
        except AirlockError:
            uow.commit()  # keep the failed attempt for throttling
            raise
        actor = service.actor_for(uow, user_id=user.id)
        new = service.create_api_token(uow, actor=actor, name=body.token_name)
        uow.commit()
    return NewTokenOut(**TokenOut.model_validate(new.token).model_dump(), secret=new.secret)


@router.get("/tokens", response_model=list[TokenOut])
def list_tokens(actor: ActorDep, uow: UoWDep) -> list[TokenOut]:
    """The caller's API tokens (never their secrets)."""
    with uow:
        return [TokenOut.model_validate(t) for t in service.list_api_tokens(uow, actor=actor)]


@router.post("/tokens", response_model=NewTokenOut, status_code=201)
def create_token(body: TokenIn, actor: ActorDep, uow: UoWDep) -> NewTokenOut:
    """Create an API token; its secret is in this answer and nowhere else."""
    with uow:
        new = service.create_api_token(uow, actor=actor, name=body.name, days=body.days)
        uow.commit()
    return NewTokenOut(**TokenOut.model_validate(new.token).model_dump(), secret=new.secret)


@router.delete("/tokens/{token_id}", response_model=TokenOut)
def revoke_token(token_id: str, actor: ActorDep, uow: UoWDep) -> TokenOut:
    """Revoke one of the caller's tokens."""
    with uow:
        tok = service.revoke_api_token(uow, actor=actor, token_id=token_id)
        uow.commit()
    return TokenOut.model_validate(tok)


@router.get("/members", response_model=list[MemberOut])
def members(actor: ActorDep, uow: UoWDep) -> list[MemberOut]:
    """The members of the caller's organisation."""
    with uow:
        return [
            MemberOut(user_id=m.user_id, email=m.user.email, role=m.role)
            for m in service.list_members(uow, actor=actor)
        ]


@router.post("/invitations", response_model=InvitationOut, status_code=201)
def invite(
    body: InvitationIn, actor: ActorDep, uow: UoWDep, container: ContainerDep, request: Request
) -> InvitationOut:
    """Invite an email address to a role in the caller's organisation."""
    with uow:
        new = service.invite(
            uow,
            actor=actor,
            email=body.email,
            role=body.role,
            days=container.settings.invitation_days,
        )
        uow.commit()
    out = InvitationOut.model_validate(new.invitation)
    out.accept_url = rules.invitation_link(container.settings.base_url, new.token)
    return out


@router.post("/invitations/accept", response_model=MeOut, status_code=201)
def accept_invitation(body: AcceptInvitationIn, uow: UoWDep) -> MeOut:
    """Create the invited account with a password."""
    with uow:
        user = service.accept_invitation(
            uow, token=body.token, password=body.password, name=body.name
        )
        actor = service.actor_for(uow, user_id=user.id)
        uow.commit()
    return me(actor)
