"""Format detection by content and the per-file entry points: scan_path and scan_bytes."""

from __future__ import annotations

import bz2
import contextlib
import lzma
import mmap
import os
import stat
import time
import zlib
from pathlib import Path
from typing import Final

from . import containers, rules
from .context import ScanContext
from .model import FileReport, LimitExceeded, Limits, ParseError, worst
from .pickle_scan import is_torch_legacy, looks_like_pickle, scan_pickle
from .pickle_vm import Global, StreamResult
from .polyglot import alternates, is_tar
from .streams import KINDS as STREAM_KINDS
from .streams import LZ4_MAGIC, ZSTD_MAGIC, Spool, Unavailable, decompress_to
from .zipfmt import bad_path, find_eocd

_READ_SMALL = 1 << 20
_PB_FIRST = frozenset({0x08, 0x0A, 0x12, 0x1A, 0x22, 0x3A, 0x42})


_BOMS: Final = (b"\xef\xbb\xbf", b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff", b"\xff\xfe", b"\xfe\xff")


def _utf_json(head: bytes) -> bool:
    """JSON with a byte-order mark or in UTF-16/32: json.loads (and so Keras) reads it."""
    marked = head.startswith(_BOMS)
    for bom in _BOMS:
        if head.startswith(bom):
            head = head[len(bom) :]
            break
    wide = b"\x00" in head[:4]
    return (marked or wide) and head.replace(b"\x00", b"").lstrip()[:1] in (b"{", b"[")


def _sft_len_ok(head: bytes, size: int | None) -> bool:
    """safetensors starts with its header length: it must fit in the file."""
    n = int.from_bytes(head[:8], "little")
    return n < (size if size is not None else 1 << 40)


def _zstd_skippable(head: bytes) -> bool:
    """A zstd skippable frame (magic 0x184D2A50-5F): the decoder skips it and reads on."""
    return len(head) >= 8 and head[1:4] == b"\x2a\x4d\x18" and head[0] & 0xF0 == 0x50


def sniff(head: bytes, size: int | None = None) -> str:
    """Name the format from the first bytes (and the total size when known)."""
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if head.startswith(b"\x93NUMPY"):
        return "npy"
    if head.startswith(b"GGUF"):
        return "gguf"
    if head.startswith(b"\x89HDF\r\n\x1a\n"):
        return "hdf5"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"BZh") and len(head) > 3 and head[3:4].isdigit():
        return "bz2"
    if head.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    if head.startswith(b"7z\xbc\xaf\x27\x1c"):
        return "7z"
    if head.startswith(ZSTD_MAGIC) or _zstd_skippable(head):
        return "zstd"
    if head.startswith(LZ4_MAGIC):
        return "lz4"
    if is_torch_legacy(head):
        return "pytorch-legacy"
    if _safetensors_head(head, size):
        # Checked before the pickle marker: a header of 640 bytes is written 80 02 00...,
        # which also reads as PROTO 2. The pickle reading is still tried (scan_buffer).
        return "safetensors"
    if head[:1] == b"\x80" and len(head) > 1 and head[1] <= 5:
        return "pickle"
    if len(head) >= 9 and head[8:9] == b"{" and head[:8] != b"\x00" * 8:
        return "safetensors"
    if head[:1] == b"\x78" and head[1:2] in (b"\x01", b"\x5e", b"\x9c", b"\xda"):
        return "zlib"
    if head.startswith(b"ZF"):
        return "zlib"
    if head[:3] == b"\x5d\x00\x00":
        return "lzma"
    if head.lstrip()[:1] in (b"{", b"[") or _utf_json(head):
        return "json"
    if looks_like_pickle(head):
        return "pickle"
    if head[:1] and head[0] in _PB_FIRST:
        return "protobuf"
    return "unknown"


def _safetensors_head(head: bytes, size: int | None) -> bool:
    """An 8-byte little-endian header length that fits the file, then the JSON object."""
    if len(head) < 10 or head[8:10] not in (b'{"', b"{}", b"{ ", b"{\n"):
        return False
    n = int.from_bytes(head[:8], "little")
    return n >= 2 and (size is None or 8 + n <= size)


