"""A few large buffers kept for reuse by the chunk path.

A fresh buffer of several megabytes per chunk costs page faults and zeroing that, on a virtual
machine, take longer than encrypting the chunk. A pool keeps up to `keep` buffers (about the
chunks in flight), so a process serving uploads holds `keep` x chunk size at most.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator


class BufferPool:
    """Buffers of at least a requested size, taken and given back; at most `keep` are kept."""

    def __init__(self, *, keep: int) -> None:
        self._keep = keep
        self._free: list[bytearray] = []
        self._lock = threading.Lock()

    def take(self, size: int) -> bytearray:
        """A buffer of at least size bytes (its content is whatever it held last)."""
        with self._lock:
            fits = [b for b in self._free if len(b) >= size]
            if fits:
                buf = min(fits, key=len)
                self._free.remove(buf)
                return buf
        return bytearray(size)

    def give(self, buf: bytearray) -> None:
        """Return a buffer taken from the pool; the smallest goes when too many are kept."""
        with self._lock:
            self._free.append(buf)
            if len(self._free) > self._keep:
                self._free.remove(min(self._free, key=len))

    @contextlib.contextmanager
    def borrowed(self, size: int) -> Iterator[bytearray]:
        """A buffer for the duration of a with block."""
        buf = self.take(size)
        try:
            yield buf
        finally:
            self.give(buf)

    @property
    def kept_bytes(self) -> int:
        """Bytes held by the buffers kept now (for tests and the benchmark)."""
        with self._lock:
            return sum(len(b) for b in self._free)
