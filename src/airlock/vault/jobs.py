"""Job handlers of the vault: crypto-shredding when a firm withdraws."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airlock.core import events, jobs
from airlock.core.uow import UnitOfWork
from airlock.enrollment.service import WITHDRAWN_EVENT
from airlock.vault import service

SHRED_WITHDRAWN = "vault.shred_withdrawn"


@jobs.handler(SHRED_WITHDRAWN)
def shred_withdrawn(uow: UnitOfWork, payload: Mapping[str, Any]) -> None:
    """Destroy a withdrawn firm's organisation key (safe to run twice)."""
    service.shred_organisation(uow, org_id=str(payload["org_id"]), actor=None)


events.subscribe(WITHDRAWN_EVENT, SHRED_WITHDRAWN)
