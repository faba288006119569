"""Background jobs: rows in the database, handlers by name, dispatch only after commit.

A job's effects and its `done` mark are committed in one transaction, so a handler that runs
twice (a redelivered message, a sweeper re-queue) has the effect of one: the second run finds
the job done, or loses the race on the `done` update and rolls back. A handler never commits.

A job may be delayed: it is not sent before its `run_at`, and a worker that gets it early
anyway leaves it queued. The scheduler (`airlock.core.schedule`) sends delayed jobs when they
fall due and creates the rows of periodic tasks.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import socket
import threading
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Integer, String, Text, and_, func, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from airlock.core.db import ID, Base, new_id, utcnow
from airlock.core.ports import JobQueue

if TYPE_CHECKING:
    from airlock.core.uow import UnitOfWork

log = logging.getLogger(__name__)


class JobState(StrEnum):
    """Where a job is in its life."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Job(Base):
    """A unit of background work; payload holds ids only, never confidential content."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(120), index=True)
    payload: Mapped[str] = mapped_column(Text, default="{}")
    state: Mapped[str] = mapped_column(String(16), default=JobState.QUEUED, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=5)
    worker: Mapped[str] = mapped_column(String(200), default="")
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Not run before this time; a job enqueued without a delay is due when it is created.
    run_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # When a message for the job was last sent to the queue (None: waiting for run_at).
    dispatched_at: Mapped[datetime | None] = mapped_column()
    # A periodic task's due slot ("task@time"): unique, so two schedulers never both create it.
    slot: Mapped[str | None] = mapped_column(String(200), unique=True)
    started_at: Mapped[datetime | None] = mapped_column()
    lease_until: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()


Handler = Callable[["UnitOfWork", Mapping[str, Any]], None]


@dataclass(frozen=True)
class _Registered:
    handler: Handler
    max_attempts: int


_REGISTRY: dict[str, _Registered] = {}


def handler(name: str, *, max_attempts: int = 5) -> Callable[[Handler], Handler]:
    """Register fn as the handler of jobs called name; it gets an open unit of work."""

    def register(fn: Handler) -> Handler:
        _REGISTRY[name] = _Registered(fn, max_attempts)
        return fn

    return register


def load_handler_modules(extra: str = "") -> None:
    """Import the extra handler modules named in AIRLOCK_JOB_MODULES (plugins outside Airlock).

    Airlock's own handlers are imported by `airlock.composition`.
    """
    for module in [m for m in extra.split(",") if m.strip()]:
        importlib.import_module(module.strip())


def new_job(
    name: str,
    payload: Mapping[str, Any] | None = None,
    *,
    run_at: datetime | None = None,
    slot: str | None = None,
) -> Job:
    """A job row for the handler called name (not yet added to any session)."""
    if name not in _REGISTRY:
        raise KeyError(f"no job handler is registered under {name!r}")
    now = utcnow()
    return Job(
        id=new_id(),
        name=name,
        payload=json.dumps(dict(payload or {}), sort_keys=True),
        state=JobState.QUEUED,
        attempts=0,
        max_attempts=_REGISTRY[name].max_attempts,
        created_at=now,
        run_at=run_at or now,
        slot=slot,
    )


def enqueue(
    uow: UnitOfWork,
    queue: JobQueue,
    name: str,
    payload: Mapping[str, Any] | None = None,
    *,
    run_at: datetime | None = None,
) -> Job:
    """Write a job row in the caller's transaction; once that commits, send it to a worker,
    or leave it to the scheduler when run_at is still in the future."""
    job = new_job(name, payload, run_at=run_at)
    if job.run_at <= job.created_at:
        job.dispatched_at = job.created_at
        uow.after_commit(queue.send, job.id, name)
    uow.session.add(job)
    return job


def _worker_label() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


BUSY = "busy"
SKIPPED = "skipped"
NOT_DUE = "not_due"


def _claim(session: Session, job_id: str, lease_seconds: int) -> Job | str:
    """Mark the job running for this worker unless it is done or another live worker holds it."""
    now = utcnow()
    job = session.get(Job, job_id)
    if job is None or job.state in (JobState.DONE, JobState.FAILED):
        return SKIPPED
    if job.state == JobState.QUEUED and job.run_at > now:
        return NOT_DUE  # sent early (a sweep, a redelivery): the scheduler sends it when due
    if job.state == JobState.RUNNING and job.lease_until and job.lease_until > now:
        # Another worker holds a live lease; a redelivery while it runs is not a second run.
        return BUSY
    res = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.attempts == job.attempts, Job.state == job.state)
        .values(
            state=JobState.RUNNING,
            attempts=job.attempts + 1,
            worker=_worker_label(),
            started_at=now,
            lease_until=now + timedelta(seconds=lease_seconds),
        )
        # Keeps `job` in step with the row, so job.attempts counts this attempt too.
        .execution_options(synchronize_session="evaluate")
    )
    if res.rowcount != 1:  # type: ignore[attr-defined]
        return BUSY
    return job


def _keep_lease(
    make_uow: Callable[[], UnitOfWork], job_id: str, lease_seconds: int, stop: threading.Event
) -> None:
    """Extend the lease while the handler runs, so only a dead worker's job looks lost."""
    while not stop.wait(max(lease_seconds / 3, 0.5)):
        try:
            with make_uow() as uow:
                uow.session.execute(
                    update(Job)
                    .where(Job.id == job_id, Job.state == JobState.RUNNING)
                    .values(lease_until=utcnow() + timedelta(seconds=lease_seconds))
                )
                uow.commit()
        except Exception:  # the next beat tries again; a missed beat only risks a re-run
            log.warning("could not extend the lease of job %s", job_id)


