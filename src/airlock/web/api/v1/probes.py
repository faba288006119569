"""API: the firm registers the API key of its submission's evaluation endpoint (sealed under
its key, never shown again)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from airlock.probes import credentials
from airlock.web.deps import ActorDep, UoWDep

router = APIRouter(tags=["probes"])


class EndpointKeyIn(BaseModel):
    """The key the probes send as a bearer token."""

    model_config = ConfigDict(extra="forbid")

    api_key: str = Field(min_length=1, max_length=credentials.MAX_KEY_CHARS, repr=False)


class EndpointKeyOut(BaseModel):
    """Whether a key is registered, and since when (the key itself is never returned)."""

    submission_id: str
    set: bool
    set_at: datetime | None


@router.get("/submissions/{submission_id}/endpoint-key", response_model=EndpointKeyOut)
def get_endpoint_key(submission_id: str, actor: ActorDep, uow: UoWDep) -> EndpointKeyOut:
    """Whether the firm registered a key for the evaluation endpoint."""
    with uow:
        at = credentials.key_set_at(uow, actor=actor, submission_id=submission_id)
        return EndpointKeyOut(submission_id=submission_id, set=at is not None, set_at=at)


@router.put("/submissions/{submission_id}/endpoint-key", response_model=EndpointKeyOut)
def put_endpoint_key(
    submission_id: str, body: EndpointKeyIn, actor: ActorDep, uow: UoWDep
) -> EndpointKeyOut:
    """Register or replace the evaluation endpoint's key (firms with the eval_endpoint scope)."""
    with uow:
        at = credentials.set_key(
            uow, actor=actor, submission_id=submission_id, api_key=body.api_key
        )
        uow.commit()
        return EndpointKeyOut(submission_id=submission_id, set=True, set_at=at)


@router.delete("/submissions/{submission_id}/endpoint-key", status_code=204)
def delete_endpoint_key(submission_id: str, actor: ActorDep, uow: UoWDep) -> Response:
    """Withdraw the key: probes then go without one."""
    with uow:
        credentials.clear_key(uow, actor=actor, submission_id=submission_id)
        uow.commit()
    return Response(status_code=204)
