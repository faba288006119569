"""Job handlers for tests only, loaded by workers through AIRLOCK_JOB_MODULES.

`test.slow_mark` opens its transaction, sleeps `seconds` from the payload inside it, then
appends one `test.job_ran` audit row naming the job. Its effect and the job's `done` mark
commit together, so counting those rows counts the runs that took effect.

Handlers get the payload, not the job id, so the payload carries a unique `key`; the handler
finds its job row by that payload and writes the job id into the audit row.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from airlock.core import audit
from airlock.core.jobs import Job, handler
from airlock.core.uow import UnitOfWork

SLOW_MARK = "test.slow_mark"
RAN = "test.job_ran"


@handler(SLOW_MARK, max_attempts=5)
def slow_mark(uow: UnitOfWork, payload: Mapping[str, Any]) -> None:
    """Sleep inside the handler's transaction, then record that this job ran."""
    text = json.dumps(dict(payload), sort_keys=True)
    job_id = uow.session.scalars(select(Job.id).where(Job.payload == text)).first()
    time.sleep(float(payload.get("seconds", 0)))
    audit.append(
        uow.session,
        action=RAN,
        actor_label="test-worker",
        object_type="job",
        object_id=str(job_id or ""),
        detail={"key": str(payload.get("key", ""))},
    )
