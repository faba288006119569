"""API: the firm's participation in the program, and the agency's view of firms."""

from __future__ import annotations

from fastapi import APIRouter

from airlock.core.errors import InvalidInput
from airlock.enrollment import service
from airlock.enrollment.schemas import (
    EnrollIn,
    FirmOut,
    ParticipationOut,
    PublicNameIn,
    ScopesIn,
    StateIn,
    WithdrawIn,
)
from airlock.web.deps import ActorDep, UoWDep

router = APIRouter(tags=["participation"])


@router.get("/participation", response_model=ParticipationOut)
def my_participation(actor: ActorDep, uow: UoWDep) -> ParticipationOut:
    """The caller's firm's participation: state, agreement and scopes."""
    with uow:
        p = service.get_participation(uow, actor=actor, org_id=actor.org_id)
        return ParticipationOut.model_validate(p)


@router.post("/participation/enroll", response_model=ParticipationOut)
def enroll(body: EnrollIn, actor: ActorDep, uow: UoWDep) -> ParticipationOut:
    """Sign the participation agreement and choose the scopes to share."""
    with uow:
        p = service.enroll(
            uow,
            actor=actor,
            agreement_version=body.agreement_version,
            scopes=[s.value for s in body.scopes],
        )
        uow.commit()
        return ParticipationOut.model_validate(p)


@router.put("/participation/scopes", response_model=ParticipationOut)
def change_scopes(body: ScopesIn, actor: ActorDep, uow: UoWDep) -> ParticipationOut:
    """Change what the firm shares from now on."""
    with uow:
        p = service.change_scopes(uow, actor=actor, scopes=[s.value for s in body.scopes])
        uow.commit()
        return ParticipationOut.model_validate(p)


@router.put("/participation/public-name", response_model=ParticipationOut)
def public_name(body: PublicNameIn, actor: ActorDep, uow: UoWDep) -> ParticipationOut:
    """Say whether the public site may name the firm as a participant (off by default)."""
    with uow:
        p = service.set_public_name_consent(uow, actor=actor, consent=body.consent)
        uow.commit()
        return ParticipationOut.model_validate(p)


@router.post("/participation/withdraw", response_model=ParticipationOut)
def withdraw(body: WithdrawIn, actor: ActorDep, uow: UoWDep) -> ParticipationOut:
    """Leave the program; the firm's confidential data is destroyed."""
    if not body.confirm:
        raise InvalidInput("confirm: must be true to withdraw")
    with uow:
        p = service.withdraw(uow, actor=actor, reason=body.reason)
        uow.commit()
        return ParticipationOut.model_validate(p)


@router.get("/firms", response_model=list[FirmOut])
def firms(actor: ActorDep, uow: UoWDep) -> list[FirmOut]:
    """Every participating firm and its state, for agency staff."""
    with uow:
        return [
            FirmOut(org_id=o.id, name=o.name, state=p.state, scopes=list(p.scopes))
            for o, p in service.list_firms(uow, actor=actor)
        ]


@router.post("/firms/{org_id}/participation", response_model=ParticipationOut)
def set_firm_state(org_id: str, body: StateIn, actor: ActorDep, uow: UoWDep) -> ParticipationOut:
    """Agency staff activate, suspend or reactivate a firm."""
    with uow:
        p = service.set_state(
            uow, actor=actor, org_id=org_id, target=body.state, reason=body.reason
        )
        uow.commit()
        return ParticipationOut.model_validate(p)
