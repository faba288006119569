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


FLAKY = "test.flaky"
ALWAYS_FAILS = "test.always_fails"


def _own_job(uow: UnitOfWork, payload: Mapping[str, Any]) -> Job:
    text = json.dumps(dict(payload), sort_keys=True)
    return uow.session.scalars(select(Job).where(Job.payload == text)).one()


@handler(FLAKY, max_attempts=5)
def flaky(uow: UnitOfWork, payload: Mapping[str, Any]) -> None:
    """Fail on the first `fails` attempts, then record the run like `test.slow_mark`."""
    job = _own_job(uow, payload)
    if job.attempts <= int(payload.get("fails", 0)):
        raise RuntimeError(f"planned failure on attempt {job.attempts}")
    audit.append(
        uow.session,
        action=RAN,
        actor_label="test-worker",
        object_type="job",
        object_id=job.id,
        detail={"key": str(payload.get("key", ""))},
    )


@handler(ALWAYS_FAILS, max_attempts=3)
def always_fails(uow: UnitOfWork, payload: Mapping[str, Any]) -> None:
    """Never succeeds: the job must end `failed` after exactly max_attempts attempts."""
    raise RuntimeError("planned failure")
