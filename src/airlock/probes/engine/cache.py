"""A response cache keyed by target, messages and parameters (SQLite file, stdlib only).

A rerun with the same ``seed`` plants the same secrets, so its requests are byte-identical
and come from the cache: an interrupted run resumes, and a run can be rescored with new
detectors without spending the endpoint's budget again. Only ``ok`` answers are cached.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any, Protocol

from .packs import Message

MAX_CACHED_CHARS = 64_000


def cache_key(fingerprint: dict[str, Any], messages: list[Message], params: dict[str, Any]) -> str:
    """SHA-256 over the canonical JSON of target, messages and generation parameters."""
    doc = {
        "target": fingerprint,
        "messages": [[m.role, m.content] for m in messages],
        "params": params,
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


class AnswerCache(Protocol):
    """What a run needs of a response cache: the SQLite file below, or the platform's table."""

    hits: int

    def get(self, key: str) -> str | None:
        """The cached answer, or None."""
        ...

    def put(self, key: str, text: str) -> None:
        """Remember an answer (the first one stored for a key wins)."""
        ...


class ResponseCache:
    """Answers by key in one SQLite file; safe to share between the run's tasks."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, text TEXT NOT NULL)"
            )
            self._db.commit()
        self.hits = 0

    def get(self, key: str) -> str | None:
        """The cached answer, or None."""
        with self._lock:
            row = self._db.execute("SELECT text FROM responses WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        self.hits += 1
        return str(row[0])

    def put(self, key: str, text: str) -> None:
        """Remember an answer (the first one stored for a key wins)."""
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO responses (key, text) VALUES (?, ?)",
                (key, text[:MAX_CACHED_CHARS]),
            )
            self._db.commit()

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._db.close()
