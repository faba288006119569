"""Job handlers of the submissions stage."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airlock.core import audit, events, jobs
from airlock.core.uow import UnitOfWork
from airlock.enrollment.service import WITHDRAWN_EVENT
from airlock.submissions import service

REDACT_WITHDRAWN = "submissions.redact_withdrawn"


@jobs.handler(REDACT_WITHDRAWN)
def redact_withdrawn(uow: UnitOfWork, payload: Mapping[str, Any]) -> None:
    """Replace a withdrawn firm's confidential dossier fields by redaction markers."""
    org_id = str(payload["org_id"])
    count = service.redact_organisation(uow, org_id=org_id)
    audit.append(
        uow.session,
        action="dossier.redacted_on_withdrawal",
        actor_label="system",
        object_type="organisation",
        object_id=org_id,
        org_id=org_id,
        detail={"submissions": count},
    )


events.subscribe(WITHDRAWN_EVENT, REDACT_WITHDRAWN)
