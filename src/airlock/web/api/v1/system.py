"""API: the dossier schema, the audit trail, health."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import select

from airlock.core import audit
from airlock.core.access import authorize
from airlock.dossiers import validation
from airlock.web.deps import ActorDep, UoWDep

router = APIRouter(tags=["system"])


@router.get("/health")
def health(uow: UoWDep) -> dict[str, str]:
    """Whether the server and its database answer."""
    with uow:
        uow.session.execute(select(1))
    return {"status": "ok"}


@router.get("/schemas/dossier")
def dossier_schema(version: Annotated[str, Query(max_length=16)] = "") -> dict[str, Any]:
    """The dossier JSON Schema (draft 2020-12), the current version unless one is asked for."""
    return validation.load_schema(version or validation.SCHEMA_VERSION)


class AuditOut(BaseModel):
    seq: int
    at: str
    actor_label: str
    action: str
    object_type: str
    object_id: str
    org_id: str | None
    detail: dict[str, Any]
    hash: str


class VerifyOut(BaseModel):
    ok: bool
    rows: int
    problem: str
    bad_seq: int | None


@router.get("/audit", response_model=list[AuditOut])
def audit_trail(
    actor: ActorDep,
    uow: UoWDep,
    before: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[AuditOut]:
    """The audit trail, newest first, for auditors and the agency admin."""
    authorize(actor, "audit.read")
    with uow:
        stmt = select(audit.AuditEvent).order_by(audit.AuditEvent.seq.desc()).limit(limit)
        if before:
            stmt = stmt.where(audit.AuditEvent.seq < before)
        return [
            AuditOut(
                seq=e.seq,
                at=e.at.isoformat(),
                actor_label=e.actor_label,
                action=e.action,
                object_type=e.object_type,
                object_id=e.object_id,
                org_id=e.org_id,
                detail=json.loads(e.detail),
                hash=e.hash,
            )
            for e in uow.session.scalars(stmt)
        ]


@router.get("/audit/verify", response_model=VerifyOut)
def audit_verify(actor: ActorDep, uow: UoWDep) -> VerifyOut:
    """Walk the hash chain and name the first altered or missing row."""
    authorize(actor, "audit.read")
    with uow:
        r = audit.verify_chain(uow.session)
    return VerifyOut(ok=r.ok, rows=r.rows, problem=r.problem, bad_seq=r.bad_seq)
