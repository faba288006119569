"""Job handlers of the scanning stage: scan every artifact that lands in the vault."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from airlock.core import events, jobs
from airlock.core.uow import UnitOfWork
from airlock.scanning import service
from airlock.scanning.engine import ENGINE_NAME, Limits
from airlock.vault import reading
from airlock.vault.service import ARTIFACT_STORED_EVENT

SCAN_ARTIFACT: Final = "scanning.scan_artifact"


@jobs.handler(SCAN_ARTIFACT, max_attempts=3)
def scan_artifact(uow: UnitOfWork, payload: Mapping[str, Any]) -> None:
    """Scan one artifact with the artifact safety scanner; a second run stores nothing more."""
    artifact_id = str(payload["artifact_id"])
    vault = reading.system_vault(uow)
    plan = service.plan_scan(uow, artifact_id=artifact_id, master=vault.master)
    if plan is None:
        return
    if isinstance(plan, service.ScanOutcome):
        outcome, version = plan, service.ensure_scanner(uow, name=ENGINE_NAME).version
    else:
        version = plan.scanner_version
        # End the planning transaction (it wrote at most the scanner's row) so that none stays
        # open while the file is decrypted and scanned.
        uow.commit()
        outcome = service.run_scan(vault.store, plan, scratch=vault.scratch, limits=Limits())
    service.record_scan(
        uow, artifact_id=artifact_id, name=ENGINE_NAME, version=version, outcome=outcome
    )


events.subscribe(ARTIFACT_STORED_EVENT, SCAN_ARTIFACT)
