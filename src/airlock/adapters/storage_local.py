"""Blob store on a local folder: write to a temporary file, fsync, then rename into place."""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO, Final

from airlock.adapters.storage import validate_key
from airlock.core.errors import NotFound
from airlock.core.ports import Chunk

READ_BYTES: Final = 1024 * 1024
TMP_PREFIX: Final = ".tmp-"


WRITE_BEHIND_DEPTH = 8


class _WriteBehind:
    """Writes blocks to a file descriptor on a helper thread, so producing and writing overlap."""

    def __init__(self, fd: int, depth: int = WRITE_BEHIND_DEPTH) -> None:
        self._fd = fd
        self._queue: queue.Queue[Chunk | None] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="blob-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (block := self._queue.get()) is not None:
            if self._error is not None:
                continue
            try:
                view = memoryview(block)
                while view:
                    view = view[os.write(self._fd, view) :]
            except BaseException as exc:  # re-raised in the producing thread
                self._error = exc

    def write(self, block: Chunk) -> None:
        if self._error is not None:
            raise self._error
        if block:
            self._queue.put(block)

    def finish(self, *, fsync: bool) -> None:
        self._stop()
        if self._error is not None:
            raise self._error
        if fsync:
            os.fsync(self._fd)

    def _stop(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()

    def __enter__(self) -> _WriteBehind:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._stop()
        finally:
            os.close(self._fd)


def _write_all(fd: int, chunks: Sequence[Chunk], *, fsync: bool) -> int:
    try:
        written = 0
        for chunk in chunks:
            view = memoryview(chunk)
            written += len(view)
            while view:
                view = view[os.write(fd, view) :]
        if fsync:
            os.fsync(fd)
        return written
    finally:
        os.close(fd)


class LocalBlobStore:
    """Objects as files under root; a reader never sees a half-written object."""

    # The write-behind queue plus the block being written.
    max_held_chunks = WRITE_BEHIND_DEPTH + 1

    def __init__(self, root: Path, *, fsync: bool = True) -> None:
        self.root = root.resolve()
        self.fsync = fsync
        self.root.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"LocalBlobStore({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*validate_key(key).split("/"))

    def put(self, key: str, chunks: Iterable[Chunk]) -> int:
        """Store the chunks under key atomically (all or nothing); return the bytes written."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{TMP_PREFIX}{path.name}.{os.getpid()}.{time.monotonic_ns()}")
        written = 0
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            if isinstance(chunks, list | tuple):
                # Already in memory: nothing to overlap with, so no writer thread.
                written = _write_all(fd, chunks, fsync=self.fsync)
            else:
                with _WriteBehind(fd) as writer:
                    for chunk in chunks:
                        writer.write(chunk)
                        written += len(chunk)
                    writer.finish(fsync=self.fsync)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        if self.fsync:
            self._fsync_dir(path.parent)
        return written

    def put_new(self, key: str, data: bytes) -> bool:
        """Store data under key unless an object is there already; never replaces one."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{TMP_PREFIX}{path.name}.{os.getpid()}.{time.monotonic_ns()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                if self.fsync:
                    os.fsync(f.fileno())
            # link() fails when the name exists, so two writers cannot both win (rename would
            # silently replace the first object).
            os.link(tmp, path)
        except FileExistsError:
            return False
        finally:
            tmp.unlink(missing_ok=True)
        if self.fsync:
            self._fsync_dir(path.parent)
        return True

    @staticmethod
    def _fsync_dir(folder: Path) -> None:
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def open(self, key: str) -> Iterator[bytes]:
        """Stream the stored object back in chunks; NotFound if it does not exist."""
        try:
            f = self._path(key).open("rb", buffering=0)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise NotFound(f"no stored object {key!r}") from None
        return self._read(f)

    @staticmethod
    def _read(f: BinaryIO) -> Iterator[bytes]:
        with f:
            while block := f.read(READ_BYTES):
                yield block

    def delete(self, key: str) -> None:
        """Remove the object; a missing object is not an error."""
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        """Whether an object is stored under key."""
        return self._path(key).is_file()

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Every stored key that starts with prefix, in sorted order."""
        folder = prefix.rpartition("/")[0]
        base = self.root.joinpath(*folder.split("/")) if folder else self.root
        if folder:
            validate_key(folder)
        found: list[str] = []
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            rel = Path(dirpath).relative_to(self.root).as_posix()
            for name in filenames:
                if name.startswith("."):
                    continue
                key = name if rel == "." else f"{rel}/{name}"
                if key.startswith(prefix):
                    found.append(key)
        return iter(sorted(found))

    def sweep_incomplete(self, *, older_than_seconds: float) -> int:
        """Remove temporary files left by writers that died; return how many were removed."""
        cutoff = time.time() - older_than_seconds
        removed = 0
        for dirpath, _dirnames, filenames in os.walk(self.root):
            for name in filenames:
                path = Path(dirpath, name)
                if name.startswith(TMP_PREFIX) and path.stat().st_mtime < cutoff:
                    path.unlink(missing_ok=True)
                    removed += 1
        return removed
