"""Containers: zip (PyTorch, TorchScript, npz, Keras), tar, and gzip/bz2/xz/zlib streams."""

from __future__ import annotations

import io
import lzma
import re
import zlib
from collections.abc import Callable
from typing import Final

from . import rules
from .context import ScanContext
from .model import LimitExceeded, ParseError
from .zipfmt import ZipEntry, bad_path, member_bytes, member_spool, read_entries

Recurse = Callable[[ScanContext, memoryview, str, int], str]

# Raw tensor storages and small metadata files of PyTorch archives: bytes, never unpickled.
_TORCH_STORAGE: Final = re.compile(
    r"(?:[^/]+/)?(?:data/\d+|\.data/serialization_id|byteorder|version|\.format_version|"
    r"\.storage_alignment)"
)
_SCAN_SUFFIXES: Final = (
    ".pkl",
    ".pickle",
    ".pt",
    ".pth",
    ".bin",
    ".ckpt",
    ".joblib",
    ".npy",
    ".npz",
    ".json",
    ".h5",
    ".hdf5",
    ".keras",
    ".onnx",
    ".pb",
    ".gguf",
    ".safetensors",
    ".zip",
    ".tar",
    ".gz",
    ".bz2",
    ".xz",
    ".7z",
    ".dill",
    ".sav",
    ".model",
    ".mar",
    ".nemo",
    ".tgz",
)
_NORMAL_FLAGS: Final = 0x0002 | 0x0004 | 0x0008 | 0x0800
_SNIFF: Final = 64


def zip_kind(names: list[str]) -> str:
    """Name the zip flavour from its member names."""
    base = {n.rsplit("/", 1)[-1] for n in names}
    if "constants.pkl" in base or any("/code/" in n or n.startswith("code/") for n in names):
        return "torchscript"
    if "data.pkl" in base:
        return "pytorch-zip"
    if "config.json" in base and "metadata.json" in base:
        return "keras"
    if names and all(n.endswith(".npy") for n in names if not n.endswith("/")):
        return "npz"
    return "zip"


def scan_zip(
    ctx: ScanContext,
    buf: memoryview,
    location: str,
    depth: int,
    recurse: Recurse,
    sniff: Callable[[bytes], str],
) -> str:
    """Scan every member that could hold code; report name, flag, CRC and path problems."""
    try:
        entries = read_entries(ctx, buf, location)
    except ParseError as exc:
        ctx.add(
            rules.ARC_MALFORMED, f"zip structure is malformed: {exc}", location, offset=exc.offset
        )
        return "zip"
    kind = zip_kind([e.name for e in entries])
    outer_profile = ctx.pickle_profile
    if kind == "torchscript":
        ctx.pickle_profile = "torchscript"
    try:
        _scan_entries(ctx, buf, entries, kind, location, depth, recurse, sniff)
    finally:
        ctx.pickle_profile = outer_profile
    return kind


def _scan_entries(
    ctx: ScanContext,
    buf: memoryview,
    entries: list[ZipEntry],
    kind: str,
    location: str,
    depth: int,
    recurse: Recurse,
    sniff: Callable[[bytes], str],
) -> None:
    for e in entries:
        ctx.members += 1
        if ctx.members > ctx.limits.max_members:
            raise LimitExceeded(
                "max_members", f"more than {ctx.limits.max_members} archive members"
            )
        where = f"{location}!{e.name}"
        if bad_path(e.name) or bad_path(e.local_name):
            ctx.add(
                rules.ARC_TRAVERSAL,
                f"member {e.name!r} would be written outside the folder",
                where,
                global_name=e.name,
            )
        if e.name != e.local_name:
            ctx.add(
                rules.ARC_NAME_MISMATCH,
                f"central name {e.name!r} differs from local name {e.local_name!r}",
                where,
                offset=e.data_offset,
                global_name=e.local_name,
            )
        if e.is_link:
            ctx.add(rules.ARC_LINK, f"member {e.name!r} is a symbolic link", where)
        # A "directory" with content is still read by name by some loaders: only empty ones
        # are skipped.
        if (e.is_dir and e.usize == 0 and e.csize == 0) or (
            kind in ("pytorch-zip", "torchscript") and _TORCH_STORAGE.fullmatch(e.name)
        ):
            continue
        try:
            _scan_member(ctx, buf, e, where, depth, recurse, sniff)
        except ParseError as exc:
            ctx.add(
                rules.ARC_MALFORMED, f"member could not be read: {exc}", where, offset=e.data_offset
            )
        except (zlib.error, OSError, EOFError, lzma.LZMAError) as exc:
            ctx.add(
                rules.ARC_MALFORMED,
                f"member could not be decompressed: {exc}",
                where,
                offset=e.data_offset,
            )
        except LimitExceeded as exc:
            ctx.limit_hit(exc, where, e.data_offset)
            # A bomb or an exhausted budget ends the file: the rest would cost the same again.
            if exc.limit in ("time_seconds", "max_expanded_bytes", "max_members", "max_ratio"):
                raise


