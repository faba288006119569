"""A bounded zip reader that reports what loaders and extractors disagree on.

It reads the central directory and each local header itself (instead of zipfile) so it can
compare local and central names, report flag bits and CRC mismatches and still hand the
content on, and slice stored members without copying them.
"""

from __future__ import annotations

import bz2
import lzma
import struct
import zlib
from dataclasses import dataclass
from typing import Final

from . import rules
from .context import ScanContext
from .model import LimitExceeded, ParseError
from .streams import Spool, pump

_EOCD = struct.Struct("<4sHHHHIIH")
_EOCD64_LOC = struct.Struct("<4sIQI")
_EOCD64 = struct.Struct("<4sQHHIIQQQQ")
_CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")
_LOCAL = struct.Struct("<4sHHHHHIIIHH")
_MAX_COMMENT: Final = 65535


@dataclass(frozen=True, slots=True)
class ZipEntry:
    """One member as the central directory and its local header describe it."""

    name: str
    local_name: str
    flags: int
    method: int
    crc: int
    csize: int
    usize: int
    data_offset: int
    is_link: bool

    @property
    def is_dir(self) -> bool:
        """Directory entries carry no content."""
        return self.name.endswith("/")


def find_eocd(buf: memoryview) -> int:
    """Offset of the end-of-central-directory record, or -1 when there is none."""
    n = len(buf)
    lo = max(0, n - _EOCD.size - _MAX_COMMENT)
    tail = bytes(buf[lo:n])
    return tail.rfind(b"PK\x05\x06") + lo if b"PK\x05\x06" in tail else -1


def _zip64_extra(extra: bytes, usize: int, csize: int, offset: int) -> tuple[int, int, int]:
    i = 0
    while i + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, i)
        if tag == 1:
            vals = extra[i + 4 : i + 4 + size]
            j = 0
            if usize == 0xFFFFFFFF and j + 8 <= len(vals):
                usize = struct.unpack_from("<Q", vals, j)[0]
                j += 8
            if csize == 0xFFFFFFFF and j + 8 <= len(vals):
                csize = struct.unpack_from("<Q", vals, j)[0]
                j += 8
            if offset == 0xFFFFFFFF and j + 8 <= len(vals):
                offset = struct.unpack_from("<Q", vals, j)[0]
            break
        i += 4 + size
    return usize, csize, offset


def _decode_name(raw: bytes, flags: int) -> str:
    return raw.decode("utf-8" if flags & 0x800 else "cp437", "replace")


def read_entries(ctx: ScanContext, buf: memoryview, location: str) -> list[ZipEntry]:
    """Parse the central directory and local headers; structural oddities become findings."""
    try:
        return _read_entries(ctx, buf, location)
    except struct.error as exc:
        raise ParseError(f"zip record is truncated ({exc})") from None


