"""Domain events that later stages react to through jobs, so no stage imports a later one."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from airlock.core.uow import UnitOfWork

_SUBSCRIBERS: defaultdict[str, list[str]] = defaultdict(list)


def subscribe(event: str, job_name: str) -> None:
    """Run the job called job_name (with the event's payload) whenever event is published."""
    if job_name not in _SUBSCRIBERS[event]:
        _SUBSCRIBERS[event].append(job_name)


def unsubscribe(event: str, job_name: str) -> None:
    """Stop running job_name on event (tests that subscribe a probe clean up with this)."""
    if job_name in _SUBSCRIBERS[event]:
        _SUBSCRIBERS[event].remove(job_name)


def publish(uow: UnitOfWork, event: str, payload: dict[str, Any]) -> list[str]:
    """Queue every subscriber's job in uow's transaction; return the job ids."""
    return [uow.enqueue(job_name, payload) for job_name in _SUBSCRIBERS[event]]
