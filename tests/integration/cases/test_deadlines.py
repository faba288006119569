"""Deadlines from the versioned policy: computed when a phase starts, reminded, escalated to
the coordinator exactly once when missed (in-process and on a real Celery worker), extended
by a coordinator's answer to the firm's request."""

from __future__ import annotations

import os
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from airlock.bootstrap import build, start_workers
from airlock.cases import deadlines
from airlock.cases import service as cases
from airlock.cases.models import Deadline, DeadlinePolicy, Extension, Notification
from airlock.cases.rules import DEFAULT_POLICY, Phase
from airlock.core.audit import AuditEvent
from airlock.core.db import utcnow
from airlock.core.errors import Conflict, Forbidden, InvalidInput
from airlock.core.jobs import Job, run_job
from tests.conftest import make_settings
from tests.factories.cases import open_case_with_findings
from tests.factories.program import make_program


def _missed(container) -> tuple[int, int]:
    """(escalation notifications, deadline.missed audit rows)."""
    with container.uow() as uow:
        notes = uow.session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.kind == "deadline.missed")
        )
        rows = uow.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "deadline.missed")
        )
        return int(notes or 0), int(rows or 0)


def _start_due_soon(container, prog, ids, *, seconds: float) -> str:
    """Start the critical acknowledge phase so long ago that it falls due in `seconds`."""
    with container.uow() as uow:
        case = cases.get_case(uow, actor=prog.actors["coordinator"], case_id=ids.case_id)
        hours = DEFAULT_POLICY["critical"]["acknowledge"]
        started = utcnow() - timedelta(hours=hours) + timedelta(seconds=seconds)
        row = deadlines.start_phase(
            uow,
            case=case,
            finding_id=ids.findings[0],
            severity="critical",
            phase=Phase.ACKNOWLEDGE,
            at=started,
        )
        uow.commit()
        return row.id


def test_a_policy_change_applies_only_to_phases_that_start_after_it(container):
    prog = make_program(container)
    ids = open_case_with_findings(container, prog, severities=("high", "high"))
    admin = prog.actors["agency_admin"]
    with container.uow() as uow:
        case = cases.get_case(uow, actor=prog.actors["coordinator"], case_id=ids.case_id)
        before = deadlines.start_phase(
            uow, case=case, finding_id=ids.findings[0], severity="high", phase=Phase.FIX
        )
        uow.commit()
    new = {s: dict(r) for s, r in DEFAULT_POLICY.items()}
    new["high"]["fix"] = 24 * 10
    time.sleep(0.01)
    with container.uow() as uow:
        assert deadlines.set_policy(uow, actor=admin, hours=new, reason="faster fixes").version == 1
        uow.commit()
    with container.uow() as uow:
        case = cases.get_case(uow, actor=prog.actors["coordinator"], case_id=ids.case_id)
        after = deadlines.start_phase(
            uow, case=case, finding_id=ids.findings[1], severity="high", phase=Phase.FIX
        )
        uow.commit()
    assert before.policy_version == 0 and before.due_at - before.started_at == timedelta(days=60)
    assert after.policy_version == 1 and after.due_at - after.started_at == timedelta(days=10)


def test_a_bad_policy_is_refused_naming_the_cell_and_nothing_is_stored(container):
    prog = make_program(container)
    bad = {s: dict(r) for s, r in DEFAULT_POLICY.items()}
    bad["critical"]["acknowledge"] = -4
    with (
        container.uow() as uow,
        pytest.raises(InvalidInput, match=r"critical.acknowledge: .*got -4"),
    ):
        deadlines.set_policy(uow, actor=prog.actors["agency_admin"], hours=bad, reason="x")
    with container.uow() as uow, pytest.raises(Forbidden):
        deadlines.set_policy(
            uow, actor=prog.actors["coordinator"], hours=dict(DEFAULT_POLICY), reason="x"
        )
    with container.uow() as uow:
        assert uow.session.scalars(select(DeadlinePolicy)).all() == []