def _read_entries(ctx: ScanContext, buf: memoryview, location: str) -> list[ZipEntry]:
    eocd = find_eocd(buf)
    if eocd < 0:
        raise ParseError("no end of central directory record")
    _, _, _, _, count, cd_size, cd_offset, comment_len = _EOCD.unpack_from(buf, eocd)
    if eocd >= _EOCD64_LOC.size and bytes(buf[eocd - 20 : eocd - 16]) == b"PK\x06\x07":
        z64 = _EOCD64_LOC.unpack_from(buf, eocd - 20)[2]
        if z64 + _EOCD64.size <= len(buf) and bytes(buf[z64 : z64 + 4]) == b"PK\x06\x06":
            rec = _EOCD64.unpack_from(buf, z64)
            count, cd_size, cd_offset = rec[7], rec[8], rec[9]
            eocd_start = z64
        else:
            eocd_start = eocd
    else:
        eocd_start = eocd
    # Bytes prepended to the archive shift every offset; zipfile tolerates it, so do we.
    shift = eocd_start - cd_size - cd_offset
    if shift < 0:
        raise ParseError("central directory lies outside the file", eocd)
    if shift > 0:
        ctx.add(rules.ARC_EXTRA_BYTES, f"{shift} bytes before the zip archive", location, offset=0)
    trailing = len(buf) - (eocd + _EOCD.size + comment_len)
    if trailing > 0:
        ctx.add(
            rules.ARC_EXTRA_BYTES,
            f"{trailing} bytes after the zip archive",
            location,
            offset=len(buf) - trailing,
        )
    if count > ctx.limits.max_members:
        raise LimitExceeded(
            "max_members", f"zip declares {count} members (limit {ctx.limits.max_members})"
        )
    entries: list[ZipEntry] = []
    p = cd_offset + shift
    # zipfile walks the central directory by its byte size, not by the declared count: so do
    # we, and a count that disagrees is a finding (other readers stop after `count`).
    cd_end = p + cd_size
    while p < cd_end:
        if len(entries) > ctx.limits.max_members:
            raise LimitExceeded("max_members", f"zip holds over {ctx.limits.max_members} members")
        if p + _CENTRAL.size > len(buf) or bytes(buf[p : p + 4]) != b"PK\x01\x02":
            raise ParseError("central directory entry is truncated or has a bad signature", p)
        c = _CENTRAL.unpack_from(buf, p)
        flags, method, crc, csize, usize = c[3], c[4], c[7], c[8], c[9]
        nlen, xlen, clen, eattr, loff = c[10], c[11], c[12], c[15], c[16]
        name_raw = bytes(buf[p + 46 : p + 46 + nlen])
        extra = bytes(buf[p + 46 + nlen : p + 46 + nlen + xlen])
        usize, csize, loff = _zip64_extra(extra, usize, csize, loff)
        p += 46 + nlen + xlen + clen
        lo = loff + shift
        if lo + _LOCAL.size > len(buf) or bytes(buf[lo : lo + 4]) != b"PK\x03\x04":
            raise ParseError(f"local header of {_decode_name(name_raw, flags)!r} is missing", lo)
        loc = _LOCAL.unpack_from(buf, lo)
        lname_raw = bytes(buf[lo + 30 : lo + 30 + loc[9]])
        data_offset = lo + 30 + loc[9] + loc[10]
        if data_offset + csize > len(buf):
            raise ParseError(f"member {_decode_name(name_raw, flags)!r} runs past the end", lo)
        is_link = (eattr >> 16) & 0o170000 == 0o120000
        entries.append(
            ZipEntry(
                _decode_name(name_raw, flags),
                _decode_name(lname_raw, loc[2]),
                flags,
                method,
                crc,
                csize,
                usize,
                data_offset,
                is_link,
            )
        )
    if len(entries) != count:
        ctx.add(
            rules.ARC_MALFORMED,
            f"end record declares {count} members, the central directory holds {len(entries)}",
            location,
            offset=eocd,
        )
    seen: set[str] = set()
    for e in entries:
        if e.name in seen:
            # zipfile keeps the last of duplicate names, other readers the first: both scanned.
            ctx.add(
                rules.ARC_NAME_MISMATCH,
                f"member name {e.name!r} appears more than once; readers disagree on which",
                location,
                global_name=e.name,
            )
        seen.add(e.name)
    return entries


def _lzma_raw(data: bytes) -> lzma.LZMADecompressor:
    # Zip's LZMA method: 2 bytes version, 2 bytes props size, then the 5-byte LZMA1 props.
    if len(data) < 9:
        raise ParseError("zip LZMA header is truncated")
    props = data[4]
    lc, rest = props % 9, props // 9
    lp, pb = rest % 5, rest // 5
    dict_size = struct.unpack_from("<I", data, 5)[0]
    filters = [{"id": lzma.FILTER_LZMA1, "dict_size": dict_size, "lc": lc, "lp": lp, "pb": pb}]
    return lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=filters)


def member_bytes(
    ctx: ScanContext, buf: memoryview, e: ZipEntry, where: str, limit: int | None = None
) -> memoryview:
    """The member's content, at most `limit` bytes when given; stored members are not copied.

    Compressed members larger than a few MB are held in a mapped temporary file that lives
    until the view is garbage-collected (see `member_spool` to close it promptly).
    """
    spool = member_spool(ctx, buf, e, where, limit)
    if isinstance(spool, memoryview):
        return spool
    view = spool.view()
    return view


def member_spool(
    ctx: ScanContext, buf: memoryview, e: ZipEntry, where: str, limit: int | None = None
) -> memoryview | Spool:
    """A stored member's slice, or a Spool holding the decompressed member (bounded)."""
    raw = buf[e.data_offset : e.data_offset + e.csize]
    cap = ctx.limits.max_member_bytes if limit is None else limit
    if e.method == 0:
        return raw[:cap]
    if e.usize > ctx.limits.max_member_bytes and limit is None:
        raise LimitExceeded("max_member_bytes", f"member expands to {e.usize} bytes")
    if e.method == 8:
        d: object = zlib.decompressobj(-15)
    elif e.method == 12:
        d = bz2.BZ2Decompressor()
    elif e.method == 14:
        d = _lzma_raw(bytes(raw[:9]))
        raw = raw[9:]
    else:
        raise ParseError(f"compression method {e.method} is not supported")
    spool = Spool()
    try:
        pump(ctx, d, raw, f"zip member (method {e.method})", cap, spool)
    except BaseException:
        spool.close()
        raise
    if limit is None:
        ctx.charge(spool.size, where)
    return spool


def bad_path(name: str) -> bool:
    """True when extracting this member name would write outside the target folder."""
    if ".." not in name and name[:1] not in ("/", "\\") and name[1:2] != ":":
        return False
    n = name.replace("\\", "/")
    if n.startswith("/") or (len(n) > 1 and n[1] == ":"):
        return True
    return any(part == ".." for part in n.split("/"))