def run_job(make_uow: Callable[[], UnitOfWork], job_id: str, *, lease_seconds: int = 300) -> str:
    """Run one job; return its final state, 'skipped' (done already), 'busy' (held elsewhere)
    or 'not_due' (its run_at is still ahead)."""
    uow = make_uow()
    with uow:
        job = _claim(uow.session, job_id, lease_seconds)
        if isinstance(job, str):
            return job
        uow.commit()
        name, payload, attempts, max_attempts = (
            job.name,
            json.loads(job.payload),
            job.attempts,  # already counts this attempt (see _claim)
            job.max_attempts,
        )
    registered = _REGISTRY.get(name)
    work = make_uow()
    stop = threading.Event()
    beat = threading.Thread(
        target=_keep_lease, args=(make_uow, job_id, lease_seconds, stop), daemon=True
    )
    beat.start()
    try:
        if registered is None:
            raise LookupError(f"no job handler is registered under {name!r}")
        with work:
            registered.handler(work, payload)
            res = work.session.execute(
                update(Job)
                .where(Job.id == job_id, Job.state != JobState.DONE)
                .values(state=JobState.DONE, finished_at=utcnow(), lease_until=None, error="")
            )
            if res.rowcount != 1:  # type: ignore[attr-defined]
                return SKIPPED  # someone else finished it first; roll our effects back
            work.commit()
        return JobState.DONE
    except Exception as exc:
        log.warning(
            "job %s (%s) failed on attempt %d: %s at %s",
            job_id,
            name,
            attempts,
            type(exc).__name__,
            failed_at(exc),
        )
        final = JobState.FAILED if attempts >= max_attempts else JobState.QUEUED
        with make_uow() as fail:
            fail.session.execute(
                update(Job)
                .where(Job.id == job_id, Job.state != JobState.DONE)
                .values(state=final, error=f"{type(exc).__name__}: {exc}"[:2000], lease_until=None)
            )
            fail.commit()
        return final
    finally:
        stop.set()


def failed_at(exc: BaseException) -> str:
    """Where an exception was raised (file, line, function): code, never the data it held."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "unknown place"
    last = frames[-1]
    parts = Path(last.filename).parts
    short = "/".join(parts[parts.index("airlock") :]) if "airlock" in parts else parts[-1]
    return f"{short}:{last.lineno} in {last.name}"


def _lease_ran_out(now: datetime) -> ColumnElement[bool]:
    return and_(
        Job.state == JobState.RUNNING, or_(Job.lease_until.is_(None), Job.lease_until <= now)
    )


def _lost_filter(now: datetime, queued_before: datetime | None) -> ColumnElement[bool]:
    expired = _lease_ran_out(now)
    queued = and_(Job.state == JobState.QUEUED, Job.run_at <= now)
    if queued_before is not None:
        # Sent (or due) that long ago and still queued: its message was lost.
        queued = and_(queued, func.coalesce(Job.dispatched_at, Job.run_at) <= queued_before)
    return or_(expired, queued)


def find_lost(
    session: Session, *, now: datetime | None = None, queued_before: datetime | None = None
) -> list[Job]:
    """Jobs that no live worker holds: due queued ones (only those sent or due before
    queued_before, when given) and running ones whose lease ran out."""
    now = now or utcnow()
    return list(session.scalars(select(Job).where(_lost_filter(now, queued_before))))


def _take_lost(
    session: Session, *, now: datetime, queued_grace: timedelta | None
) -> list[tuple[str, str]]:
    """Mark every lost job queued and sent now, in the session's transaction; return them."""
    lost = [
        (job.id, job.name)
        for job in find_lost(
            session, now=now, queued_before=None if queued_grace is None else now - queued_grace
        )
    ]
    if lost:
        ids = [jid for jid, _ in lost]
        # Only a lease that is still expired: a worker may have claimed the job meanwhile.
        session.execute(
            update(Job)
            .where(Job.id.in_(ids), _lease_ran_out(now))
            .values(state=JobState.QUEUED, lease_until=None)
            .execution_options(synchronize_session=False)
        )
        session.execute(
            update(Job)
            .where(Job.id.in_(ids), Job.state == JobState.QUEUED)
            .values(dispatched_at=now)
            .execution_options(synchronize_session=False)
        )
    return lost


def requeue_lost(
    make_uow: Callable[[], UnitOfWork],
    queue: JobQueue,
    *,
    queued_grace: timedelta | None = None,
) -> int:
    """Send every lost job to the queue again (at start-up and periodically); return how many.

    At start-up every due queued job counts as lost. A periodic sweep passes queued_grace, so
    a job that is merely waiting its turn in the broker is not sent twice; a job whose dispatch
    after commit failed is found once it is that old.
    """
    with make_uow() as uow:
        lost = _take_lost(uow.session, now=utcnow(), queued_grace=queued_grace)
        if lost:
            uow.commit()
    for job_id, name in lost:
        queue.send(job_id, name)
    return len(lost)


def sweep_lost(uow: UnitOfWork, *, queued_grace: timedelta) -> int:
    """The periodic sweep as a job: mark lost jobs queued; they are sent once uow commits."""
    if uow.queue is None:
        raise RuntimeError("this unit of work has no job queue")
    lost = _take_lost(uow.session, now=utcnow(), queued_grace=queued_grace)
    for job_id, name in lost:
        uow.after_commit(uow.queue.send, job_id, name)
    if lost:
        log.info("re-queued %d job(s) whose worker stopped holding them", len(lost))
    return len(lost)
