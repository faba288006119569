"""Migration 0005_checks keeps every scan run and result: they become artifact subjects'
automatic runs, and scan_findings rows move to scan_results unchanged."""

from __future__ import annotations

import json
import sqlite3

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from airlock.core.migrate import upgrade
from airlock.scanning.models import ScanResult, ScanRun

NOW = "2026-11-30 10:00:00.000000"


def test_existing_runs_and_findings_survive_as_artifact_runs_and_scan_results(tmp_path):
    path = tmp_path / "old.db"
    url = f"sqlite:///{path}"
    upgrade(url, "0004_scheduled_jobs")
    with sqlite3.connect(path) as db:  # foreign keys are off on a bare connection
        # The parents the migration's table copies check foreign keys against.
        db.execute(
            "INSERT INTO organisations (id, name, kind, created_at) "
            f"VALUES ('o1', 'Firm', 'developer', '{NOW}')"
        )
        db.execute(
            "INSERT INTO users (id, email, name, password_hash, active, created_at) "
            f"VALUES ('u1', 'u@firm.test', '', '', 1, '{NOW}')"
        )
        db.execute(
            "INSERT INTO ai_models (id, org_id, name, description, created_at) "
            f"VALUES ('m1', 'o1', 'M', '', '{NOW}')"
        )
        db.execute(
            "INSERT INTO submissions (id, org_id, model_id, title, version, state, carries, "
            "dossier, dossier_schema_version, return_reason, redacted, created_by, created_at, "
            "updated_at) VALUES ('s1', 'o1', 'm1', 't', '1', 'submitted', '[]', '{}', '1.0', '', "
            f"0, 'u1', '{NOW}', '{NOW}')"
        )
        db.execute(
            "INSERT INTO artifacts (id, submission_id, org_id, name, kind, media_type, size, "
            "sha256, state, storage_key, stored_bytes, key_version, created_by, created_at) "
            "VALUES ('a1', 's1', 'o1', 'model.pkl', 'weights', 'application/octet-stream', 1, "
            f"'00', 'stored', 'k', 1, 1, 'u1', '{NOW}')"
        )
        db.execute(
            "INSERT INTO scan_runs (id, artifact_id, submission_id, org_id, scanner_name, "
            "scanner_version, verdict, format, seconds, started_at, finished_at, error) "
            "VALUES ('r1', 'a1', 's1', 'o1', 'airlock-artifact-safety', '1.0.0', 'block', "
            f"'pickle', 0.5, '{NOW}', '{NOW}', '')"
        )
        db.execute(
            "INSERT INTO scan_findings (id, run_id, artifact_id, submission_id, org_id, "
            "rule_id, severity, verdict, message, evidence, atlas, fingerprint, scanner_name, "
            "scanner_version, created_at) VALUES ('f1', 'r1', 'a1', 's1', 'o1', 'PKL001', "
            "'critical', 'block', 'os.system', ?, ?, 'fp1', 'airlock-artifact-safety', '1.0.0', "
            f"'{NOW}')",
            (json.dumps({"location": "model.pkl", "global": "os.system"}), '["AML.T0010"]'),
        )
    upgrade(url)
    engine = create_engine(url)
    try:
        with Session(engine) as s:
            [run] = s.scalars(select(ScanRun))
            [result] = s.scalars(select(ScanResult))
            tables = {
                r[0]
                for r in s.connection().exec_driver_sql(
                    "SELECT name FROM sqlite_master WHERE type = 'table'"
                )
            }
    finally:
        engine.dispose()
    assert (run.subject_kind, run.subject_id, run.artifact_id) == ("artifact", "a1", "a1")
    assert (run.request_key, run.verdict, run.format) == ("auto", "block", "pickle")
    assert (result.id, result.run_id, result.subject_kind, result.subject_id) == (
        "f1",
        "r1",
        "artifact",
        "a1",
    )
    assert result.evidence == {"location": "model.pkl", "global": "os.system"}
    assert (result.atlas, result.fingerprint, result.rule_id) == (["AML.T0010"], "fp1", "PKL001")
    assert "scan_findings" not in tables and "scan_results" in tables
