"""The audit chain names a row edited or removed by hand; migrations match the models."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, delete, text, update

from airlock import composition
from airlock.core.audit import AuditEvent
from tests.factories.program import make_program

ROOT = Path(__file__).resolve().parents[3]


def run_cli(db_url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "AIRLOCK_DEV": "1",
        "AIRLOCK_DATABASE_URL": db_url,
        # The container's data folder: the audit key is in its key store.
        "AIRLOCK_DATA_DIR": str(tmp_path / "data"),
    }
    return subprocess.run(
        [sys.executable, "-m", "airlock.cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_audit_verify_names_the_row_edited_by_hand(container, db_url, tmp_path):
    make_program(container)
    ok = run_cli(db_url, tmp_path, "audit", "verify")
    assert ok.returncode == 0, ok.stderr
    assert "intact" in ok.stdout
    with container.uow() as uow:
        uow.session.execute(
            update(AuditEvent).where(AuditEvent.seq == 7).values(actor_label="someone else")
        )
        uow.commit()
    bad = run_cli(db_url, tmp_path, "audit", "verify")
    assert bad.returncode == 1
    assert "row 7" in bad.stderr and "altered" in bad.stderr


def test_audit_verify_names_a_removed_row(container, db_url, tmp_path):
    make_program(container)
    with container.uow() as uow:
        uow.session.execute(delete(AuditEvent).where(AuditEvent.seq == 5))
        uow.commit()
    bad = run_cli(db_url, tmp_path, "audit", "verify")
    assert bad.returncode == 1 and "row 5 is missing" in bad.stderr


def test_audit_verify_notices_the_last_row_removed(container):
    from airlock.core.audit import verify_chain

    make_program(container)
    with container.uow() as uow:
        last = uow.session.query(AuditEvent.seq).order_by(AuditEvent.seq.desc()).first()[0]
        uow.session.execute(delete(AuditEvent).where(AuditEvent.seq == last))
        uow.commit()
    with container.uow() as uow:
        report = verify_chain(uow.session)
    assert not report.ok and report.bad_seq == last


def test_migrations_and_models_agree(db_url):
    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), composition.load()
        )
        assert conn.execute(text("select count(*) from alembic_version")).scalar() == 1
    engine.dispose()
    assert diff == [], f"models and migrations differ: {diff}"
