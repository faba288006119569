"""Job handlers of the vault: crypto-shredding when a firm withdraws."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airlock.core import events, jobs
from airlock.core.uow import UnitOfWork
from airlock.enrollment.service import WITHDRAWN_EVENT
from airlock.vault import keyring

SHRED_WITHDRAWN = "vault.shred_withdrawn"


@jobs.handler(SHRED_WITHDRAWN)
def shred_withdrawn(uow: UnitOfWork, payload: Mapping[str, Any]) -> None:
    """Destroy a withdrawn firm's organisation key, then its ciphertext (safe to run twice)."""
    org_id = str(payload["org_id"])
    keyring.shred_organisation(uow, org_id=org_id, actor=None)
    keys = keyring.objects_of_organisation(uow, org_id=org_id)
    uow.after_commit(keyring.delete_objects, uow.services.blob_store, keys)


events.subscribe(WITHDRAWN_EVENT, SHRED_WITHDRAWN)
