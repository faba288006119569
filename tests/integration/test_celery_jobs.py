"""Background jobs on real Celery workers (Redis and RabbitMQ) with PostgreSQL, and the
in-process queue's start-up sweep.

Each Celery test starts `airlock worker` as a subprocess in its own process group, enqueues
`test.slow_mark` jobs (tests/support/jobs_fixture.py) through a Container built with the same
settings, and polls the database with a deadline. Workers are always killed in `finally`.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from airlock.bootstrap import Container, build, start_workers
from airlock.core.audit import AuditEvent
from airlock.core.db import utcnow
from airlock.core.jobs import Job, JobState
from tests.conftest import make_settings
from tests.support import databases
from tests.support.jobs_fixture import ALWAYS_FAILS, FLAKY, RAN, SLOW_MARK

ROOT = Path(__file__).resolve().parents[2]
AIRLOCK_BIN = Path(sys.executable).parent / "airlock"
LEASE_SECONDS = 3
JOB_MODULES = "tests.support.jobs_fixture"

# Each test uses a queue of its own (AIRLOCK_QUEUE_NAME) on these brokers.
BROKERS = {
    "redis": os.environ.get("AIRLOCK_TEST_REDIS_URL", "redis://127.0.0.1:6379/11"),
    "rabbitmq": os.environ.get("AIRLOCK_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//"),
}


# --------------------------------------------------------------------------- helpers


def _answers(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 0), timeout=1):
            return True
    except OSError:
        return False


def wait_for(check: Callable[[], Any], *, timeout: float, what: str, every: float = 0.2) -> Any:
    """Poll check() until it returns something truthy; fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(every)


def payload(seconds: float = 0.0) -> dict[str, Any]:
    return {"key": uuid.uuid4().hex, "seconds": seconds}


def job_row(c: Container, job_id: str) -> Job | None:
    with c.uow() as uow:
        job = uow.session.get(Job, job_id)
        if job is not None:
            uow.session.expunge(job)
        return job


def runs_of(c: Container, job_id: str) -> int:
    with c.uow() as uow:
        stmt = (
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == RAN, AuditEvent.object_id == job_id)
        )
        return int(uow.session.scalar(stmt) or 0)


def enqueue(c: Container, seconds: float = 0.0) -> str:
    with c.uow() as uow:
        job_id = uow.enqueue(SLOW_MARK, payload(seconds))
        uow.commit()
    return job_id


def state_is(c: Container, job_id: str, state: str) -> Callable[[], bool]:
    def check() -> bool:
        job = job_row(c, job_id)
        return job is not None and job.state == state

    return check


