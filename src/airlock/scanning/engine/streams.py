"""Bounded, streaming decompression of every member, stream and frame a loader would read.

Python's gzip, bz2 and lzma modules read every member or stream of a file one after another
(gzip skips zero padding between members and fails on other trailing bytes; bz2 and lzma
ignore trailing bytes that do not start a stream), joblib's zlib reader does the same, and
pandas and joblib accept zstd and lz4 frames. The scanner reads them the same way, one bounded
step at a time: each call produces at most `_STEP` bytes, so a bomb is stopped by the ratio,
size or time limit after a megabyte or two, never after the damage. Output past
`_IN_MEMORY` bytes goes to an unlinked temporary file that is memory-mapped, so a large
legitimate stream costs page cache, not heap.
"""

from __future__ import annotations

import bz2
import contextlib
import lzma
import mmap
import zlib
from collections.abc import Callable, Iterator
from typing import IO, Any, Final

from .context import ScanContext
from .model import LimitExceeded, ParseError

_STEP: Final = 1 << 20  # most bytes one decompress call may produce
_FEED: Final = 1 << 16  # compressed bytes fed per call
_IN_MEMORY: Final = 32 << 20
_RATIO_FLOOR: Final = 1 << 20  # below this much output the ratio is not judged

ZSTD_MAGIC: Final = b"\x28\xb5\x2f\xfd"
LZ4_MAGIC: Final = b"\x04\x22\x4d\x18"
KINDS: Final = ("gzip", "zlib", "bz2", "xz", "lzma", "zstd", "lz4")


class Unavailable(Exception):
    """The decompressor for this format is not installed here."""


class Spool:
    """Decompressed bytes: in memory while small, in a mapped temporary file past that."""

    def __init__(self, in_memory: int = _IN_MEMORY) -> None:
        self._mem = bytearray()
        self._file: IO[bytes] | None = None
        self._map: mmap.mmap | None = None
        self._in_memory = in_memory
        self.size = 0

    def write(self, piece: bytes) -> None:
        """Append decompressed bytes."""
        self.size += len(piece)
        if self._file is None and len(self._mem) + len(piece) <= self._in_memory:
            self._mem += piece
            return
        if self._file is None:
            import tempfile  # start-up time: only large streams spill to disk

            self._file = tempfile.TemporaryFile(prefix="airlock-scan-")  # noqa: SIM115 - closed in close()
            self._file.write(self._mem)
            self._mem = bytearray()
        self._file.write(piece)

    def view(self) -> memoryview:
        """The bytes written so far, without copying the file-backed part."""
        if self._file is None:
            return memoryview(self._mem)
        self._file.flush()
        if self.size == 0:
            return memoryview(b"")
        self._map = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ)
        return memoryview(self._map)

    def close(self) -> None:
        """Release the mapping and the temporary file (views must be released first)."""
        if self._map is not None:
            # A view still held somewhere: the GC closes the mapping later.
            with contextlib.suppress(BufferError):
                self._map.close()
            self._map = None
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Meter:
    """Counts bytes out against the limits, after every bounded step."""

    def __init__(self, ctx: ScanContext, kind: str, cap: int) -> None:
        self.ctx, self.kind, self.cap = ctx, kind, cap
        self.out = 0

    def check(self, consumed: int) -> None:
        lim = self.ctx.limits
        if self.out > self.cap:
            raise LimitExceeded(
                "max_member_bytes", f"decompressed {self.kind} exceeds {self.cap} bytes"
            )
        if self.out > _RATIO_FLOOR and self.out > lim.max_ratio * max(consumed, 1):
            raise LimitExceeded(
                "max_ratio",
                f"{self.kind} expands {self.out} bytes from {consumed}: ratio above "
                f"{lim.max_ratio} (bomb)",
            )
        self.ctx.charge_stream(self.out)
        self.ctx.check_time()


def _zlib_like(d: Any, data: memoryview) -> Iterator[bytes]:
    """Feed data to a zlib decompressobj, at most _STEP bytes out per call."""
    tail: bytes | memoryview = data
    while True:
        piece = d.decompress(tail, _STEP)
        tail = d.unconsumed_tail
        if piece:
            yield piece
        if d.eof or (not tail and len(piece) < _STEP):
            return


def _buffered(d: Any, data: memoryview) -> Iterator[bytes]:
    """Feed data to a bz2/lzma/lz4 style decompressor (needs_input, eof, max_length)."""
    piece = d.decompress(bytes(data), _STEP)
    if piece:
        yield piece
    while not d.eof and not d.needs_input:
        piece = d.decompress(b"", _STEP)
        if not piece:
            return
        yield piece


