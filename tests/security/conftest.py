"""Fixtures of the security regression suite: copies of everything an insider could keep."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from sqlalchemy import select

from airlock.bootstrap import Container
from airlock.core.db import Base


@dataclass
class Copies:
    """What a backup taken at one moment holds: raw database bytes, every row, every object."""

    database_raw: bytes
    rows: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    objects: dict[str, bytes] = field(default_factory=dict)

    def binaries(self) -> list[bytes]:
        """Every binary value of every row (where a wrapped key would be)."""
        return [v for _, row in self.rows for v in row.values() if isinstance(v, bytes) and v]

    def texts(self) -> list[str]:
        """Every text value of every row, JSON columns included as their items."""
        out: list[str] = []

        def walk(value: Any) -> None:
            if isinstance(value, str):
                out.append(value)
            elif isinstance(value, dict):
                for item in value.values():
                    walk(item)
            elif isinstance(value, list):
                for item in value:
                    walk(item)

        for _, row in self.rows:
            for value in row.values():
                walk(value)
        return out

    def everything(self) -> bytes:
        """All the bytes together, for a search of markers."""
        parts = [self.database_raw, *self.objects.values()]
        parts.extend(repr(row).encode() for _, row in self.rows)
        return b"\n".join(parts)


def database_raw(db_url: str) -> bytes:
    """The SQLite files (database, WAL) or a pg_dump of the PostgreSQL database."""
    if db_url.startswith("sqlite"):
        path = Path(db_url.removeprefix("sqlite:///"))
        return b"".join(p.read_bytes() for p in sorted(path.parent.glob(path.name + "*")))
    parsed = urlparse(db_url)
    dump = subprocess.run(
        [
            "pg_dump",
            "-h",
            parsed.hostname or "127.0.0.1",
            "-p",
            str(parsed.port or 5432),
            "-U",
            parsed.username or "postgres",
            "--no-owner",
            parsed.path.lstrip("/"),
        ],
        capture_output=True,
        check=True,
        timeout=120,
    )
    return dump.stdout


def take_copies(container: Container, db_url: str) -> Copies:
    """A backup as an insider with database, storage and master key access would take it."""
    copies = Copies(database_raw=database_raw(db_url))
    with container.uow() as uow:
        for table in Base.metadata.sorted_tables:
            for row in uow.session.execute(select(table)).mappings():
                copies.rows.append((table.name, dict(row)))
    store = container.blob_store
    copies.objects = {k: b"".join(store.open(k)) for k in store.keys("")}
    return copies
