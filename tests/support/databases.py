"""Test databases: a migrated SQLite template copied per test, and a migrated PostgreSQL
database per test session, emptied between tests."""

from __future__ import annotations

import os
import shutil
import socket
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

from airlock import composition
from airlock.core.migrate import upgrade

PG_HOST = os.environ.get("AIRLOCK_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("AIRLOCK_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("AIRLOCK_TEST_PG_USER", "postgres")


def postgres_available() -> bool:
    """Whether PostgreSQL answers on the test host and port."""
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=1):
            pass
    except OSError:
        return False
    try:
        eng = create_engine(admin_url(), isolation_level="AUTOCOMMIT")
        with eng.connect() as conn:
            conn.execute(text("select 1"))
        eng.dispose()
        return True
    except Exception:
        return False


def admin_url() -> str:
    return f"postgresql+psycopg://{PG_USER}@{PG_HOST}:{PG_PORT}/postgres"


def create_pg_database() -> str:
    """Create a fresh, migrated database and return its URL."""
    name = f"airlock_test_{uuid.uuid4().hex[:10]}"
    eng = create_engine(admin_url(), isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        # A test database need not survive a power cut: commits do not wait for the disk.
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    eng.dispose()
    url = f"postgresql+psycopg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    upgrade(url)
    return url


def drop_pg_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    eng = create_engine(admin_url(), isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    eng.dispose()


def empty_pg_database(url: str) -> None:
    """Remove every row (keeping the schema and alembic's version) and restart the sequences.

    DELETE with foreign-key triggers off, not TRUNCATE: a test leaves a few rows, and TRUNCATE
    makes new files for every table and index (about 0.25 s a test against 0.01 s)."""
    eng = create_engine(url)
    tables = [t.name for t in reversed(composition.load().sorted_tables)]
    try:
        for attempt in range(5):
            try:
                with eng.begin() as conn:
                    conn.execute(text("SET LOCAL lock_timeout = '5s'"))
                    conn.execute(text("SET LOCAL session_replication_role = replica"))
                    conn.execute(text(";".join(f'DELETE FROM "{name}"' for name in tables)))
                    sequences = conn.execute(
                        text("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'")
                    ).scalars()
                    for name in list(sequences):
                        conn.execute(text(f'ALTER SEQUENCE "{name}" RESTART'))
                return
            except Exception:
                # a previous test's worker thread may still hold a lock for a moment
                if attempt == 4:
                    raise
                time.sleep(0.5)
    finally:
        eng.dispose()


def sqlite_template(folder: Path) -> Path:
    """A migrated SQLite file to copy for each test."""
    path = folder / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


def sqlite_copy(template: Path, folder: Path) -> str:
    target = folder / "airlock.db"
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"
