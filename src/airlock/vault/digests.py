"""The whole file's SHA-256, computed as its chunks arrive in any order, in this process.

SHA-256 is sequential, but chunks come several at once and out of order. Each recorded chunk
is offered here; one that continues the hashed prefix is hashed at once, and a chunk that
arrives early is kept (a reference to its received buffer, no copy; the caller's release
callback runs once it is hashed) until its predecessors are hashed, within a memory budget.
Whatever is not hashed here (a chunk over the budget, one received by another server process,
a restart) is read back from the store at completion, starting where this prefix ends, so the
result is always the hash of what was recorded.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from airlock.vault.crypto import BytesLike

# Early chunks held per process, all uploads together: a few chunks in flight per client.
PENDING_BUDGET_BYTES: Final = 96 * 1024 * 1024
MAX_UPLOADS: Final = 256

Release = Callable[[], None]


def _nothing() -> None:
    pass


@dataclass
class _Prefix:
    hash: Any = field(default_factory=hashlib.sha256)
    next_index: int = 0
    pending: dict[int, tuple[BytesLike, Release]] = field(default_factory=dict)
    draining: bool = False
    gap: int | None = None  # the first chunk let go: the prefix stops there
    idle: threading.Condition = field(default_factory=threading.Condition)


class RunningDigests:
    """Per upload, the SHA-256 of the longest prefix of chunks received in this process."""

    def __init__(self, *, budget_bytes: int = PENDING_BUDGET_BYTES) -> None:
        self._lock = threading.Lock()
        self._uploads: OrderedDict[str, _Prefix] = OrderedDict()
        self._budget = budget_bytes
        self._held = 0

    def _prefix(self, upload_id: str) -> _Prefix:
        p = self._uploads.get(upload_id)
        if p is None:
            p = self._uploads[upload_id] = _Prefix()
            while len(self._uploads) > MAX_UPLOADS:
                _, old = self._uploads.popitem(last=False)
                self._drop_pending(old)
        self._uploads.move_to_end(upload_id)
        return p

    def _drop_pending(self, p: _Prefix) -> None:
        for block, release in p.pending.values():
            self._held -= len(block)
            release()
        p.pending.clear()

    def offer(
        self, upload_id: str, index: int, data: BytesLike, release: Release = _nothing
    ) -> None:
        """Hash a recorded chunk into the prefix now, keep it for later, or let it go.

        `release` is called once, when data is no longer needed here (at once, or once it is
        hashed or dropped), so the caller may then reuse its buffer.
        """
        with self._lock:
            p = self._prefix(upload_id)
            if index < p.next_index or index in p.pending:
                release()
                return  # hashed already, or a resend of a kept chunk
            if p.gap is not None and index > p.gap and index != p.next_index:
                release()
                return  # after a chunk let go: read back at completion with it
            if index != p.next_index and self._held + len(data) > self._budget:
                # The prefix cannot pass a chunk let go (completion reads it and all after it
                # back from the store), so the chunks kept after it are let go too.
                p.gap = index if p.gap is None else min(p.gap, index)
                for later in [i for i in p.pending if i > p.gap]:
                    block, done = p.pending.pop(later)
                    self._held -= len(block)
                    done()
                release()
                return
            p.pending[index] = (data, release)
            self._held += len(data)
            if p.draining:
                return  # the thread hashing this upload picks it up
            p.draining = True
        while True:
            with self._lock:
                kept = p.pending.pop(p.next_index, None)
                if kept is None:
                    with p.idle:
                        p.draining = False
                        p.idle.notify_all()
                    return
                block, done = kept
                self._held -= len(block)
                p.next_index += 1
                if p.gap is not None and p.next_index > p.gap:
                    p.gap = None  # the chunk let go was sent again and hashed
            try:
                p.hash.update(block)  # outside the lock; only the draining thread touches it
            finally:
                done()

    def take(self, upload_id: str) -> tuple[int, Any]:
        """How many leading chunks are hashed and a copy of their hash; forgets the upload."""
        with self._lock:
            p = self._uploads.get(upload_id)
        if p is None:
            return 0, hashlib.sha256()
        while True:
            with p.idle:
                p.idle.wait_for(lambda: not p.draining, timeout=60)
            with self._lock:
                if p.draining:
                    continue  # a late chunk started hashing again; its bytes count too
                if self._uploads.get(upload_id) is p:
                    del self._uploads[upload_id]
                self._drop_pending(p)
                return p.next_index, p.hash.copy()

    def forget(self, upload_id: str) -> None:
        """Drop what is known of an upload (failed, expired, or completed elsewhere)."""
        with self._lock:
            p = self._uploads.pop(upload_id, None)
            if p is not None:
                self._drop_pending(p)

    @property
    def held_bytes(self) -> int:
        """Bytes of early chunks kept now (for tests and the benchmark)."""
        return self._held


# One per process: chunks of an upload reach whichever worker thread the server picks.
RUNNING = RunningDigests()
