"""Jobs on the embedded queue: queued only after commit, effects applied once."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from airlock.core.audit import AuditEvent
from airlock.core.jobs import Job, JobState, run_job
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
