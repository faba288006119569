"""An audit trail an insider cannot rewrite (issue 10, item 5).

The insider here has write access to the database (plain SQL) but not to the key store: they
rewrite a row and recompute every later link and the head with a key they guessed (or none), or
cut off the newest rows and the head entry. `airlock audit verify`, run as the real command,
must name the first row that was altered, removed or appended after the rewrite.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from airlock.bootstrap import Container
from airlock.core import audit, audit_checkpoints
from airlock.core.audit import AuditEvent, AuditHead, link
from airlock.settings import Settings
from tests.factories.program import make_program

ROOT = Path(__file__).resolve().parents[2]


def airlock(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the real `airlock` command against the test's database and data folder."""
    env = {
        **os.environ,
        "AIRLOCK_DEV": "1",
        "AIRLOCK_DATABASE_URL": settings.resolved_database_url(),
        "AIRLOCK_DATA_DIR": str(settings.data_dir),
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


def rows_of(container: Container) -> list[AuditEvent]:
    with container.uow() as uow:
        return list(uow.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))


def rechain(container: Container, rows: list[AuditEvent], key: bytes | None) -> None:
    """What the insider does after editing: recompute every link from the first edited row
    with their key, write them back with SQL, and move the head to match."""
    prev = rows[0].prev_hash
    with container.engine.begin() as conn:
        for ev in rows:
            ev.prev_hash = prev
            ev.hash = prev = link(ev, key)
            conn.execute(
                text(
                    "UPDATE audit_events SET detail = :d, actor_label = :a, prev_hash = :p, "
                    "hash = :h WHERE seq = :s"
                ),
                {"d": ev.detail, "a": ev.actor_label, "p": ev.prev_hash, "h": ev.hash, "s": ev.seq},
            )
        conn.execute(
            text("UPDATE audit_head SET seq = :s, hash = :h WHERE id = 1"),
            {"s": rows[-1].seq, "h": prev},
        )


def test_an_intact_chain_verifies_with_its_checkpoints(container, settings):
    make_program(container)
    made = airlock(settings, "audit", "checkpoint")
    assert made.returncode == 0, made.stderr
    assert "checkpoint of row" in made.stdout
    again = airlock(settings, "audit", "checkpoint")
    assert again.returncode == 0 and "nothing to sign" in again.stdout
    ok = airlock(settings, "audit", "verify")
    assert ok.returncode == 0, ok.stderr
    assert "intact" in ok.stdout and "1 signed checkpoint" in ok.stdout
    # The key is in the key store, not in any row of the database.
    mac_key = (settings.data_dir / "keys" / "audit-mac").read_bytes()
    with container.engine.connect() as conn:
        for table in ("audit_events", "audit_head"):
            for row in conn.execute(text(f"SELECT * FROM {table}")):
                assert mac_key.hex() not in repr(row) and mac_key not in repr(row).encode()


