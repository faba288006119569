"""Containers: zip (PyTorch, TorchScript, npz, Keras), tar, and gzip/bz2/xz/zlib streams."""

from __future__ import annotations

import bz2
import io
import lzma
import re
import zlib
from collections.abc import Callable
from typing import Final

from . import rules
from .context import ScanContext
from .model import LimitExceeded, ParseError
from .zipfmt import ZipEntry, bad_path, member_bytes, read_entries

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
        if e.is_dir or (
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
            if exc.limit in ("time_seconds", "max_expanded_bytes", "max_members"):
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
    data = member_bytes(ctx, buf, e, where)
    if len(data) < 256 << 20 and zlib.crc32(data) != e.crc:
        ctx.add(rules.ARC_CRC, f"CRC mismatch (stored {e.crc:08x}); content scanned anyway", where)
    recurse(ctx, data, where, depth + 1)


_DECOMP: Final[dict[str, Callable[[], object]]] = {
    "gzip": lambda: zlib.decompressobj(31),
    "zlib": lambda: zlib.decompressobj(),
    "bz2": lambda: bz2.BZ2Decompressor(),
    "xz": lambda: lzma.LZMADecompressor(),
    "lzma": lambda: lzma.LZMADecompressor(),
}


def decompress(ctx: ScanContext, buf: memoryview, kind: str, location: str) -> memoryview:
    """Inflate a compressed stream with bounds on size, ratio and time."""
    start = 0
    if kind == "zlib" and bytes(buf[:2]) == b"ZF":
        # joblib < 0.10 wrote 'ZF' and a hex length before the zlib stream.
        start = bytes(buf[:64]).find(b"\x78")
        if start < 0:
            raise ParseError("joblib ZF header without a zlib stream", 0)
    d = _DECOMP[kind]()
    cap = ctx.limits.max_member_bytes
    out = bytearray()
    pos = start
    step = 1 << 20
    while pos < len(buf):
        chunk = buf[pos : pos + step]
        pos += len(chunk)
        out += d.decompress(chunk, max(cap - len(out), 1))  # type: ignore[attr-defined]
        while not getattr(d, "eof", False) and len(out) < cap:
            tail = getattr(d, "unconsumed_tail", None)
            if tail is not None:
                if not tail:
                    break
                out += d.decompress(tail, cap - len(out))  # type: ignore[attr-defined]
            elif getattr(d, "needs_input", True):
                break
            else:
                out += d.decompress(b"", cap - len(out))  # type: ignore[attr-defined]
        ctx.check_time()
        if len(out) >= cap:
            raise LimitExceeded("max_member_bytes", f"decompressed {kind} exceeds {cap} bytes")
        if len(out) > 1 << 20 and len(out) > ctx.limits.max_ratio * pos:
            raise LimitExceeded("max_ratio", f"{kind} expansion ratio above {ctx.limits.max_ratio}")
        if getattr(d, "eof", False):
            break
    if not getattr(d, "eof", True):
        raise ParseError(f"{kind} stream is truncated", len(buf))
    ctx.charge(len(out), location)
    return memoryview(bytes(out))


def scan_tar(
    ctx: ScanContext, buf: memoryview, location: str, depth: int, recurse: Recurse
) -> None:
    """Scan tar members; links and names that escape the folder are findings."""
    import tarfile  # start-up time: only tar files need it

    if len(buf) > ctx.limits.max_member_bytes:
        raise LimitExceeded("max_member_bytes", f"tar of {len(buf)} bytes is too large to list")
    try:
        with tarfile.open(fileobj=io.BytesIO(bytes(buf)), mode="r:") as tf:
            for m in tf:
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
                if not m.isfile():
                    continue
                f = tf.extractfile(m)
                if f is None:
                    continue
                recurse(ctx, memoryview(f.read(ctx.limits.max_member_bytes)), where, depth + 1)
    except tarfile.TarError as exc:
        ctx.add(rules.ARC_MALFORMED, f"tar structure is malformed: {exc}", location)