def scan_buffer(
    ctx: ScanContext, buf: memoryview, location: str, depth: int, base_dir: Path | None = None
) -> str:
    """Detect the format of buf and scan it; return the format name."""
    if depth > ctx.limits.max_depth:
        raise LimitExceeded("max_depth", f"containers nested deeper than {ctx.limits.max_depth}")
    ctx.check_time()
    head = bytes(buf[:64])
    if depth == 0:
        ctx.root_size = len(buf)
    fmt = sniff(head, len(buf))
    if fmt in ("unknown", "protobuf", "pickle", "json") and is_tar(buf):
        fmt = "tar"
    if fmt == "unknown" and find_eocd(buf) >= 0:
        fmt = "zip"
    if fmt == "unknown" and _text_graph(head, buf, location):
        fmt = "tf-text"
    if fmt == "safetensors" and not _sft_len_ok(head, len(buf)) and _protobuf_reading(buf, ""):
        fmt = "protobuf"  # e.g. keras_metadata.pb whose 9th byte happens to be '{'
    if fmt == "unknown" and _protobuf_reading(buf, location):
        fmt = "protobuf"  # a first field protobuf allows but sniffing does not expect
    out = _dispatch(ctx, buf, location, depth, fmt, base_dir)
    # A file valid as two formats is read differently by different loaders: scan every reading.
    for alt in alternates(buf, fmt, out):
        # When the other reading does not parse, no loader can take that path either.
        with contextlib.suppress(ParseError):
            _dispatch(ctx, buf, location, depth, alt, base_dir)
    if fmt not in _PICKLE_FORMATS and looks_like_pickle(head):
        # Valid as two formats: "GGUF" also starts a pickle (G = BINFLOAT), so pickle.load
        # would run it. The second reading only reports a stream that imports or calls.
        scan_pickle(ctx, buf, location, profile=ctx.pickle_profile, probe=True, max_streams=1)
    return out


_PICKLE_FORMATS = frozenset({"pickle", "pytorch-legacy", "pytorch-legacy-tar-member"})


def _text_graph(head: bytes, buf: memoryview, location: str) -> bool:
    from .tf_graph import looks_like_text_graph

    lead = bytes(buf[:4096])
    return location.endswith(".pbtxt") or looks_like_text_graph(lead)


def _protobuf_reading(buf: memoryview, location: str) -> bool:
    if location.endswith((".pb", ".onnx")):
        return True
    from . import protobuf as pb

    try:
        pb.top_level(buf, 10_000)
    except ParseError:
        return False
    return True


def _recurse(ctx: ScanContext, buf: memoryview, location: str, depth: int) -> str:
    return scan_buffer(ctx, buf, location, depth)


def _dispatch(
    ctx: ScanContext, buf: memoryview, location: str, depth: int, fmt: str, base_dir: Path | None
) -> str:
    if fmt == "pickle" and location.rsplit("!", 1)[-1] in ("storages", "tensors"):
        # Members of PyTorch's legacy tar checkpoints interleave pickles and raw records.
        from . import torch_legacy

        torch_legacy.scan_member(ctx, buf, location, location.rsplit("!", 1)[-1])
        return "pytorch-legacy-tar-member"
    if fmt == "pickle":
        if scan_pickle(ctx, buf, location, profile=ctx.pickle_profile, probe=buf[0] != 0x80) < 0:
            # Not a pickle after all; it may still be a zip with bytes in front (a polyglot).
            if find_eocd(buf) >= 0:
                return _dispatch(ctx, buf, location, depth, "zip", base_dir)
            return "unknown"
        return "pickle"
    storages: list[StreamResult] = []
    if fmt == "pytorch-legacy":
        # Five pickles (magic, protocol, sys info, object, storage keys), then raw storages.
        end = scan_pickle(
            ctx, buf, location, profile="torch", max_streams=5, on_stream=storages.append
        )
        _check_legacy_storages(ctx, storages, len(buf) - end, location, end)
        return fmt
    if fmt == "zip":
        return containers.scan_zip(ctx, buf, location, depth, _recurse, sniff)
    if fmt in ("npy", "safetensors", "gguf"):
        from . import tensors  # start-up time: format modules load when first needed
    if fmt in ("hdf5", "json", "protobuf"):
        from . import graphs
    if fmt == "npy":
        tensors.scan_npy(ctx, buf, location)
        return fmt
    if fmt == "safetensors":
        tensors.scan_safetensors(ctx, buf, location)
        return fmt
    if fmt == "gguf":
        tensors.scan_gguf(ctx, buf, location)
        return fmt
    if fmt == "hdf5":
        graphs.scan_hdf5(ctx, buf, location)
        return fmt
    if fmt in STREAM_KINDS:
        return _scan_stream(ctx, buf, location, depth, fmt)
    if fmt == "tar":
        containers.scan_tar(ctx, buf, location, depth, _recurse)
        return fmt
    if fmt == "7z":
        _scan_7z(ctx, buf, location, depth)
        return fmt
    if fmt == "json":
        if len(buf) <= ctx.limits.max_header_bytes and graphs.keras_json(ctx, bytes(buf), location):
            return "keras-config"
        if location.endswith("!config.json"):
            # Keras reads this file to rebuild the model: if we cannot, a human should.
            ctx.add(rules.KERAS_MALFORMED, "Keras config.json is not valid JSON", location)
        return "json"
    if fmt == "protobuf":
        return graphs.scan_protobuf(ctx, buf, location, base_dir)
    if fmt == "tf-text":
        from . import tf_graph

        tf_graph.scan_tf(ctx, buf, location, "text")
        return fmt
    return "unknown"


