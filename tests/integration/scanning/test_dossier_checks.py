"""Dossier checks as registered checks: submitting runs them on the submission's dossier, an
assigned reviewer sees their results, a resubmission records nothing twice."""

from __future__ import annotations

import copy
import json

from sqlalchemy import select

from airlock.core.jobs import Job
from airlock.scanning import service as scanning
from airlock.scanning.models import ScanResult, ScanRun
from airlock.submissions import service as submissions
from airlock.submissions.rules import SubmissionState as SS
from tests.factories.accounts import auth
from tests.factories.program import ALL_SCOPES, example, make_program

DOSSIER_CHECKS = {"dossier-compute", "dossier-coverage", "dossier-declared"}


def _runs(container, subject_id: str) -> list[ScanRun]:
    with container.uow() as uow:
        stmt = select(ScanRun).where(ScanRun.subject_id == subject_id)
        return list(uow.session.scalars(stmt))


def test_submitting_runs_the_dossier_checks_and_the_assigned_reviewer_sees_them(client, container):
    prog = make_program(container)
    sid = prog.ids["sub_a"]
    container.queue.start()
    container.queue.join()

    runs = {r.scanner_name: r for r in _runs(container, sid)}
    assert set(runs) == DOSSIER_CHECKS
    assert all(r.subject_kind == "submission" and r.artifact_id is None for r in runs.values())
    # No weights were shared: declared-versus-actual says so instead of comparing nothing.
    assert "no weights" in runs["dossier-declared"].error
    assert runs["dossier-compute"].error == "" and runs["dossier-coverage"].error == ""
    with container.uow() as uow:
        rules = set(
            uow.session.scalars(
                select(ScanResult.rule_id).where(ScanResult.run_id == runs["dossier-coverage"].id)
            )
        )
    assert rules and all(r.startswith("DOS-COV-") for r in rules)

    reviewer = auth(container, prog.actors["reviewer"])
    out = client.get(f"/api/v1/submissions/{sid}/results", headers=reviewer)
    assert out.status_code == 200
    checks = {c["check"]: c for c in out.json()["checks"]}
    # Evaluation-state checks are visible to assigned staff too.
    assert set(checks) == DOSSIER_CHECKS
    coverage = checks["dossier-coverage"]
    assert coverage["subject_kind"] == "submission" and coverage["subject_id"] == sid
    assert {r["rule_id"] for r in coverage["results"]} == rules
    assert all(r["atlas"] for r in coverage["results"] if r["rule_id"] == "DOS-COV-001")


def test_a_declared_compute_outside_the_estimate_gives_a_result_naming_both_values(container):
    prog = make_program(container)
    doc = copy.deepcopy(example("full"))
    d = doc["sections"]["D"]
    d["training_flop"]["value"] = 4.2e21  # its own stages add up to about 6e24
    d["training_flop_range"]["value"] = {"low": 4e21, "high": 5e21}
    with container.uow() as uow:
        admin = prog.actors["firm_b_admin"]
        sub = submissions.create_submission(
            uow,
            actor=admin,
            model_id=prog.ids["model_b"],
            title="Understated compute",
            carries=ALL_SCOPES,
            dossier=doc,
            max_dossier_bytes=1 << 20,
        )
        submissions.transition(uow, actor=admin, submission_id=sub.id, target=SS.SUBMITTED)
        uow.commit()
        sid = sub.id
    container.queue.start()
    container.queue.join()

    [run] = [r for r in _runs(container, sid) if r.scanner_name == "dossier-compute"]
    assert run.verdict == "review"
    with container.uow() as uow:
        rows = uow.session.scalars(select(ScanResult).where(ScanResult.run_id == run.id))
        results = scanning.opened_results(uow, rows)  # message and evidence are sealed
    [total] = [
        r
        for r in results
        if r.rule_id == "DOS-CMP-001" and r.evidence["location"] == "sections.D.training_flop"
    ]
    assert "4.2e+21" in total.message
    estimate = total.evidence["details"]["estimate"]
    assert estimate["low"] > 4.2e21
    assert f"{estimate['low']:.3g}" in total.message and f"{estimate['high']:.3g}" in total.message
    assert total.evidence["details"]["declared"] == 4.2e21


def test_a_resubmission_records_no_duplicate_runs(container):
    prog = make_program(container)
    sid = prog.ids["sub_b"]
    container.queue.start()
    container.queue.join()
    first = sorted((r.scanner_name, r.id) for r in _runs(container, sid))
    assert {name for name, _ in first} == DOSSIER_CHECKS

    with container.uow() as uow:
        coord = prog.actors["coordinator"]
        submissions.transition(
            uow, actor=coord, submission_id=sid, target=SS.RETURNED, reason="fix section D"
        )
        admin = prog.actors["firm_b_admin"]
        submissions.transition(uow, actor=admin, submission_id=sid, target=SS.SUBMITTED)
        uow.commit()
    container.queue.join()

    with container.uow() as uow:
        plans = list(
            uow.session.scalars(select(Job).where(Job.name == "checks.plan:dossier-compute"))
        )
    # The event was published again (one plan per submit of sub_a, sub_b and the resubmission).
    assert len([j for j in plans if json.loads(j.payload).get("submission_id") == sid]) == 2
    assert sorted((r.scanner_name, r.id) for r in _runs(container, sid)) == first
