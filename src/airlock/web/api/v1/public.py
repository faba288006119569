"""API: the public site's pages as JSON (no sign-in): home, reports, advisories."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from airlock.publishing import public_site, reports
from airlock.publishing.public_schemas import (
    AdvisoryOut,
    AdvisorySummaryOut,
    HomeOut,
    ReportOut,
    ReportSummaryOut,
)
from airlock.web.deps import ContainerDep, UoWDep

router = APIRouter(prefix="/public", tags=["public"])
PERIOD = r"^\d{4}(Q[1-4])?$"


@router.get("/home", response_model=HomeOut)
def home(uow: UoWDep, container: ContainerDep) -> HomeOut:
    """Participation figures, named participants, the latest reports and advisories."""
    with uow:
        return public_site.home(uow, min_cell=container.settings.public_min_cell)


@router.get("/reports", response_model=list[ReportSummaryOut])
def report_list(uow: UoWDep) -> list[ReportSummaryOut]:
    """The newest version of every published transparency report."""
    with uow:
        return public_site.report_summaries(uow)


@router.get("/reports/{period}", response_model=ReportOut)
def report(
    period: Annotated[str, Path(pattern=PERIOD, max_length=6)],
    uow: UoWDep,
    version: Annotated[int | None, Query(ge=1, le=10_000)] = None,
) -> ReportOut:
    """A published transparency report (its newest version unless one is asked for)."""
    with uow:
        snapshot = reports.public_get(uow, period=period, version=version)
        return public_site.report_out(uow, snapshot)


@router.get("/advisories", response_model=list[AdvisorySummaryOut])
def advisory_list(uow: UoWDep) -> list[AdvisorySummaryOut]:
    """Every published advisory, newest first."""
    with uow:
        return public_site.advisory_summaries(uow)


@router.get("/advisories/{tracking_id}", response_model=AdvisoryOut)
def advisory(tracking_id: str, uow: UoWDep) -> AdvisoryOut:
    """One published advisory."""
    with uow:
        return public_site.advisory(uow, tracking_id=tracking_id[:60])


@router.get("/advisories/{tracking_id}/csaf")
def advisory_csaf(tracking_id: str, uow: UoWDep) -> dict[str, Any]:
    """One published advisory as a CSAF 2.0 document."""
    with uow:
        return public_site.csaf(uow, tracking_id=tracking_id[:60])


@router.get("/advisories/{tracking_id}/avid")
def advisory_avid(tracking_id: str, uow: UoWDep) -> dict[str, Any]:
    """One published advisory as an AVID report."""
    with uow:
        return public_site.avid(uow, tracking_id=tracking_id[:60])