def _scan_stream(ctx: ScanContext, buf: memoryview, location: str, depth: int, fmt: str) -> str:
    """Decompress every member or frame (bounded, spilled to disk when large) and scan it."""
    start = 0
    if fmt == "zlib" and bytes(buf[:2]) == b"ZF":
        # joblib < 0.10 wrote 'ZF' and a hex length before the zlib stream.
        start = bytes(buf[:64]).find(b"\x78")
        if start < 0:
            return "unknown"
    with Spool() as spool:
        try:
            decompress_to(ctx, buf, fmt, location, spool, start)
        except Unavailable as exc:
            ctx.add(rules.ARC_UNSUPPORTED, f"{exc}: content was not scanned", location)
            return fmt
        except (ParseError, zlib.error, OSError, EOFError, lzma.LZMAError, ValueError) as exc:
            if fmt in ("zlib", "lzma") and spool.size == 0:
                return "unknown"  # sniffed on two or three bytes only: not a stream after all
            ctx.add(rules.ARC_MALFORMED, f"{fmt} stream could not be decompressed: {exc}", location)
            if spool.size == 0:
                return fmt
        inner = spool.view()
        try:
            if len(inner) == 0:
                return fmt
            return f"{scan_buffer(ctx, inner, location, depth + 1)}+{fmt}"
        finally:
            inner.release()


_STORAGE_BYTES = {
    "FloatStorage": 4,
    "DoubleStorage": 8,
    "HalfStorage": 2,
    "BFloat16Storage": 2,
    "LongStorage": 8,
    "IntStorage": 4,
    "ShortStorage": 2,
    "CharStorage": 1,
    "ByteStorage": 1,
    "BoolStorage": 1,
    "ComplexFloatStorage": 8,
    "ComplexDoubleStorage": 16,
}


def _check_legacy_storages(
    ctx: ScanContext, streams: list[StreamResult], remaining: int, location: str, offset: int
) -> None:
    """Legacy checkpoints end with each storage as an 8-byte count and its bytes: check sizes."""
    sizes: dict[str, int] = {}
    for res in streams:
        for pid in res.persistent:
            if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
                continue
            kind, key, numel = pid[1], pid[2], pid[4]
            name = kind.name if isinstance(kind, Global) else ""
            if isinstance(key, str) and isinstance(numel, int) and name in _STORAGE_BYTES:
                sizes[key] = 8 + numel * _STORAGE_BYTES[name]
    need = sum(sizes.values())
    if sizes and remaining < need:
        ctx.add(
            rules.PICKLE_PARSE,
            f"storage data is truncated: {need} bytes expected after the pickles, "
            f"{remaining} present",
            location,
            offset=offset,
        )


def _scan_7z(ctx: ScanContext, buf: memoryview, location: str, depth: int) -> None:
    from . import sevenzip

    try:
        files = sevenzip.members(buf, ctx.limits.max_member_bytes, ctx.limits.max_ratio)
    except sevenzip.Unsupported as exc:
        ctx.add(rules.ARC_UNSUPPORTED, f"{exc}: content was not scanned", location)
        return
    except (lzma.LZMAError, zlib.error, OSError, EOFError, ValueError, IndexError) as exc:
        ctx.add(rules.ARC_MALFORMED, f"7z content could not be read: {exc}", location)
        return
    for name, content in files:
        ctx.members += 1
        if ctx.members > ctx.limits.max_members:
            raise LimitExceeded("max_members", f"more than {ctx.limits.max_members} members")
        ctx.charge(len(content), location)
        where = f"{location}!{name}"
        if bad_path(name):
            msg = f"member {name!r} would be written outside the folder"
            ctx.add(rules.ARC_TRAVERSAL, msg, where, global_name=name)
        if content:
            scan_buffer(ctx, memoryview(content), where, depth + 1)


