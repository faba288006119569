"""Periodic tasks declared in code, and the tick that makes them and delayed jobs run.

Everything the schedule knows lives in job rows, so whatever runs `tick` (a thread of the
server, Celery beat, any number of them) can die without losing anything:

- a periodic task gets one job row per due slot, with a unique `slot` key; two ticks that
  race for the same slot both try to insert it and one of them fails, so a slot runs once;
- a delayed job is a row whose `run_at` is ahead; a tick claims it with a compare-and-set on
  `dispatched_at` and sends it once it is due, and the lost-job sweep resends it if that
  message is lost.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from airlock.core import jobs
from airlock.core.db import utcnow
from airlock.core.ports import JobQueue

if TYPE_CHECKING:
    from airlock.core.uow import UnitOfWork
    from airlock.settings import Settings

log = logging.getLogger(__name__)

EPOCH: Final = datetime(2000, 1, 1, tzinfo=UTC)
Interval = timedelta | Callable[["Settings"], timedelta]


@dataclass(frozen=True)
class Periodic:
    """A task run once per interval: its job name and how often (fixed or from settings)."""

    name: str
    every: Interval

    def interval(self, settings: Settings) -> timedelta:
        """The interval under these settings (at least one second)."""
        value = self.every(settings) if callable(self.every) else self.every
        return max(value, timedelta(seconds=1))


_PERIODIC: dict[str, Periodic] = {}


def periodic(
    name: str, *, every: Interval, max_attempts: int = 3
) -> Callable[[jobs.Handler], jobs.Handler]:
    """Register fn as the handler of a task run once every `every`; its payload is
    {"slot": the slot's start, ISO 8601}."""

    def register(fn: jobs.Handler) -> jobs.Handler:
        jobs.handler(name, max_attempts=max_attempts)(fn)
        _PERIODIC[name] = Periodic(name, every)
        return fn

    return register


def periodic_tasks() -> list[Periodic]:
    """Every registered periodic task, by name."""
    return [_PERIODIC[name] for name in sorted(_PERIODIC)]


def slot_start(now: datetime, interval: timedelta) -> datetime:
    """The start of the slot of length interval that now falls in (slots count from 2000)."""
    n = (now - EPOCH) // interval
    return EPOCH + n * interval


def slot_key(name: str, start: datetime) -> str:
    """The unique key of one due slot of a periodic task."""
    return f"{name}@{start.astimezone(UTC).isoformat()}"


@dataclass(frozen=True)
class TickReport:
    """What one tick did: slot rows it created and jobs it sent."""

    created: int
    sent: int


def _create_slots(make_uow: Callable[[], UnitOfWork], settings: Settings, now: datetime) -> int:
    created = 0
    for task in periodic_tasks():
        start = slot_start(now, task.interval(settings))
        key = slot_key(task.name, start)
        with make_uow() as uow:
            if uow.session.scalars(select(jobs.Job.id).where(jobs.Job.slot == key)).first():
                continue
            uow.session.add(
                jobs.new_job(task.name, {"slot": start.isoformat()}, run_at=start, slot=key)
            )
            try:
                uow.commit()
            except IntegrityError:  # another scheduler made this slot's row first
                continue
            created += 1
    return created


def _send_due(
    make_uow: Callable[[], UnitOfWork], queue: JobQueue, now: datetime, batch: int
) -> int:
    with make_uow() as uow:
        due = list(
            uow.session.execute(
                select(jobs.Job.id, jobs.Job.name)
                .where(
                    jobs.Job.state == jobs.JobState.QUEUED,
                    jobs.Job.dispatched_at.is_(None),
                    jobs.Job.run_at <= now,
                )
                .order_by(jobs.Job.run_at)
                .limit(batch)
            )
        )
        won = []
        for job_id, name in due:
            res = uow.session.execute(
                update(jobs.Job)
                .where(jobs.Job.id == job_id, jobs.Job.dispatched_at.is_(None))
                .values(dispatched_at=now)
            )
            if res.rowcount == 1:  # type: ignore[attr-defined]
                won.append((job_id, name))
        if won:
            uow.commit()
    for job_id, name in won:
        queue.send(job_id, name)
    return len(won)


def tick(
    make_uow: Callable[[], UnitOfWork],
    queue: JobQueue,
    settings: Settings,
    *,
    now: datetime | None = None,
    batch: int = 500,
) -> TickReport:
    """Create the rows of periodic tasks that fell due and send every due delayed job."""
    now = now or utcnow()
    created = _create_slots(make_uow, settings, now)
    sent = _send_due(make_uow, queue, now, batch)
    return TickReport(created=created, sent=sent)


class Ticker:
    """The in-process scheduler: a daemon thread of the server calling tick every few seconds."""

    def __init__(self, run_tick: Callable[[], TickReport], *, every: float) -> None:
        self._run_tick = run_tick
        self._every = max(every, 0.05)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start ticking (once)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="airlock-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop ticking and wait for a tick in progress."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _loop(self) -> None:
        while True:
            try:
                self._run_tick()
            except Exception:  # the next tick tries again; nothing is lost in between
                log.warning("the scheduler tick failed", exc_info=True)
            if self._stop.wait(self._every):
                return


# --- the platform's own periodic tasks ----------------------------------------------------------

SWEEP_LOST: Final = "jobs.sweep_lost"


def _sweep_interval(settings: Settings) -> timedelta:
    # Often enough that a dead worker's job is taken over soon after its lease runs out.
    return timedelta(seconds=min(60.0, max(1.0, settings.job_lease_seconds / 2)))


SLOT_ROWS_KEPT: Final = timedelta(days=7)


@periodic(SWEEP_LOST, every=_sweep_interval, max_attempts=1)
def sweep_lost_jobs(uow: UnitOfWork, payload: Mapping[str, Any]) -> None:
    """Re-queue jobs whose worker died, resend jobs whose message was lost long ago, and
    forget finished periodic slots older than a week (no scheduler makes a past slot again)."""
    grace = timedelta(seconds=uow.services.settings.job_redispatch_seconds)
    jobs.sweep_lost(uow, queued_grace=grace)
    uow.session.execute(
        delete(jobs.Job).where(
            jobs.Job.slot.is_not(None),
            jobs.Job.state == jobs.JobState.DONE,
            jobs.Job.finished_at < utcnow() - SLOT_ROWS_KEPT,
        )
    )