class Workers:
    """`airlock worker` subprocesses, each in its own process group, logging to files."""

    def __init__(self, env: dict[str, str], folder: Path) -> None:
        self.env = env
        self.folder = folder
        self.procs: list[tuple[subprocess.Popen[bytes], Path]] = []

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = self.folder / f"worker-{name}.log"
        node = f"{name}-{uuid.uuid4().hex[:6]}@%h"
        with log.open("ab") as out:
            proc = subprocess.Popen(
                [str(AIRLOCK_BIN), "worker", "--hostname", node, *args],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.procs.append((proc, log))
        return proc

    def start_beat(self, name: str) -> subprocess.Popen[bytes]:
        """`airlock beat` in its own process group, logging to a file."""
        log = self.folder / f"beat-{name}.log"
        with log.open("ab") as out:
            proc = subprocess.Popen(
                [str(AIRLOCK_BIN), "beat"],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.procs.append((proc, log))
        return proc

    def wait_ready(self, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
        """Wait until the worker says it is consuming (its start-up re-queue is over)."""
        log = next(path for p, path in self.procs if p is proc)

        def ready() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"the worker exited with {proc.returncode}\n{self.logs()}")
            return log.exists() and " ready." in log.read_text(errors="replace")

        try:
            wait_for(ready, timeout=timeout, what="the worker to be ready")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.logs()}") from None

    @staticmethod
    def kill(proc: subprocess.Popen[bytes]) -> None:
        """SIGKILL the worker's whole process group (the Celery parent and its pool children)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)

    def kill_all(self) -> None:
        for proc, _ in self.procs:
            self.kill(proc)

    def logs(self, lines: int = 40) -> str:
        out = []
        for _, log in self.procs:
            text = log.read_text(errors="replace") if log.exists() else ""
            out.append(f"--- {log.name} (last lines)\n" + "\n".join(text.splitlines()[-lines:]))
        return "\n".join(out)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(params=sorted(BROKERS))
def broker_url(request: pytest.FixtureRequest) -> str:
    url = BROKERS[request.param]
    if not _answers(url):
        pytest.skip(f"{request.param} does not answer at {url}")
    return url


@pytest.fixture
def celery_pg_url(request: pytest.FixtureRequest) -> str:
    if not databases.postgres_available():
        pytest.skip("PostgreSQL does not answer on 127.0.0.1:5432")
    url: str = request.getfixturevalue("pg_url")
    databases.empty_pg_database(url)
    return url


@pytest.fixture
def celery_env(
    celery_pg_url: str, broker_url: str, tmp_path: Path
) -> Iterator[tuple[Container, Workers]]:
    data = tmp_path / "data"
    # A queue of its own per test: parallel test runs on this broker never see each other.
    queue_name = f"airlock-test-{uuid.uuid4().hex[:12]}"
    settings = make_settings(
        celery_pg_url,
        data,
        queue_url=broker_url,
        queue_name=queue_name,
        job_modules=JOB_MODULES,
        job_lease_seconds=LEASE_SECONDS,
    )
    c = build(settings)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRLOCK_")}
    env.update(
        AIRLOCK_DEV="1",
        AIRLOCK_DATA_DIR=str(data),
        AIRLOCK_DATABASE_URL=celery_pg_url,
        AIRLOCK_QUEUE_URL=broker_url,
        AIRLOCK_QUEUE_NAME=queue_name,
        AIRLOCK_JOB_MODULES=JOB_MODULES,
        AIRLOCK_JOB_LEASE_SECONDS=str(LEASE_SECONDS),
        PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        PYTHONUNBUFFERED="1",
    )
    workers = Workers(env, tmp_path)
    try:
        yield c, workers
    finally:
        workers.kill_all()
        _delete_queue(c, queue_name)
        c.close()


def _delete_queue(c: Container, name: str) -> None:
    """Remove the test's queue from the broker (RabbitMQ keeps durable queues otherwise) and,
    on Redis, the unacknowledged copies a killed worker left, which would come back in an hour."""
    app = c.queue.app  # type: ignore[attr-defined]
    with contextlib.suppress(Exception), app.connection_for_write() as conn:
        conn.default_channel.queue_delete(name)
        if not c.settings.queue_url.startswith("redis"):
            conn.default_channel.exchange_delete(name)  # Celery names the exchange after it
    url = c.settings.queue_url
    if url.startswith("redis"):
        import redis

        client = redis.Redis.from_url(url)
        with contextlib.suppress(Exception):
            # The queue's lists (one per priority) and kombu's bindings name the queue.
            for key in client.scan_iter(match=f"*{name}*"):
                client.delete(key)
            for tag, raw in client.hgetall("unacked").items():
                if name in json.loads(raw)[1:]:  # [message, exchange, routing_key]
                    client.pipeline().hdel("unacked", tag).zrem("unacked_index", tag).execute()
        client.close()


# --------------------------------------------------------------------------- Celery tests


@pytest.mark.celery
@pytest.mark.postgres
@pytest.mark.timeout(90)
def test_worker_runs_committed_jobs_and_never_rolled_back_ones(
    celery_env: tuple[Container, Workers],
) -> None:
    c, workers = celery_env
    # (b) a job asked for in a transaction that rolls back is neither stored nor sent
    with c.uow() as uow:
        lost_id = uow.enqueue(SLOW_MARK, payload())
        uow.flush()
        # leaving the block without commit rolls back
    # (a) a committed job runs and is marked done
    job_id = enqueue(c)
    workers.start("w1")
    try:
        wait_for(state_is(c, job_id, JobState.DONE), timeout=30, what=f"job {job_id} done")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{workers.logs()}") from None
    job = job_row(c, job_id)
    assert job is not None
    assert job.attempts == 1
    assert job.finished_at is not None
    assert job.error == ""
    assert runs_of(c, job_id) == 1
    # A second committed job after the rolled-back one also runs: the worker was not stuck on
    # a message for a job that does not exist, and the rolled-back job left no trace.
    later_id = enqueue(c)
    wait_for(state_is(c, later_id, JobState.DONE), timeout=20, what="the later job done")
    assert job_row(c, lost_id) is None
    assert runs_of(c, lost_id) == 0


@pytest.mark.celery
@pytest.mark.postgres
@pytest.mark.timeout(120)
def test_killed_worker_mid_job_then_new_worker_completes_it_exactly_once(
    celery_env: tuple[Container, Workers],
) -> None:
    c, workers = celery_env
    first = workers.start("doomed")
    workers.wait_ready(first)  # so the only message for the job is the one enqueue sends
    job_id = enqueue(c, seconds=3)
    try:
        wait_for(state_is(c, job_id, JobState.RUNNING), timeout=30, what="the job to start")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{workers.logs()}") from None
    time.sleep(1.0)  # well inside the 3 s sleep of the handler's open transaction
    workers.kill(first)
    assert first.poll() is not None

    job = job_row(c, job_id)
    assert job is not None and job.state == JobState.RUNNING and job.attempts == 1
    assert runs_of(c, job_id) == 0  # the killed run's transaction never committed

    # Nobody extends the lease now; once it ran out the job counts as lost.
    def lease_expired() -> bool:
        row = job_row(c, job_id)
        return row is not None and row.lease_until is not None and row.lease_until < utcnow()

    wait_for(lease_expired, timeout=LEASE_SECONDS + 10, what="the dead worker's lease to expire")

    workers.start("rescuer")
    try:
        wait_for(state_is(c, job_id, JobState.DONE), timeout=40, what="the job done again")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{workers.logs()}") from None
    # Let a redelivered copy of the message (RabbitMQ returns the unacked one) be handled too.
    time.sleep(2.0)
    job = job_row(c, job_id)
    assert job is not None
    assert job.state == JobState.DONE
    assert job.attempts >= 2
    assert runs_of(c, job_id) == 1


@pytest.mark.celery
@pytest.mark.postgres
@pytest.mark.timeout(120)
def test_a_running_worker_takes_over_the_job_of_one_killed_mid_job(
    celery_env: tuple[Container, Workers],
) -> None:
    """No restart needed: the surviving worker's periodic sweep finds the expired lease."""
    c, workers = celery_env
    pair = [workers.start("a"), workers.start("b")]
    for proc in pair:
        workers.wait_ready(proc)
    job_id = enqueue(c, seconds=3)
    try:
        wait_for(state_is(c, job_id, JobState.RUNNING), timeout=30, what="the job to start")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{workers.logs()}") from None
    job = job_row(c, job_id)
    assert job is not None
    group = os.getpgid(int(job.worker.rsplit(":", 1)[1]))
    victim, survivor = pair if group == pair[0].pid else pair[::-1]
    assert group == victim.pid
    time.sleep(1.0)
    workers.kill(victim)

    try:
        wait_for(state_is(c, job_id, JobState.DONE), timeout=40, what="the survivor to finish")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{workers.logs()}") from None
    time.sleep(2.0)
    job = job_row(c, job_id)
    assert job is not None and job.state == JobState.DONE and job.attempts >= 2
    assert runs_of(c, job_id) == 1
    assert survivor.poll() is None
    assert os.getpgid(int(job.worker.rsplit(":", 1)[1])) == survivor.pid


@pytest.mark.celery
@pytest.mark.postgres
@pytest.mark.timeout(90)
def test_a_worker_with_several_processes_runs_each_job_once(
    celery_env: tuple[Container, Workers],
) -> None:
    """Forked pool processes must not share the parent's database connections."""
    c, workers = celery_env
    with c.uow() as uow:  # a queued job, so the parent uses the database before it forks
        early = uow.enqueue(SLOW_MARK, payload())
        uow.commit()
    proc = workers.start("many", "--concurrency", "3")
    workers.wait_ready(proc)
    ids = [early, *(enqueue(c, seconds=0.05) for _ in range(24))]

    def all_done() -> bool:
        with c.uow() as uow:
            states = uow.session.scalars(select(Job.state).where(Job.id.in_(ids))).all()
        return len(states) == len(ids) and all(s == JobState.DONE for s in states)

    try:
        wait_for(all_done, timeout=40, what="every job done")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{workers.logs()}") from None
    assert [runs_of(c, job_id) for job_id in ids] == [1] * len(ids)
    assert "Traceback" not in workers.logs(lines=10_000)


@pytest.mark.celery
@pytest.mark.postgres
@pytest.mark.timeout(90)
def test_worker_retries_a_failed_job_until_it_succeeds(
    celery_env: tuple[Container, Workers],
) -> None:
    c, workers = celery_env
    workers.wait_ready(workers.start("w1"))
    with c.uow() as uow:  # after the worker's start-up re-queue: only a retry runs it again
        job_id = uow.enqueue(FLAKY, {"key": uuid.uuid4().hex, "fails": 1})
        uow.commit()
    try:
        wait_for(state_is(c, job_id, JobState.DONE), timeout=40, what="the flaky job done")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{workers.logs()}") from None
    job = job_row(c, job_id)
    assert job is not None and job.attempts == 2 and job.error == ""
    assert runs_of(c, job_id) == 1


@pytest.mark.celery
@pytest.mark.postgres
@pytest.mark.timeout(120)
@pytest.mark.parametrize("broker_url", ["redis"], indirect=True)
def test_two_beats_run_a_delayed_job_when_due_and_each_periodic_slot_once(
    celery_env: tuple[Container, Workers],
) -> None:
    """A worker that does not tick itself, and two `airlock beat` processes driving it."""
    c, workers = celery_env
    workers.env["AIRLOCK_JOB_MODULES"] = f"{JOB_MODULES},tests.support.periodic_fixture"
    workers.env["AIRLOCK_SCHEDULER_TICK_SECONDS"] = "0.25"
    workers.wait_ready(workers.start("w1", "--no-tick"))
    run_at = utcnow() + timedelta(seconds=4)
    with c.uow() as uow:
        job_id = uow.enqueue(SLOW_MARK, payload(), run_at=run_at)
        uow.commit()
    beats = [workers.start_beat("b1"), workers.start_beat("b2")]
    while utcnow() < run_at - timedelta(seconds=0.3):
        job = job_row(c, job_id)
        assert job is not None and job.state == JobState.QUEUED and job.attempts == 0
        time.sleep(0.1)
    try:
        wait_for(state_is(c, job_id, JobState.DONE), timeout=30, what="the delayed job done")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{workers.logs()}") from None
    job = job_row(c, job_id)
    assert job is not None and job.started_at is not None and job.started_at >= run_at
    assert runs_of(c, job_id) == 1

    def periodic_runs() -> list[str]:
        with c.uow() as uow:
            stmt = select(AuditEvent.object_id).where(AuditEvent.action == "test.periodic_ran")
            return list(uow.session.scalars(stmt))

    try:
        wait_for(lambda: len(periodic_runs()) >= 3, timeout=30, what="three periodic slots")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{workers.logs()}") from None
    # A beat that dies loses nothing: the other one keeps the slots coming.
    workers.kill(beats[0])
    seen = len(periodic_runs())
    wait_for(lambda: len(periodic_runs()) >= seen + 2, timeout=30, what="slots after a kill")
    slots = periodic_runs()
    assert len(slots) == len(set(slots)), "a periodic slot ran twice"
    with c.uow() as uow:
        rows = list(uow.session.scalars(select(Job.slot).where(Job.name == "test.every_second")))
    assert len(rows) == len(set(rows)) >= len(slots)
    assert "Traceback" not in workers.logs(lines=10_000)


# --------------------------------------------------------------------------- in-process queue


def _row(state: str, **values: Any) -> Job:
    body = json.dumps(payload(), sort_keys=True)
    return Job(id=uuid.uuid4().hex, name=SLOW_MARK, payload=body, state=state, **values)


def test_inprocess_start_requeues_queued_and_expired_running_jobs(container: Container) -> None:
    now = utcnow()
    rows = {
        "queued": _row(JobState.QUEUED),
        "expired": _row(
            JobState.RUNNING,
            attempts=1,
            worker="gone:1",
            started_at=now - timedelta(minutes=10),
            lease_until=now - timedelta(minutes=5),
        ),
        "live": _row(
            JobState.RUNNING,
            attempts=1,
            worker="alive:2",
            started_at=now,
            lease_until=now + timedelta(hours=1),
        ),
        "done": _row(JobState.DONE, attempts=1, finished_at=now),
    }
    ids = {key: job.id for key, job in rows.items()}
    with container.uow() as uow:
        uow.session.add_all(rows.values())
        uow.commit()

    assert start_workers(container) == 2
    container.queue.join(timeout=30)  # type: ignore[attr-defined]
    wait_for(state_is(container, ids["queued"], JobState.DONE), timeout=20, what="queued done")
    wait_for(state_is(container, ids["expired"], JobState.DONE), timeout=20, what="expired done")

    expired = job_row(container, ids["expired"])
    assert expired is not None and expired.attempts == 2
    live = job_row(container, ids["live"])
    assert live is not None and live.state == JobState.RUNNING and live.attempts == 1
    assert runs_of(container, ids["queued"]) == 1
    assert runs_of(container, ids["expired"]) == 1
    assert runs_of(container, ids["live"]) == 0
    assert runs_of(container, ids["done"]) == 0


def test_inprocess_retries_failed_jobs_and_stops_at_max_attempts(container: Container) -> None:
    container.queue.start()
    with container.uow() as uow:
        flaky_id = uow.enqueue(FLAKY, {"key": uuid.uuid4().hex, "fails": 2})
        doomed_id = uow.enqueue(ALWAYS_FAILS, {"key": uuid.uuid4().hex})
        uow.commit()
    wait_for(state_is(container, flaky_id, JobState.DONE), timeout=30, what="flaky job done")
    wait_for(state_is(container, doomed_id, JobState.FAILED), timeout=30, what="job failed")

    flaky = job_row(container, flaky_id)
    assert flaky is not None and flaky.attempts == 3 and flaky.error == ""
    assert runs_of(container, flaky_id) == 1
    doomed = job_row(container, doomed_id)
    assert doomed is not None
    assert doomed.attempts == 3  # max_attempts of test.always_fails, not one fewer
    assert "planned failure" in doomed.error
    assert doomed.lease_until is None