@pytest.mark.parametrize("guessed_key", [None, b"airlock"], ids=["unkeyed", "guessed-key"])
def test_a_row_rewritten_and_later_links_recomputed_is_named(container, settings, guessed_key):
    make_program(container)
    rows = rows_of(container)
    target = rows[len(rows) // 2]
    # The insider rewrites who did it and what, then recomputes every later link and the head.
    target.actor_label = "someone else"
    target.detail = json.dumps({"note": "nothing to see"})
    rechain(container, [ev for ev in rows if ev.seq >= target.seq], guessed_key)
    bad = airlock(settings, "audit", "verify")
    assert bad.returncode == 1, bad.stdout
    assert f"row {target.seq} " in bad.stderr and "altered or forged" in bad.stderr
    assert f"first bad row: {target.seq}" in bad.stderr


def test_rows_replaced_after_a_rewrite_are_named_from_the_first(container, settings):
    make_program(container)
    rows = rows_of(container)
    cut = rows[-4].seq
    # The insider deletes the rows from `cut` on and appends forged ones in their place.
    with container.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq >= :s"), {"s": cut})
    forged = rows[-4:]
    for ev in forged:
        ev.detail = json.dumps({"forged": True})
    with container.engine.begin() as conn:
        prev = rows[-5].hash
        for ev in forged:
            ev.prev_hash = prev
            ev.hash = prev = link(ev, b"guess")
            conn.execute(
                AuditEvent.__table__.insert().values(
                    {c.name: getattr(ev, c.key) for c in AuditEvent.__table__.columns}
                )
            )
        conn.execute(text("UPDATE audit_head SET hash = :h WHERE id = 1"), {"h": prev})
    bad = airlock(settings, "audit", "verify")
    assert bad.returncode == 1
    assert f"row {cut} " in bad.stderr and f"first bad row: {cut}" in bad.stderr


def test_the_tail_and_head_entry_deleted_are_named_by_the_checkpoint(container, settings):
    make_program(container)
    made = airlock(settings, "audit", "checkpoint")
    assert made.returncode == 0, made.stderr
    last = rows_of(container)[-1].seq
    # The insider deletes the newest three rows and the head entry: the rows left still chain.
    with container.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq > :s"), {"s": last - 3})
        conn.execute(text("DELETE FROM audit_head"))
    bad = airlock(settings, "audit", "verify")
    assert bad.returncode == 1
    assert f"rows {last - 2} to {last} were removed" in bad.stderr
    assert f"first bad row: {last - 2}" in bad.stderr


def test_a_cut_tail_written_over_by_new_rows_is_named(container, settings):
    make_program(container)
    with container.uow() as uow:
        assert audit_checkpoints.checkpoint(uow) is not None
    rows = rows_of(container)
    keep = rows[-4]
    # The insider cuts the tail and moves the head back; the platform then writes on as usual,
    # with the real key, so every MAC and link of the new rows is right.
    with container.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq > :s"), {"s": keep.seq})
        conn.execute(
            text("UPDATE audit_head SET seq = :s, hash = :h WHERE id = 1"),
            {"s": keep.seq, "h": keep.hash},
        )
    with container.uow() as uow:
        for _ in range(5):
            audit.append(uow.session, action="test.after_cut", actor_label="system")
        uow.commit()
    bad = airlock(settings, "audit", "verify")
    assert bad.returncode == 1
    assert f"row {keep.seq + 1} " in bad.stderr and "removed and replaced" in bad.stderr
    # The periodic job refuses to sign over it too.
    with container.uow() as uow, pytest.raises(audit_checkpoints.AuditTampered):
        audit_checkpoints.checkpoint(uow)


def test_a_tampered_checkpoint_is_reported(container, settings):
    make_program(container)
    with container.uow() as uow:
        made = audit_checkpoints.checkpoint(uow)
        uow.commit()
    assert made is not None
    path = settings.data_dir / "blobs" / audit_checkpoints.object_key(made.seq)
    doc = json.loads(path.read_bytes())
    # Someone with the blob store moves the checkpoint back to hide a truncation.
    doc["payload"]["seq"] = made.seq - 3
    path.write_text(json.dumps(doc))
    bad = airlock(settings, "audit", "verify")
    assert bad.returncode == 1
    assert "invalid signature" in bad.stderr and path.name in bad.stderr


def test_checkpoints_are_written_once_and_never_replaced(container):
    make_program(container)
    with container.uow() as uow:
        made = audit_checkpoints.checkpoint(uow)
        uow.commit()
    assert made is not None
    name = audit_checkpoints.object_key(made.seq)
    before = b"".join(container.blob_store.open(name))
    assert container.blob_store.put_new(name, b"{}") is False
    assert b"".join(container.blob_store.open(name)) == before


def test_the_periodic_job_writes_a_checkpoint_and_the_log_gets_a_copy(container, caplog):
    from airlock.core import schedule

    task = next(t for t in schedule.periodic_tasks() if t.name == audit_checkpoints.CHECKPOINT_JOB)
    assert task.interval(container.settings) == timedelta(seconds=600)
    make_program(container)
    with caplog.at_level("INFO", logger="airlock.audit.checkpoint"), container.uow() as uow:
        audit_checkpoints.checkpoint_job(uow, {"slot": "2026-01-01T00:00:00+00:00"})
        uow.commit()
    logged = [r.getMessage() for r in caplog.records if r.name == "airlock.audit.checkpoint"]
    assert any('"signature"' in m for m in logged)
    with container.uow() as uow:
        head = uow.session.get(AuditHead, 1)
        assert head is not None
        report = audit.verify_chain(uow.session)
    assert report.ok and report.checkpoints == 1
    assert container.blob_store.exists(audit_checkpoints.object_key(head.seq))


def test_on_s3_and_kms_the_key_reference_and_checkpoints_are_written_once(
    tmp_path: Path, sqlite_template: Path
):
    from airlock.bootstrap import build
    from tests.conftest import make_settings
    from tests.support import databases
    from tests.support.s3 import make_bucket, moto_s3_server

    with moto_s3_server() as endpoint:
        bucket = make_bucket(endpoint)
        settings = make_settings(
            databases.sqlite_copy(sqlite_template, tmp_path),
            tmp_path / "data",
            storage_url=f"s3://{bucket}/blobs?endpoint_url={endpoint}",
            keystore_url=f"kms://audit-{bucket[-8:]}?endpoint_url={endpoint}&region=us-east-1",
        )
        c = build(settings)
        try:
            with c.uow() as uow:
                for n in range(3):
                    audit.append(uow.session, action=f"test.{n}", actor_label="system")
                uow.commit()
            with c.uow() as uow:
                made = audit_checkpoints.checkpoint(uow)
                uow.commit()
            assert made is not None and made.seq == 3
            store = c.blob_store
            # KMS hands back a ciphertext reference: kept in the blob store, never the key.
            assert store.exists("audit-keys/audit-mac.ref")
            assert store.put_new(audit_checkpoints.object_key(3), b"{}") is False
            # The head entry and the last row deleted: the checkpoint still names the cut.
            with c.engine.begin() as conn:
                conn.execute(text("DELETE FROM audit_events WHERE seq = 3"))
                conn.execute(text("DELETE FROM audit_head"))
            with c.uow() as uow:
                report = audit.verify_chain(uow.session)
            assert not report.ok and report.bad_seq == 3
            assert "row 3 was removed" in report.problem
        finally:
            c.close()
