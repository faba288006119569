"""The check registry: a toy check on submissions is triggered by an event, its results are
recorded and `check.recorded` is published; a rescan records a second run; the artifact
scanner is rescanned through the API and the CLI."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from airlock.cli.main import app
from airlock.core import audit, events, jobs
from airlock.core.audit import AuditEvent
from airlock.core.ports import Services
from airlock.core.uow import UnitOfWork
from airlock.scanning import registry, service
from airlock.scanning.engine import ENGINE_NAME, ENGINE_VERSION
from airlock.scanning.engine.model import Severity, Verdict
from airlock.scanning.models import ScanResult, ScanRun
from airlock.scanning.registry import (
    CHECK_RECORDED_EVENT,
    Check,
    CheckOutcome,
    RawResult,
    Subject,
    SubjectKind,
)
from airlock.settings import get_settings
from airlock.submissions.models import Submission
from tests.factories.accounts import auth
from tests.factories.program import make_program
from tests.factories.scanning import EVIL_PICKLE
from tests.integration.scanning.test_scanning_platform import upload

TOY_EVENT = "test.dossier_changed"
SAW_RECORDED = "test.saw_check_recorded"


@jobs.handler(SAW_RECORDED, max_attempts=1)
def saw_recorded(uow: UnitOfWork, payload: Mapping[str, Any]) -> None:
    """What a later stage (findings triage) would do: react to a recorded run."""
    audit.append(
        uow.session,
        action=SAW_RECORDED,
        actor_label="test",
        object_type="scan_run",
        object_id=str(payload["run_id"]),
        detail={},
    )


def _locate(uow: UnitOfWork, submission_id: str) -> Subject | None:
    sub = uow.session.get(Submission, submission_id)
    if sub is None:
        return None
    return Subject(SubjectKind.SUBMISSION, sub.id, submission_id=sub.id, org_id=sub.org_id)


def _prepare(uow: UnitOfWork, subject: Subject) -> str:
    sub = uow.session.get(Submission, subject.id)
    assert sub is not None
    return sub.state


def _run(state: str, services: Services) -> CheckOutcome:
    result = RawResult(
        rule_id="TOY001",
        severity=Severity.LOW,
        verdict=Verdict.REVIEW,
        message=f"the submission is {state}",
        fingerprint=hashlib.sha256(b"TOY001").hexdigest()[:32],
        evidence={"state": state, "path": ["sections", "B"]},
    )
    return CheckOutcome(verdict=Verdict.REVIEW, results=(result,), format="dossier")


def _candidates(uow: UnitOfWork, since: datetime | None) -> list[str]:
    return list(uow.session.scalars(select(Submission.id).order_by(Submission.id)))


@pytest.fixture
def toy_check() -> Iterator[Check[str]]:
    check = Check(
        name=f"toy-{uuid.uuid4().hex[:8]}",
        version="0.1.0",
        subject=SubjectKind.SUBMISSION,
        trigger=TOY_EVENT,
        locate=_locate,
        prepare=_prepare,
        run=_run,
        candidates=_candidates,
    )
    registry.register(check)
    events.subscribe(CHECK_RECORDED_EVENT, SAW_RECORDED)
    try:
        yield check
    finally:
        events.unsubscribe(CHECK_RECORDED_EVENT, SAW_RECORDED)
        events.unsubscribe(TOY_EVENT, "checks.plan:" + check.name)
        registry.unregister(check.name)


def _runs(container, name: str) -> list[ScanRun]:
    with container.uow() as uow:
        stmt = select(ScanRun).where(ScanRun.scanner_name == name).order_by(ScanRun.finished_at)
        return list(uow.session.scalars(stmt))


def _seen(container, name: str) -> set[str]:
    """The runs of the named check whose check.recorded event a subscriber saw."""
    runs = select(ScanRun.id).where(ScanRun.scanner_name == name)
    with container.uow() as uow:
        stmt = select(AuditEvent.object_id).where(
            AuditEvent.action == SAW_RECORDED, AuditEvent.object_id.in_(runs)
        )
        return set(uow.session.scalars(stmt))


def test_a_toy_submission_check_runs_on_its_event_publishes_and_can_be_rescanned(
    client, container, toy_check
):
    prog = make_program(container)
    sid = prog.ids["sub_a"]
    container.queue.start()
    with container.uow() as uow:
        events.publish(uow, TOY_EVENT, {"submission_id": sid})
        uow.commit()
    container.queue.join()

    [run] = _runs(container, toy_check.name)
    assert (run.subject_kind, run.subject_id, run.artifact_id) == ("submission", sid, None)
    assert (run.scanner_version, run.verdict, run.request_key) == ("0.1.0", "review", "auto")
    assert (run.submission_id, run.org_id) == (sid, prog.ids["org_a"])
    with container.uow() as uow:
        [result] = service.opened_results(
            uow, uow.session.scalars(select(ScanResult).where(ScanResult.run_id == run.id))
        )
    assert result.rule_id == "TOY001" and result.evidence["path"] == ["sections", "B"]
    assert (result.subject_kind, result.subject_id) == ("submission", sid)
    assert _seen(container, toy_check.name) == {run.id}  # check.recorded carried the run id

    # The same event again: this version already saw the subject, nothing more is recorded.
    with container.uow() as uow:
        events.publish(uow, TOY_EVENT, {"submission_id": sid})
        uow.commit()
    container.queue.join()
    assert len(_runs(container, toy_check.name)) == 1

    # An assigned reviewer asks for a rescan: a second run of the same version.
    with container.uow() as uow:
        service.request_rescan(
            uow, actor=prog.actors["reviewer"], name=toy_check.name, subject_id=sid
        )
        uow.commit()
    container.queue.join()
    first, second = _runs(container, toy_check.name)
    assert first.id == run.id and second.scanner_version == first.scanner_version
    assert second.request_key not in ("auto", first.request_key)
    assert _seen(container, toy_check.name) == {first.id, second.id}

    # The firm sees the latest run of its submission's check, with its result.
    firm = auth(container, prog.actors["firm_a_admin"])
    out = client.get(f"/api/v1/submissions/{sid}/results", headers=firm).json()
    [shown] = [c for c in out["checks"] if c["check"] == toy_check.name]
    # The firm also sees the enabled dossier checks, but never those in evaluation.
    assert {c["check"] for c in out["checks"]} == {
        toy_check.name,
        "dossier-compute",
        "dossier-coverage",
    }
    assert (shown["subject_kind"], shown["subject_id"], shown["check"]) == (
        "submission",
        sid,
        toy_check.name,
    )
    assert shown["verdict"] == "review" and [r["rule_id"] for r in shown["results"]] == ["TOY001"]
    assert shown["results"][0]["id"] != result.id  # the rescan's own result, not the first


def test_only_assigned_reviewers_may_ask_for_a_rescan(container, toy_check):
    from airlock.core.errors import Forbidden, NotFound

    prog = make_program(container)
    sid = prog.ids["sub_a"]
    for who, error in [
        ("other_reviewer", Forbidden),
        ("coordinator", Forbidden),  # not assigned to sub_a
        ("firm_a_admin", Forbidden),
        ("firm_b_admin", NotFound),
    ]:
        with container.uow() as uow, pytest.raises(error):
            service.request_rescan(uow, actor=prog.actors[who], name=toy_check.name, subject_id=sid)
    with container.uow() as uow, pytest.raises(NotFound, match="no check"):
        service.request_rescan(uow, actor=prog.actors["reviewer"], name="nope", subject_id=sid)


def test_a_reviewer_rescans_an_artifact_through_the_api(client, container):
    prog = make_program(container)
    firm = auth(container, prog.actors["firm_a_admin"])
    art = upload(client, firm, prog.ids["sub_a"], EVIL_PICKLE)
    container.queue.join()
    url = f"/api/v1/checks/{ENGINE_NAME}/rescan"
    assert client.post(url, headers=firm, json={"subject_id": art["id"]}).status_code == 403
    other = auth(container, prog.actors["other_reviewer"])
    assert client.post(url, headers=other, json={"subject_id": art["id"]}).status_code == 403
    reviewer = auth(container, prog.actors["reviewer"])
    r = client.post(url, headers=reviewer, json={"subject_id": "0" * 32})
    assert r.status_code == 404
    r = client.post(url, headers=reviewer, json={"subject_id": art["id"]})
    assert r.status_code == 202, r.text
    container.queue.join()
    runs = _runs(container, ENGINE_NAME)
    assert len(runs) == 2 and {r.scanner_version for r in runs} == {ENGINE_VERSION}
    assert {r.verdict for r in runs} == {"block"}
    with container.uow() as uow:
        counts = [
            len(list(uow.session.scalars(select(ScanResult).where(ScanResult.run_id == r.id))))
            for r in runs
        ]
    assert counts[0] == counts[1] > 0  # the earlier run's results stay as they were
    out = client.get(f"/api/v1/submissions/{prog.ids['sub_a']}/results", headers=reviewer)
    [a] = out.json()["artifacts"]
    assert {x["scanner_name"] for x in a["results"]} == {ENGINE_NAME}
    assert len(a["results"]) == counts[1]  # the latest run's results, not both runs'


@pytest.fixture
def cli_env(settings, monkeypatch):
    monkeypatch.setenv("AIRLOCK_DEV", "1")
    monkeypatch.setenv("AIRLOCK_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("AIRLOCK_DATABASE_URL", settings.database_url)
    monkeypatch.delenv("AIRLOCK_QUEUE_URL", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_checks_rescan_runs_the_check_on_every_subject_its_version_has_not_seen(
    container, toy_check, cli_env
):
    prog = make_program(container)
    container.queue.start()
    with container.uow() as uow:
        events.publish(uow, TOY_EVENT, {"submission_id": prog.ids["sub_a"]})
        uow.commit()
    container.queue.join()
    with container.uow() as uow:
        every = _candidates(uow, None)
    assert len(every) >= 3 and len(_runs(container, toy_check.name)) == 1

    result = CliRunner().invoke(app, ["checks", "rescan", "--check", toy_check.name])
    assert result.exit_code == 0, result.output
    assert f"{len(every) - 1} run(s) recorded, 0 failed" in result.output
    runs = _runs(container, toy_check.name)
    assert sorted(r.subject_id for r in runs) == sorted(every)  # each subject exactly once

    again = CliRunner().invoke(app, ["checks", "rescan", "--check", toy_check.name])
    assert again.exit_code == 0 and "every subject has been seen" in again.output
    missing = CliRunner().invoke(app, ["checks", "rescan", "--check", "no-such-check"])
    assert missing.exit_code == 1 and "no check is called" in missing.output
