"""API: advisories drafted from cases, their revisions and moves, and their exports."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter

from airlock.core.uow import UnitOfWork
from airlock.publishing import advisories, advisories_export
from airlock.publishing.advisories_models import Advisory
from airlock.publishing.advisories_rules import AdvisoryState
from airlock.publishing.advisories_schemas import (
    AdvisoryIn,
    AdvisoryOut,
    MoveIn,
    RevisionIn,
    RevisionOut,
)
from airlock.web.deps import ActorDep, UoWDep

router = APIRouter(tags=["advisories"])


def advisory_out(uow: UnitOfWork, adv: Advisory) -> AdvisoryOut:
    """An advisory with every revision."""
    return AdvisoryOut(
        id=adv.id,
        case_id=adv.case_id,
        tracking_id=adv.tracking_id,
        state=adv.state,
        published_at=adv.published_at,
        revisions=[
            RevisionOut.model_validate(r) for r in advisories.revisions(uow, advisory_id=adv.id)
        ],
    )


@router.post("/cases/{case_id}/advisories", response_model=AdvisoryOut, status_code=201)
def draft(case_id: str, body: AdvisoryIn, actor: ActorDep, uow: UoWDep) -> AdvisoryOut:
    """Draft an advisory from a case's notified findings (coordinators)."""
    with uow:
        adv = advisories.draft(
            uow,
            actor=actor,
            case_id=case_id,
            title=body.title,
            summary=body.summary,
            vulnerabilities=body.vulnerabilities,
        )
        uow.commit()
        return advisory_out(uow, adv)


@router.get("/advisories/{advisory_id}", response_model=AdvisoryOut)
def get(advisory_id: str, actor: ActorDep, uow: UoWDep) -> AdvisoryOut:
    """An advisory and its revisions."""
    with uow:
        return advisory_out(uow, advisories.get(uow, actor=actor, advisory_id=advisory_id))


@router.post("/advisories/{advisory_id}/revisions", response_model=AdvisoryOut, status_code=201)
def revise(advisory_id: str, body: RevisionIn, actor: ActorDep, uow: UoWDep) -> AdvisoryOut:
    """Append a revision (a published advisory becomes updated)."""
    with uow:
        advisories.revise(
            uow,
            actor=actor,
            advisory_id=advisory_id,
            title=body.title,
            summary=body.summary,
            change=body.change,
            vulnerabilities=body.vulnerabilities,
        )
        uow.commit()
        return advisory_out(uow, advisories.get(uow, actor=actor, advisory_id=advisory_id))


@router.post("/advisories/{advisory_id}/moves", response_model=AdvisoryOut)
def move(advisory_id: str, body: MoveIn, actor: ActorDep, uow: UoWDep) -> AdvisoryOut:
    """Send to review, approve, publish or withdraw."""
    with uow:
        adv = advisories.move(
            uow,
            actor=actor,
            advisory_id=advisory_id,
            target=AdvisoryState(body.target),
            reason=body.reason,
        )
        uow.commit()
        return advisory_out(uow, adv)


@router.get("/advisories/{advisory_id}/export")
def export(
    advisory_id: str, actor: ActorDep, uow: UoWDep, format: Literal["csaf", "avid"] = "csaf"
) -> dict[str, Any]:
    """The advisory as CSAF 2.0 or as an AVID report (refused while the case is embargoed)."""
    with uow:
        if format == "avid":
            return advisories_export.avid(uow, actor=actor, advisory_id=advisory_id)
        return advisories_export.csaf(uow, actor=actor, advisory_id=advisory_id)
