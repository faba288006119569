"""Migration 0010 keys the audit chain from the next row on; older rows stay checkable and are
anchored by the checkpoint `airlock db upgrade` signs (docs/security.md)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from airlock.bootstrap import build
from airlock.core import audit
from airlock.core.audit import GENESIS
from airlock.core.migrate import upgrade
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parents[2]


def legacy_rows(n: int) -> list[dict[str, object]]:
    """Rows as the unkeyed chain wrote them before the upgrade."""
    rows: list[dict[str, object]] = []
    prev = GENESIS
    for seq in range(1, n + 1):
        at = datetime(2026, 1, 1, 0, 0, seq, tzinfo=UTC)
        row: dict[str, object] = {
            "seq": seq,
            "at": at,
            "actor_user_id": None,
            "actor_label": "system",
            "action": f"legacy.{seq}",
            "object_type": "",
            "object_id": "",
            "org_id": None,
            "detail": "{}",
            "prev_hash": prev,
        }
        body = json.dumps(
            [seq, at.isoformat(), None, "system", f"legacy.{seq}", "", "", None, "{}", prev],
            separators=(",", ":"),
        )
        row["hash"] = prev = hashlib.sha256(body.encode()).hexdigest()
        rows.append(row)
    return rows


def test_an_upgraded_chain_is_keyed_from_the_next_row_and_anchored(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'airlock.db'}"
    upgrade(url, "0010_finish131415_probe_runs")
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    meta.reflect(engine, only=["audit_events", "audit_head"])
    rows = legacy_rows(3)
    with engine.begin() as conn:
        conn.execute(meta.tables["audit_events"].insert(), rows)
        conn.execute(meta.tables["audit_head"].insert().values(id=1, seq=3, hash=rows[-1]["hash"]))
    settings = make_settings(url, tmp_path / "data")
    env = {
        **os.environ,
        "AIRLOCK_DEV": "1",
        "AIRLOCK_DATABASE_URL": url,
        "AIRLOCK_DATA_DIR": str(settings.data_dir),
    }
    done = subprocess.run(
        [sys.executable, "-m", "airlock.cli", "db", "upgrade"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "checkpoint of row 3 signed" in done.stdout
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT keyed_from FROM audit_head")).scalar() == 4
    container = build(settings)
    try:
        with container.uow() as uow:
            audit.append(uow.session, action="after.upgrade", actor_label="system")
            uow.commit()
        with container.uow() as uow:
            report = audit.verify_chain(uow.session)
        assert report.ok and report.rows == 4 and report.checkpoints == 1, report.problem
        # Row 4 is keyed: its link is not the plain hash the old rows have.
        with container.uow() as uow:
            row4 = uow.session.get(audit.AuditEvent, 4)
            assert row4 is not None and row4.hash != audit.link(row4, None)
        # An insider rewrites an old row and recomputes the old, unkeyed links.
        forged = legacy_rows(3)
        forged[1]["actor_label"] = "someone else"
        prev = forged[0]["hash"]
        with engine.begin() as conn:
            for row in forged[1:]:
                row["prev_hash"] = prev
                body = json.dumps(
                    [
                        row["seq"],
                        row["at"].isoformat(),  # type: ignore[attr-defined]
                        None,
                        row["actor_label"],
                        row["action"],
                        "",
                        "",
                        None,
                        "{}",
                        prev,
                    ],
                    separators=(",", ":"),
                )
                row["hash"] = prev = hashlib.sha256(body.encode()).hexdigest()
                conn.execute(
                    sa.text(
                        "UPDATE audit_events SET actor_label = :a, prev_hash = :p, hash = :h "
                        "WHERE seq = :s"
                    ),
                    {
                        "a": row["actor_label"],
                        "p": row["prev_hash"],
                        "h": row["hash"],
                        "s": row["seq"],
                    },
                )
            conn.execute(
                sa.text("UPDATE audit_events SET prev_hash = :p WHERE seq = 4"), {"p": prev}
            )
        with container.uow() as uow:
            report = audit.verify_chain(uow.session)
        assert not report.ok and report.bad_seq == 3
        assert "differs from the checkpoint" in report.problem
    finally:
        container.close()
        engine.dispose()
