"""Job handlers of the vault: crypto-shredding when a firm withdraws."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airlock.core import events, jobs
from airlock.core.db import forget_overwritten_pages
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
    # The wrapped keys' old page images must not wait in the SQLite log for reuse.
    uow.after_commit(forget_overwritten_pages, uow.session.get_bind())


events.subscribe(WITHDRAWN_EVENT, SHRED_WITHDRAWN)
