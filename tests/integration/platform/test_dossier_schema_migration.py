"""Migration 0007: submissions recorded against the first schema now say 1.0.0."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from airlock.core.migrate import upgrade


def _parents(engine: sa.Engine) -> None:
    """The organisation, user and model the submission row points at (the migration checks
    foreign keys), each column given a plain value of its type."""
    meta = sa.MetaData()
    meta.reflect(engine, only=["organisations", "users", "ai_models"])
    wanted = {"organisations": "o1", "users": "u1", "ai_models": "m1"}
    with engine.begin() as conn:
        for name in ("organisations", "users", "ai_models"):
            table = meta.tables[name]
            row: dict[str, object] = {}
            for column in table.columns:
                if column.name == "id":
                    row["id"] = wanted[name]
                elif column.name == "org_id":
                    row["org_id"] = "o1"
                elif isinstance(column.type, sa.Boolean):
                    row[column.name] = False
                elif isinstance(column.type, sa.Integer):
                    row[column.name] = 0
                elif "DATE" in str(column.type).upper() or column.name.endswith("_at"):
                    row[column.name] = datetime(2026, 1, 1)
                elif str(column.type).upper() == "JSON":
                    row[column.name] = "{}"
                else:
                    row[column.name] = f"{name}-{column.name}"
            conn.execute(table.insert().values(**row))


def test_migration_relabels_the_first_schema_version_as_semantic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'airlock.db'}"
    upgrade(url, "0006_coverage")
    engine = sa.create_engine(url)
    _parents(engine)
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
