"""Jobs on the embedded queue: queued only after commit, effects applied once, delayed and
periodic jobs run when due and only once."""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from airlock.bootstrap import build, start_workers
from airlock.core import schedule
from airlock.core.audit import AuditEvent
from airlock.core.db import utcnow
from airlock.core.jobs import NOT_DUE, Job, JobState, run_job
from tests.conftest import make_settings
from tests.support import jobs_fixture


def runs(container, key: str) -> int:
    with container.uow() as uow:
        return uow.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == jobs_fixture.RAN, AuditEvent.detail.contains(key))
        )


def test_a_job_runs_after_commit_and_a_rolled_back_one_never_exists(container):
    container.queue.start()
    kept, dropped = uuid.uuid4().hex, uuid.uuid4().hex
    with container.uow() as uow:
        uow.enqueue(jobs_fixture.SLOW_MARK, {"key": dropped, "seconds": 0})
        # no commit: leaving the block rolls back
    with container.uow() as uow:
        job_id = uow.enqueue(jobs_fixture.SLOW_MARK, {"key": kept, "seconds": 0})
        uow.commit()
    container.queue.join(timeout=30)
    assert runs(container, kept) == 1
    assert runs(container, dropped) == 0
    with container.uow() as uow:
        assert uow.session.get(Job, job_id).state == JobState.DONE
        assert uow.session.scalar(select(func.count()).select_from(Job)) == 1


def test_a_job_run_twice_has_the_effect_of_one(container):
    key = uuid.uuid4().hex
    with container.uow() as uow:
        job_id = uow.enqueue(jobs_fixture.SLOW_MARK, {"key": key, "seconds": 0})
        uow.commit()
    assert run_job(container.uow, job_id) == JobState.DONE
    assert run_job(container.uow, job_id) == "skipped"
    assert runs(container, key) == 1


def test_a_failing_job_is_retried_then_marked_failed(container):
    with container.uow() as uow:
        job_id = uow.enqueue(jobs_fixture.SLOW_MARK, {"key": "x", "seconds": "not a number"})
        uow.commit()
    states = [run_job(container.uow, job_id) for _ in range(6)]
    assert states[:4] == [JobState.QUEUED] * 4 and states[4] == JobState.FAILED
    assert states[5] == "skipped"
    with container.uow() as uow:
        job = uow.session.get(Job, job_id)
        assert job.attempts == 5 and "ValueError" in job.error


# --- delayed and periodic jobs ------------------------------------------------------------------


@pytest.fixture
def ticking(db_url, tmp_path):
    """A container whose in-process scheduler ticks every 0.1 s once its workers start."""
    c = build(make_settings(db_url, tmp_path / "data", scheduler_tick_seconds=0.1))
    yield c
    c.close()


def test_a_delayed_job_is_not_run_before_its_time_and_is_run_after(ticking):
    key = uuid.uuid4().hex
    run_at = utcnow() + timedelta(seconds=1.5)
    with ticking.uow() as uow:
        job_id = uow.enqueue(jobs_fixture.SLOW_MARK, {"key": key, "seconds": 0}, run_at=run_at)
        uow.commit()
    # A worker handed the job early (a sweep, a redelivery) leaves it queued and untouched.
    assert run_job(ticking.uow, job_id) == NOT_DUE
    start_workers(ticking)
    while utcnow() < run_at - timedelta(seconds=0.2):
        with ticking.uow() as uow:
            job = uow.session.get(Job, job_id)
            assert (job.state, job.attempts, job.started_at) == (JobState.QUEUED, 0, None)
        assert runs(ticking, key) == 0
        time.sleep(0.05)
    deadline = time.monotonic() + 30
    while runs(ticking, key) == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    with ticking.uow() as uow:
        job = uow.session.get(Job, job_id)
        assert job.state == JobState.DONE and job.attempts == 1
        assert job.started_at >= run_at and job.dispatched_at >= run_at
    assert runs(ticking, key) == 1


