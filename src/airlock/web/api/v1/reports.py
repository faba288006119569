"""API: the agency builds, audits and publishes transparency report snapshots."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from airlock.publishing import reports
from airlock.publishing.report_models import ReportSnapshot
from airlock.web.deps import ActorDep, UoWDep

router = APIRouter(prefix="/reports", tags=["reports"])


class BuildIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    period: str = Field(min_length=1, max_length=20, description="A quarter (2026Q3) or a year.")


class PublishIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    change: str = Field(default="", max_length=5000, description="What a correction changes.")


class SnapshotOut(BaseModel):
    id: str
    period: str
    state: str
    version: int | None
    min_cell: int
    created_at: datetime
    published_at: datetime | None
    change: str
    content: dict[str, Any]


class IntervalOut(BaseModel):
    key: str
    value: int
    low: float
    high: float
    needed_low: float
    needed_high: float
    protected: bool


class AuditOut(BaseModel):
    passed: bool
    intervals: list[IntervalOut]


def snapshot_out(row: ReportSnapshot) -> SnapshotOut:
    """A snapshot for the agency."""
    return SnapshotOut(
        id=row.id,
        period=row.period,
        state=row.state,
        version=row.version,
        min_cell=row.min_cell,
        created_at=row.created_at,
        published_at=row.published_at,
        change=row.change,
        content=row.content,
    )


@router.post("", response_model=SnapshotOut, status_code=201)
def build(body: BuildIn, actor: ActorDep, uow: UoWDep) -> SnapshotOut:
    """Build a draft snapshot of a period's report (agency admins)."""
    with uow:
        row = reports.build(uow, actor=actor, period=body.period)
        uow.commit()
        return snapshot_out(row)


@router.get("/{snapshot_id}", response_model=SnapshotOut)
def get(snapshot_id: str, actor: ActorDep, uow: UoWDep) -> SnapshotOut:
    """A snapshot, draft or published."""
    with uow:
        return snapshot_out(reports.get(uow, actor=actor, snapshot_id=snapshot_id))


@router.get("/{snapshot_id}/audit", response_model=AuditOut)
def audit(snapshot_id: str, actor: ActorDep, uow: UoWDep) -> AuditOut:
    """Every withheld figure's feasible range against everything published."""
    with uow:
        result = reports.audit(uow, actor=actor, snapshot_id=snapshot_id)
        return AuditOut(
            passed=not result.failing,
            intervals=[
                IntervalOut(
                    key=i.key,
                    value=i.value,
                    low=i.low,
                    high=min(i.high, 1e12),
                    needed_low=i.needed_low,
                    needed_high=i.needed_high,
                    protected=i.protected,
                )
                for i in result.intervals
            ],
        )


@router.post("/{snapshot_id}/publish", response_model=SnapshotOut)
def publish(snapshot_id: str, body: PublishIn, actor: ActorDep, uow: UoWDep) -> SnapshotOut:
    """Publish a draft once its suppression audit passes (agency admins)."""
    with uow:
        row = reports.publish(uow, actor=actor, snapshot_id=snapshot_id, change=body.change)
        uow.commit()
        return snapshot_out(row)
