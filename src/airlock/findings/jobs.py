"""Job handlers of the findings stage: every recorded check run feeds the triage queue."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from airlock.core import events, jobs
from airlock.core.uow import UnitOfWork
from airlock.findings import ingest
from airlock.scanning.registry import CHECK_RECORDED_EVENT

INGEST_JOB: Final = "findings.ingest"


@jobs.handler(INGEST_JOB, max_attempts=5)
def ingest_check_run(uow: UnitOfWork, payload: Mapping[str, Any]) -> None:
    """Make or extend draft findings from one recorded check run (safe to run twice)."""
    ingest.ingest_run(uow, run_id=str(payload["run_id"]))


events.subscribe(CHECK_RECORDED_EVENT, INGEST_JOB)