def _scan_member(
    ctx: ScanContext,
    buf: memoryview,
    e: ZipEntry,
    where: str,
    depth: int,
    recurse: Recurse,
    sniff: Callable[[bytes], str],
) -> None:
    odd = e.flags & ~_NORMAL_FLAGS
    if e.csize and e.usize > 100 << 20 and e.usize > ctx.limits.max_ratio * e.csize:
        raise LimitExceeded("max_ratio", f"member declares {e.usize} bytes from {e.csize} (bomb)")
    head = b""
    try:
        head = bytes(member_bytes(ctx, buf, e, where, limit=_SNIFF))
    except (zlib.error, OSError, EOFError, lzma.LZMAError, ParseError):
        if e.flags & 1:
            # Really encrypted: no model loader can read it without the password either.
            ctx.add(rules.ARC_ENCRYPTED, "member is encrypted and was not scanned", where)
            return
        raise
    if e.flags & 1 and e.method == 0 and sniff(head) == "unknown":
        ctx.add(rules.ARC_ENCRYPTED, "member is encrypted and was not scanned", where)
        return
    if odd:
        # Loaders such as PyTorch ignore these bits, so a "flagged" member is still scanned.
        ctx.add(rules.ARC_FLAGS, f"flag bits 0x{odd:04x} set; content scanned as plain", where)
    wanted = sniff(head) != "unknown" or e.name.lower().endswith(_SCAN_SUFFIXES)
    if not wanted:
        return
    held = member_spool(ctx, buf, e, where)
    data = held if isinstance(held, memoryview) else held.view()
    try:
        if len(data) < 256 << 20 and zlib.crc32(data) != e.crc:
            msg = f"CRC mismatch (stored {e.crc:08x}); content scanned anyway"
            ctx.add(rules.ARC_CRC, msg, where)
        recurse(ctx, data, where, depth + 1)
    finally:
        if not isinstance(held, memoryview):
            data.release()
            held.close()


def decompress(ctx: ScanContext, buf: memoryview, kind: str, location: str) -> memoryview:
    """Inflate a compressed stream (every member) with bounds on size, ratio and time."""
    from .streams import Spool, decompress_to

    start = bytes(buf[:64]).find(b"\x78") if kind == "zlib" and bytes(buf[:2]) == b"ZF" else 0
    if start < 0:
        raise ParseError("joblib ZF header without a zlib stream", 0)
    with Spool(in_memory=1 << 62) as spool:
        decompress_to(ctx, buf, kind, location, spool, start)
        return memoryview(bytes(spool.view()))


class _View(io.RawIOBase):
    """A seekable read-only file over a memoryview, so tarfile lists members without a copy."""

    def __init__(self, buf: memoryview) -> None:
        self.buf, self.pos = buf, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, off: int, whence: int = 0) -> int:
        base = (0, self.pos, len(self.buf))[whence]
        self.pos = max(0, base + off)
        return self.pos

    def read(self, n: int | None = -1) -> bytes:
        end = len(self.buf) if n is None or n < 0 else min(len(self.buf), self.pos + n)
        out = bytes(self.buf[self.pos : end])
        self.pos = max(self.pos, end)
        return out

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)


def scan_tar(
    ctx: ScanContext, buf: memoryview, location: str, depth: int, recurse: Recurse
) -> None:
    """Scan tar members as tarfile lists them (V7, ustar, GNU and PAX headers, long names).

    Member content is a slice of the buffer (no copy); links and escaping names are findings.
    """
    import tarfile  # start-up time: only tar files need it

    try:
        with tarfile.open(fileobj=_View(buf), mode="r:") as tf:
            for m in tf:
                ctx.check_time()
                ctx.members += 1
                if ctx.members > ctx.limits.max_members:
                    raise LimitExceeded(
                        "max_members", f"more than {ctx.limits.max_members} archive members"
                    )
                where = f"{location}!{m.name}"
                if bad_path(m.name):
                    ctx.add(
                        rules.ARC_TRAVERSAL,
                        f"member {m.name!r} would be written outside the folder",
                        where,
                        global_name=m.name,
                    )
                if m.issym() or m.islnk():
                    bad = bad_path(m.linkname)
                    rule = rules.ARC_TRAVERSAL if bad else rules.ARC_LINK
                    ctx.add(
                        rule,
                        f"member {m.name!r} links to {m.linkname!r}",
                        where,
                        global_name=m.linkname,
                    )
                    continue
                if not m.isfile() or m.size == 0:
                    continue
                if m.size > ctx.limits.max_member_bytes:
                    raise LimitExceeded(
                        "max_member_bytes", f"tar member {m.name!r} declares {m.size} bytes"
                    )
                if m.issparse():
                    f = tf.extractfile(m)
                    data = memoryview(f.read(ctx.limits.max_member_bytes)) if f else None
                else:
                    data = buf[m.offset_data : m.offset_data + m.size]
                if data is not None:
                    recurse(ctx, data, where, depth + 1)
    except tarfile.TarError as exc:
        ctx.add(rules.ARC_MALFORMED, f"tar structure is malformed: {exc}", location)