def _guard(ctx: ScanContext, location: str, fn: object) -> str:
    try:
        return fn()  # type: ignore[operator, no-any-return]
    except LimitExceeded as exc:
        ctx.limit_hit(exc, location)
    except ParseError as exc:
        ctx.add(rules.ARC_MALFORMED, f"could not parse: {exc}", location, offset=exc.offset)
    except (RecursionError, MemoryError) as exc:
        ctx.add(
            rules.INTERNAL_ERROR, f"scanner ran out of {type(exc).__name__[:-5].lower()}", location
        )
    except Exception as exc:
        ctx.add(rules.INTERNAL_ERROR, f"scanner error: {type(exc).__name__}: {exc}", location)
    return "unknown"


def _report(ctx: ScanContext, path: str, fmt: str, size: int, t0: float) -> FileReport:
    findings = tuple(ctx.findings)
    verdict = worst(tuple(f.verdict for f in findings))
    return FileReport(path, verdict, fmt, findings, size, time.perf_counter() - t0)


def scan_bytes(
    data: bytes | bytearray | memoryview, *, name: str = "<bytes>", limits: Limits | None = None
) -> FileReport:
    """Scan an in-memory artifact; name is used as the location in findings."""
    t0 = time.perf_counter()
    ctx = ScanContext(limits or Limits())
    buf = memoryview(data).cast("B")
    if len(buf) == 0:
        ctx.add(rules.EMPTY, "file is empty", name)
        return _report(ctx, name, "empty", 0, t0)
    fmt = _guard(ctx, name, lambda: scan_buffer(ctx, buf, name, 0))
    return _report(ctx, name, fmt, len(buf), t0)


def _read_all(fd: int, size: int) -> bytes:
    parts = []
    while size > 0:
        chunk = os.read(fd, size)
        if not chunk:
            break
        parts.append(chunk)
        size -= len(chunk)
    return b"".join(parts)


def scan_path(path: Path, *, limits: Limits | None = None) -> FileReport:
    """Scan one file on disk without loading it: the file is memory-mapped and never executed."""
    t0 = time.perf_counter()
    lim = limits or Limits()
    ctx = ScanContext(lim)
    name = str(path)
    try:
        # Only regular files: opening a FIFO would block and a device never ends.
        if not stat.S_ISREG(os.stat(path).st_mode):
            ctx.add(rules.INTERNAL_ERROR, "not a regular file: nothing was scanned", name)
            return _report(ctx, name, "unknown", 0, t0)
        fd = os.open(path, os.O_RDONLY)
    except OSError as exc:
        ctx.add(rules.INTERNAL_ERROR, f"cannot open file: {exc.strerror}", name)
        return _report(ctx, name, "unknown", 0, t0)
    try:
        size = os.fstat(fd).st_size
        if size == 0:
            ctx.add(rules.EMPTY, "file is empty", name)
            return _report(ctx, name, "empty", 0, t0)
        if size > lim.max_file_bytes:
            ctx.limit_hit(
                LimitExceeded("max_file_bytes", f"file of {size} bytes exceeds the size limit"),
                name,
            )
            return _report(ctx, name, "unknown", size, t0)
        if size <= _READ_SMALL:
            # Small files: one read is cheaper than setting up a mapping.
            small = memoryview(_read_all(fd, size))
            fmt = _guard(ctx, name, lambda: scan_buffer(ctx, small, name, 0, path.parent))
            return _report(ctx, name, fmt, size, t0)
        # mmap: big payloads are skipped by offset, so their pages are never read.
        with mmap.mmap(fd, 0, access=mmap.ACCESS_READ) as mm:
            buf = memoryview(mm)
            try:
                fmt = _guard(ctx, name, lambda: scan_buffer(ctx, buf, name, 0, path.parent))
            finally:
                buf.release()
        return _report(ctx, name, fmt, size, t0)
    finally:
        os.close(fd)


__all__ = ["scan_buffer", "scan_bytes", "scan_path", "sniff"]
_ = bz2  # decompressors are imported where used; keep the module list explicit for readers
