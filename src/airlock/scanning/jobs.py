"""Job handlers of the scanning stage: run registered checks when their events happen.

Two jobs per check run, so that no handler commits part-way: `checks.plan:<check>` (one per
check, subscribed to the check's trigger event) decides whether the check should run and
queues `checks.run`, which runs it and records the result in the job's own transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from airlock.core import events, jobs
from airlock.core.uow import UnitOfWork
from airlock.scanning import registry, service
from airlock.scanning.models import AUTO_REQUEST

PLAN_PREFIX: Final = "checks.plan:"


def plan_job_name(check_name: str) -> str:
    """The job that plans a run of the check when its trigger event is published."""
    return PLAN_PREFIX + check_name


@jobs.handler(service.RUN_CHECK, max_attempts=3)
def run_check(uow: UnitOfWork, payload: Mapping[str, Any]) -> None:
    """Run one check on one subject; a second run of the same request stores nothing more."""
    service.execute_check(
        uow,
        name=str(payload["check"]),
        subject_id=str(payload["subject_id"]),
        request_key=str(payload.get("request_key", AUTO_REQUEST)),
    )


def _subscribe(check: registry.Check[Any]) -> None:
    """Give the check a planning job and subscribe it to the check's trigger event."""
    name = plan_job_name(check.name)
    key = check.subject.payload_key

    def plan(uow: UnitOfWork, payload: Mapping[str, Any]) -> None:
        service.queue_run(uow, name=check.name, subject_id=str(payload[key]))

    plan.__doc__ = f"Queue a run of {check.name} on the {check.subject} named by the event."
    jobs.handler(name, max_attempts=3)(plan)
    events.subscribe(check.trigger, name)


registry.on_register(_subscribe)
