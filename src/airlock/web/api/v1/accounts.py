"""API: who am I, API tokens, members and invitations."""

from __future__ import annotations

from fastapi import APIRouter, Request

from airlock.accounts import mfa, rules, service, throttle
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
from airlock.core.errors import AirlockError, Forbidden, Unauthenticated
from airlock.core.uow import UnitOfWork
from airlock.vault import sealing
from airlock.web.deps import ActorDep, ContainerDep, UoWDep, client_address, writes_need

# Minting tokens and inviting people with a token needs a token that holds every scope, so a
# limited token cannot make itself a broader one.
router = APIRouter(
    tags=["accounts"],
    dependencies=[writes_need(rules.ALL_SCOPES, "managing tokens and people")],
)


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


def _second_factor(
    uow: UnitOfWork, body: LoginIn, user_id: str, address: str, agency: bool
) -> None:
    if mfa.is_enrolled(uow, user_id=user_id):
        if not body.code:
            raise Unauthenticated("this account has a second factor: send its current code as code")
        if not mfa.verify(uow, user_id=user_id, sealer=sealing, code=body.code):
            throttle.record_failure(uow, email=body.email.strip().lower(), address=address)
            raise Unauthenticated("the one-time code is not valid")
    elif agency and uow.services.settings.mfa_required():
        raise Forbidden("set up a second factor on your account page before using the API")


@router.post("/auth/token", response_model=NewTokenOut, status_code=201)
def login_for_token(body: LoginIn, uow: UoWDep, request: Request) -> NewTokenOut:
    """Exchange an email, password (and one-time code once set up) for a new API token."""
    address = client_address(request)
    with uow:
        try:
            user = service.authenticate(
                uow, email=body.email, password=body.password, address=address
            )
            actor = service.actor_for(uow, user_id=user.id)
            _second_factor(uow, body, user.id, address, actor.is_agency)
        except AirlockError:
            uow.commit()  # keep the failed attempt for throttling
            raise
        new = service.create_api_token(
            uow,
            actor=actor,
            name=body.token_name,
            days=body.days,
            scopes=rules.parse_scopes(body.scopes),
        )
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
        new = service.create_api_token(
            uow, actor=actor, name=body.name, days=body.days, scopes=rules.parse_scopes(body.scopes)
        )
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