def test_a_missed_deadline_escalates_exactly_once_however_often_its_job_runs(container):
    prog = make_program(container)
    ids = open_case_with_findings(container, prog)
    deadline_id = _start_due_soon(container, prog, ids, seconds=-1)
    with container.uow() as uow:
        # a duplicate of the due job (a redelivery, a second scheduler) must change nothing
        uow.enqueue(deadlines.DUE_JOB, {"deadline_id": deadline_id})
        uow.commit()
        due_jobs = list(uow.session.scalars(select(Job.id).where(Job.name == deadlines.DUE_JOB)))
    assert len(due_jobs) == 2
    for job_id in due_jobs + due_jobs:
        run_job(container.uow, job_id)
    assert _missed(container) == (1, 1)
    with container.uow() as uow:
        row = uow.session.get(Deadline, deadline_id)
        assert row.escalated_at is not None
        coordinator = prog.actors["coordinator"].user_id
        note = uow.session.scalars(
            select(Notification).where(Notification.kind == "deadline.missed")
        ).one()
        assert note.user_id == coordinator and ids.reference in note.text


def test_a_met_deadline_never_escalates(container):
    prog = make_program(container)
    ids = open_case_with_findings(container, prog)
    deadline_id = _start_due_soon(container, prog, ids, seconds=-1)
    with container.uow() as uow:
        case = cases.get_case(uow, actor=prog.actors["coordinator"], case_id=ids.case_id)
        deadlines.meet_phase(uow, case=case, finding_id=ids.findings[0], phase=Phase.ACKNOWLEDGE)
        uow.commit()
    with container.uow() as uow:
        assert deadlines.escalate_if_missed(uow, deadline_id=deadline_id) is False
    assert _missed(container) == (0, 0)


@pytest.fixture
def ticking(db_url, tmp_path):
    c = build(make_settings(db_url, tmp_path / "data", scheduler_tick_seconds=0.1))
    yield c
    c.close()


def test_the_in_process_scheduler_escalates_a_deadline_when_it_passes_and_only_once(ticking):
    prog = make_program(ticking)
    ids = open_case_with_findings(ticking, prog)
    _start_due_soon(ticking, prog, ids, seconds=1.5)
    start_workers(ticking)
    assert _missed(ticking) == (0, 0)  # not before it is due
    deadline = time.monotonic() + 30
    while _missed(ticking) == (0, 0) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)  # more ticks change nothing
    assert _missed(ticking) == (1, 1)


def test_an_extension_is_asked_with_a_reason_and_granted_with_one_moving_the_deadline(container):
    prog = make_program(container)
    ids = open_case_with_findings(container, prog)
    deadline_id = _start_due_soon(container, prog, ids, seconds=3600)
    firm, coord = prog.actors["firm_a_admin"], prog.actors["coordinator"]
    with container.uow() as uow:
        due = uow.session.get(Deadline, deadline_id).due_at
    with (
        container.uow() as uow,
        pytest.raises(InvalidInput, match="until: must be after the current deadline"),
    ):
        deadlines.request_extension(
            uow, actor=firm, deadline_id=deadline_id, until=due - timedelta(hours=1), reason="x"
        )
    with container.uow() as uow, pytest.raises(InvalidInput, match="reason: say why"):
        deadlines.request_extension(
            uow, actor=firm, deadline_id=deadline_id, until=due + timedelta(days=2), reason=" "
        )
    with container.uow() as uow:
        ext = deadlines.request_extension(
            uow,
            actor=firm,
            deadline_id=deadline_id,
            until=due + timedelta(days=2),
            reason="holiday",
        )
        uow.commit()
    with container.uow() as uow, pytest.raises(Forbidden):
        deadlines.decide_extension(
            uow, actor=firm, extension_id=ext.id, grant=True, reason="self-service"
        )
    with container.uow() as uow, pytest.raises(InvalidInput, match="reason"):
        deadlines.decide_extension(uow, actor=coord, extension_id=ext.id, grant=True, reason="")
    with container.uow() as uow:
        deadlines.decide_extension(uow, actor=coord, extension_id=ext.id, grant=True, reason="fair")
        uow.commit()
    with container.uow() as uow:
        assert uow.session.get(Deadline, deadline_id).due_at == due + timedelta(days=2)
        assert uow.session.get(Extension, ext.id).state == "granted"
        with pytest.raises(Conflict, match="already granted"):
            deadlines.decide_extension(
                uow, actor=coord, extension_id=ext.id, grant=False, reason="no"
            )


