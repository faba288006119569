"""API: the program's coverage of known models (public figures, and the agency's lists)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from airlock.coverage import service
from airlock.coverage.schemas import KnownModelOut, LinkIn, PublicCoverageOut
from airlock.web.deps import ActorDep, ContainerDep, UoWDep

router = APIRouter(tags=["coverage"])
THRESHOLDS = {"1e23": 1e23, "1e25": 1e25, "1e26": 1e26}


@router.get("/public/coverage", response_model=PublicCoverageOut)
def public_coverage(uow: UoWDep, container: ContainerDep) -> PublicCoverageOut:
    """Known models by compute threshold and quarter against those shared (no sign-in)."""
    with uow:
        return service.public_coverage(uow, min_cell=container.settings.public_min_cell)


@router.get("/coverage/known-models", response_model=list[KnownModelOut])
def known_models(
    actor: ActorDep,
    uow: UoWDep,
    q: Annotated[str, Query(max_length=100)] = "",
    unlinked: bool = False,
) -> list[KnownModelOut]:
    """Search the registry of known models by name or developer (coordinators)."""
    with uow:
        rows = service.search_known_models(uow, actor=actor, text=q, unlinked_only=unlinked)
        return [KnownModelOut.model_validate(row) for row in rows]


@router.get("/coverage/blind-spots", response_model=list[KnownModelOut])
def blind_spots(
    actor: ActorDep,
    uow: UoWDep,
    threshold: Annotated[str, Query(pattern="^1e2[356]$")] = "1e25",
    include_uncertain: bool = True,
) -> list[KnownModelOut]:
    """Known models at or possibly above a threshold that were never shared."""
    with uow:
        rows = service.blind_spots(
            uow, actor=actor, threshold=THRESHOLDS[threshold], include_uncertain=include_uncertain
        )
        return [KnownModelOut.model_validate(row) for row in rows]


@router.post("/coverage/known-models/{known_model_id}/link", status_code=201)
def link(known_model_id: str, body: LinkIn, actor: ActorDep, uow: UoWDep) -> dict[str, str]:
    """Record that a known model is a model a firm registered in the program."""
    with uow:
        row = service.link_model(
            uow, actor=actor, known_model_id=known_model_id, model_id=body.model_id
        )
        uow.commit()
        return {"id": row.id, "known_model_id": known_model_id, "model_id": body.model_id}


@router.delete("/coverage/known-models/{known_model_id}/link")
def unlink(known_model_id: str, actor: ActorDep, uow: UoWDep) -> dict[str, str]:
    """End a known model's link (the link stays in the history)."""
    with uow:
        row = service.unlink_model(uow, actor=actor, known_model_id=known_model_id)
        uow.commit()
        return {"id": row.id, "known_model_id": known_model_id, "unlinked": "true"}
