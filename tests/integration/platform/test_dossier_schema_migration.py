"""Migration 0004: submissions recorded against the first schema now say 1.0.0."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa

from airlock.core.migrate import upgrade


def test_migration_relabels_the_first_schema_version_as_semantic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'airlock.db'}"
    upgrade(url, "0003_scanning")
    engine = sa.create_engine(url)
    row = {
        "id": "s1",
        "org_id": "o1",
        "model_id": "m1",
        "title": "old",
        "version": "",
        "state": "draft",
        "carries": "[]",
        "dossier": json.dumps({"schema_version": "1.0", "sections": {}}),
        "dossier_schema_version": "1.0",
        "return_reason": "",
        "redacted": False,
        "created_by": "u1",
        "created_at": "2026-01-01 00:00:00",
        "updated_at": "2026-01-01 00:00:00",
    }
    with engine.begin() as conn:
        columns = ", ".join(row)
        conn.execute(
            sa.text(f"INSERT INTO submissions ({columns}) VALUES (:{', :'.join(row)})"), row
        )
    upgrade(url)
    with engine.connect() as conn:
        version, dossier = conn.execute(
            sa.text("SELECT dossier_schema_version, dossier FROM submissions WHERE id = 's1'")
        ).one()
    assert version == "1.0.0"
    # The dossier keeps the label it was written with; it is upgraded when read.
    assert json.loads(dossier)["schema_version"] == "1.0"
    engine.dispose()