def test_two_schedulers_ticking_at_once_create_each_periodic_slot_once(container):
    now = utcnow()
    barrier = threading.Barrier(2)
    reports = []

    def one_scheduler():
        barrier.wait()
        reports.append(schedule.tick(container.uow, container.queue, container.settings, now=now))

    threads = [threading.Thread(target=one_scheduler) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    interval = schedule.Periodic(schedule.SWEEP_LOST, schedule._sweep_interval).interval(
        container.settings
    )
    key = schedule.slot_key(schedule.SWEEP_LOST, schedule.slot_start(now, interval))
    with container.uow() as uow:
        rows = list(uow.session.scalars(select(Job).where(Job.name == schedule.SWEEP_LOST)))
    assert [r.slot for r in rows] == [key]
    # One row per periodic task (the sweep, the audit checkpoint, ...), each made once.
    tasks = len(schedule.periodic_tasks())
    assert sum(r.created for r in reports) == tasks and sum(r.sent for r in reports) == tasks
    # The next slot is a new row; the same slot ticked again is not.
    later = schedule.tick(container.uow, container.queue, container.settings, now=now)
    assert later.created == 0
    nxt = schedule.tick(container.uow, container.queue, container.settings, now=now + interval)
    assert nxt.created >= 1
    with container.uow() as uow:
        rows = list(uow.session.scalars(select(Job).where(Job.name == schedule.SWEEP_LOST)))
    assert len(rows) == 2


def test_the_lost_job_sweep_is_a_periodic_task_that_requeues_a_dead_workers_job(container):
    key = uuid.uuid4().hex
    now = utcnow()
    dead = Job(
        id=uuid.uuid4().hex,
        name=jobs_fixture.SLOW_MARK,
        payload=json.dumps({"key": key, "seconds": 0}, sort_keys=True),
        state=JobState.RUNNING,
        attempts=1,
        worker="gone:1",
        created_at=now - timedelta(minutes=10),
        run_at=now - timedelta(minutes=10),
        started_at=now - timedelta(minutes=10),
        lease_until=now - timedelta(minutes=5),
    )
    with container.uow() as uow:
        uow.session.add(dead)
        uow.commit()
    old_slot = Job(
        id=uuid.uuid4().hex,
        name=schedule.SWEEP_LOST,
        state=JobState.DONE,
        slot=f"{schedule.SWEEP_LOST}@long ago",
        created_at=now - timedelta(days=8),
        run_at=now - timedelta(days=8),
        finished_at=now - timedelta(days=8),
    )
    with container.uow() as uow:
        uow.session.add(old_slot)
        uow.commit()
    report = schedule.tick(container.uow, container.queue, container.settings)
    assert report.created == len(schedule.periodic_tasks())  # the sweep's row among them
    container.queue.start()
    container.queue.join(timeout=30)
    with container.uow() as uow:
        [sweep] = uow.session.scalars(select(Job).where(Job.name == schedule.SWEEP_LOST))
        assert sweep.state == JobState.DONE and sweep.id != old_slot.id  # a week old: forgotten
    deadline = time.monotonic() + 30
    while runs(container, key) == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    with container.uow() as uow:
        job = uow.session.get(Job, dead.id)
        assert job.state == JobState.DONE and job.attempts == 2
    assert runs(container, key) == 1


def test_end_reads_ends_a_read_only_transaction_and_refuses_after_a_write(container):
    with container.uow() as uow:
        assert uow.session.scalars(select(Job)).all() == []
        uow.end_reads()  # nothing was written: the transaction just ends
        uow.enqueue(jobs_fixture.SLOW_MARK, {"key": "x", "seconds": 0})
        uow.flush()
        with pytest.raises(RuntimeError, match="would drop it"):
            uow.end_reads()
        uow.commit()
    with container.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Job)) == 1
        uow.session.execute(update(Job).values(error="touched"))  # a write without the ORM
        with pytest.raises(RuntimeError, match="would drop it"):
            uow.end_reads()