# --- on a real Celery worker ---------------------------------------------------------------

from tests.integration.test_celery_jobs import (  # noqa: E402
    BROKERS,
    Workers,
    _answers,
    _delete_queue,
)
from tests.support import databases  # noqa: E402


@pytest.fixture(params=sorted(BROKERS))
def celery_case_env(request, tmp_path: Path):
    url = BROKERS[request.param]
    if not _answers(url):
        pytest.skip(f"{request.param} does not answer at {url}")
    if not databases.postgres_available():
        pytest.skip("PostgreSQL does not answer on 127.0.0.1:5432")
    pg: str = request.getfixturevalue("pg_url")
    databases.empty_pg_database(pg)
    data = tmp_path / "data"
    queue_name = f"airlock-test-cases-{uuid.uuid4().hex[:12]}"
    c = build(make_settings(pg, data, queue_url=url, queue_name=queue_name))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRLOCK_")}
    root = Path(__file__).resolve().parents[3]
    env.update(
        AIRLOCK_DEV="1",
        AIRLOCK_DATA_DIR=str(data),
        AIRLOCK_DATABASE_URL=pg,
        AIRLOCK_QUEUE_URL=url,
        AIRLOCK_QUEUE_NAME=queue_name,
        PYTHONUNBUFFERED="1",
        AIRLOCK_SCHEDULER_TICK_SECONDS="0.2",
        PYTHONPATH=os.pathsep.join([str(root), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
    )
    workers = Workers(env, tmp_path)
    try:
        yield c, workers
    finally:
        workers.kill_all()
        _delete_queue(c, queue_name)
        c.close()


@pytest.mark.celery
@pytest.mark.postgres
@pytest.mark.timeout(120)
def test_two_celery_workers_escalate_a_missed_deadline_exactly_once(celery_case_env):
    c, workers = celery_case_env
    prog = make_program(c)
    ids = open_case_with_findings(c, prog)
    deadline_id = _start_due_soon(c, prog, ids, seconds=3)
    with c.uow() as uow:  # a second due job, as a duplicated message would be
        uow.enqueue(
            deadlines.DUE_JOB, {"deadline_id": deadline_id}, run_at=utcnow() + timedelta(seconds=3)
        )
        uow.commit()
    w1, w2 = workers.start("d1"), workers.start("d2")
    workers.wait_ready(w1)
    workers.wait_ready(w2)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with c.uow() as uow:
            states = list(
                uow.session.scalars(select(Job.state).where(Job.name == deadlines.DUE_JOB))
            )
        if states and all(s == "done" for s in states):
            break
        time.sleep(0.2)
    else:
        raise AssertionError(f"the due jobs did not finish\n{workers.logs()}")
    assert _missed(c) == (1, 1), workers.logs()


def test_a_reminder_goes_to_both_sides_once_and_not_after_an_extension_moved_the_deadline(
    container,
):
    prog = make_program(container)
    ids = open_case_with_findings(container, prog)
    deadline_id = _start_due_soon(container, prog, ids, seconds=3600)
    with container.uow() as uow:
        due = uow.session.get(Deadline, deadline_id).due_at.isoformat()
        assert (
            deadlines.remind(uow, deadline_id=deadline_id, due_at="2000-01-01T00:00:00+00:00")
            is False
        )
        assert deadlines.remind(uow, deadline_id=deadline_id, due_at=due) is True
        uow.commit()
    with container.uow() as uow:
        assert deadlines.remind(uow, deadline_id=deadline_id, due_at=due) is False
        told = {
            n.user_id
            for n in uow.session.scalars(
                select(Notification).where(Notification.kind == "deadline.reminder")
            )
        }
    assert told == {prog.actors["coordinator"].user_id, prog.actors["firm_a_admin"].user_id}