def _lz4() -> Any:
    try:
        import lz4.frame
    except ImportError as exc:
        raise Unavailable("lz4 is not installed: lz4 frames cannot be read") from exc
    return lz4.frame.LZ4FrameDecompressor()


_FACTORY: Final[dict[str, Callable[[], Any]]] = {
    "gzip": lambda: zlib.decompressobj(31),
    "zlib": zlib.decompressobj,
    "bz2": bz2.BZ2Decompressor,
    "xz": lzma.LZMADecompressor,
    "lzma": lzma.LZMADecompressor,
    "lz4": _lz4,
}


def _members(buf: memoryview, kind: str, start: int) -> Iterator[tuple[bytes, int]]:
    """Yield (output piece, compressed bytes consumed) across every member of the file."""
    pos = start
    n = 0
    while pos < len(buf):
        d = _FACTORY[kind]()
        feed = _zlib_like if kind in ("gzip", "zlib") else _buffered
        first = True
        while pos < len(buf) and not d.eof:
            chunk = buf[pos : pos + _FEED]
            pos += len(chunk)
            try:
                for piece in feed(d, chunk):
                    yield piece, pos
            except (zlib.error, OSError, lzma.LZMAError, EOFError, RuntimeError) as exc:
                if n and first and kind != "gzip":
                    return  # bz2/lzma/zlib readers ignore trailing bytes that are not a stream
                raise ParseError(f"{kind} stream {n + 1} is corrupt: {exc}", pos) from None
            first = False
        if not d.eof:
            raise ParseError(f"{kind} stream {n + 1} is truncated", len(buf))
        n += 1
        left = len(d.unused_data or b"")
        pos -= left + (len(d.unconsumed_tail) if kind in ("gzip", "zlib") else 0)
        if kind == "gzip":
            # gzip.GzipFile skips zero padding between members, and refuses anything else.
            while pos < len(buf) and buf[pos] == 0:
                pos += 1
            if pos < len(buf) and bytes(buf[pos : pos + 2]) != b"\x1f\x8b":
                raise ParseError(f"bytes after gzip member {n} are not a gzip member", pos)


class _Source:
    """A file-like view of a memoryview that counts what the reader consumed."""

    def __init__(self, buf: memoryview) -> None:
        self.buf, self.pos = buf, 0

    def read(self, n: int = -1) -> bytes:
        end = len(self.buf) if n < 0 else min(len(self.buf), self.pos + n)
        out = bytes(self.buf[self.pos : end])
        self.pos = end
        return out


def _zstd(buf: memoryview) -> Iterator[tuple[bytes, int]]:
    try:
        import zstandard
    except ImportError as exc:
        raise Unavailable("zstandard is not installed: zstd frames cannot be read") from exc
    src = _Source(buf)
    # The window is bounded so a frame cannot make the decoder reserve gigabytes up front.
    dctx = zstandard.ZstdDecompressor(max_window_size=1 << 27)
    reader = dctx.stream_reader(src, read_size=_FEED, read_across_frames=True)  # type: ignore[arg-type]
    try:
        while True:
            piece = reader.read(_STEP)
            if not piece:
                return
            yield piece, src.pos
    except zstandard.ZstdError as exc:
        raise ParseError(f"zstd frame is corrupt: {exc}", src.pos) from None


def decompress_to(
    ctx: ScanContext, buf: memoryview, kind: str, location: str, spool: Spool, start: int = 0
) -> int:
    """Decompress every member/frame of buf into spool within the limits; return the streams."""
    meter = _Meter(ctx, kind, ctx.limits.max_member_bytes)
    pieces = _zstd(buf[start:]) if kind == "zstd" else _members(buf, kind, start)
    for piece, consumed in pieces:
        meter.out += len(piece)
        meter.check(consumed)
        spool.write(piece)
    ctx.charge(meter.out, location)
    return meter.out


def pump(ctx: ScanContext, d: Any, raw: memoryview, kind: str, cap: int, spool: Spool) -> None:
    """Decompress one raw stream (a zip member) with a given decompressor, bounded."""
    meter = _Meter(ctx, kind, ctx.limits.max_member_bytes)
    feed = _zlib_like if hasattr(d, "unconsumed_tail") else _buffered
    pos = 0
    while pos < len(raw) and spool.size < cap and not d.eof:
        chunk = raw[pos : pos + _FEED]
        pos += len(chunk)
        for piece in feed(d, chunk):
            piece = piece[: cap - spool.size]
            meter.out += len(piece)
            meter.check(pos)
            spool.write(piece)
            if spool.size >= cap:
                break
