"""A bounded 7z reader for the common cases: Copy, LZMA, LZMA2, Deflate and BZip2 folders.

Anything else (filters chained before a codec, encryption, unusual headers) raises
Unsupported, and the caller reports the archive as not scanned (review).
"""

from __future__ import annotations

import bz2
import lzma
import struct
import zlib
from dataclasses import dataclass, field
from typing import Final

from .model import LimitExceeded, ParseError

MAGIC: Final = b"7z\xbc\xaf\x27\x1c"
_END, _HEADER, _ARCHIVE_PROPS, _ADD_STREAMS, _MAIN_STREAMS, _FILES = range(6)
_PACK_INFO, _UNPACK_INFO, _SUBSTREAMS, _SIZE, _CRC, _FOLDER, _UNPACK_SIZE, _NUM_UNPACK = range(
    6, 14
)
_EMPTY_STREAM, _EMPTY_FILE, _NAME, _ENCODED_HEADER, _DUMMY = 0x0E, 0x0F, 0x11, 0x17, 0x19
_MAX_ITEMS: Final = 100_000


class Unsupported(Exception):
    """A valid 7z feature this reader does not implement."""


@dataclass
class _Folder:
    coders: list[tuple[bytes, bytes]]
    unpack_sizes: list[int] = field(default_factory=list)


@dataclass
class _Streams:
    pack_pos: int = 0
    pack_sizes: list[int] = field(default_factory=list)
    folders: list[_Folder] = field(default_factory=list)
    substreams: list[list[int]] = field(default_factory=list)


class _R:
    def __init__(self, data: bytes) -> None:
        self.d, self.i = data, 0

    def byte(self) -> int:
        if self.i >= len(self.d):
            raise ParseError("7z header is truncated", self.i)
        self.i += 1
        return self.d[self.i - 1]

    def take(self, n: int) -> bytes:
        if n < 0 or self.i + n > len(self.d):
            raise ParseError("7z header field runs past its end", self.i)
        self.i += n
        return self.d[self.i - n : self.i]

    def number(self) -> int:
        first = self.byte()
        mask, value = 0x80, 0
        for k in range(8):
            if not first & mask:
                return value | ((first & (mask - 1)) << (8 * k))
            value |= self.byte() << (8 * k)
            mask >>= 1
        return value

    def count(self) -> int:
        n = self.number()
        if n > _MAX_ITEMS:
            raise LimitExceeded("max_members", f"7z header declares {n} items")
        return n

    def bits(self, n: int) -> list[bool]:
        out, cur, mask = [], 0, 0
        for _ in range(n):
            if mask == 0:
                cur, mask = self.byte(), 0x80
            out.append(bool(cur & mask))
            mask >>= 1
        return out

    def digests(self, n: int) -> None:
        defined = [True] * n if self.byte() else self.bits(n)
        self.take(4 * sum(defined))


def _streams(r: _R) -> _Streams:
    s = _Streams()
    while (pid := r.byte()) != _END:
        if pid == _PACK_INFO:
            s.pack_pos = r.number()
            n = r.count()
            while (sub := r.byte()) != _END:
                if sub == _SIZE:
                    s.pack_sizes = [r.number() for _ in range(n)]
                elif sub == _CRC:
                    r.digests(n)
                else:
                    raise Unsupported(f"7z pack info property {sub}")
        elif pid == _UNPACK_INFO:
            if r.byte() != _FOLDER:
                raise ParseError("7z unpack info without folders", r.i)
            n = r.count()
            if r.byte():
                raise Unsupported("7z external folder data")
            s.folders = [_folder(r) for _ in range(n)]
            if r.byte() != _UNPACK_SIZE:
                raise ParseError("7z folders without unpack sizes", r.i)
            for f in s.folders:
                f.unpack_sizes = [r.number() for _ in f.coders]
            while (sub := r.byte()) != _END:
                if sub == _CRC:
                    r.digests(len(s.folders))
                else:
                    raise Unsupported(f"7z unpack info property {sub}")
        elif pid == _SUBSTREAMS:
            s.substreams = _substreams(r, s.folders)
        else:
            raise Unsupported(f"7z streams property {pid}")
    if not s.substreams:
        s.substreams = [[min(f.unpack_sizes)] for f in s.folders]
    return s


def _folder(r: _R) -> _Folder:
    coders = []
    for _ in range(r.count()):
        flags = r.byte()
        cid = r.take(flags & 0x0F)
        if flags & 0x10:
            raise Unsupported("7z coder with several streams")
        props = r.take(r.number()) if flags & 0x20 else b""
        coders.append((cid, props))
    if not 1 <= len(coders) <= 2:
        raise Unsupported("7z folder with more than two coders")
    for _ in range(len(coders) - 1):
        r.number(), r.number()  # bind pair: with two single-stream coders it is implied
    return _Folder(coders)


def _substreams(r: _R, folders: list[_Folder]) -> list[list[int]]:
    counts = [1] * len(folders)
    pid = r.byte()
    if pid == _NUM_UNPACK:
        counts = [r.count() for _ in folders]
        pid = r.byte()
    sizes: list[list[int]] = []
    if pid == _SIZE:
        for f, n in zip(folders, counts, strict=True):
            part = [r.number() for _ in range(max(n - 1, 0))]
            if n:
                part.append(min(f.unpack_sizes) - sum(part))
            sizes.append(part)
        pid = r.byte()
    else:
        sizes = [[min(f.unpack_sizes)] if n else [] for f, n in zip(folders, counts, strict=True)]
    while pid != _END:
        if pid == _CRC:
            r.digests(sum(1 for s in sizes for _ in s))
        else:
            raise Unsupported(f"7z substreams property {pid}")
        pid = r.byte()
    return sizes


# Branch-converter filters 7-Zip puts in front of LZMA/LZMA2 (decoded by the same raw chain).
_BCJ: Final = {
    b"\x03\x03\x01\x03": lzma.FILTER_X86,
    b"\x03\x03\x02\x05": lzma.FILTER_POWERPC,
    b"\x03\x03\x04\x01": lzma.FILTER_IA64,
    b"\x03\x03\x05\x01": lzma.FILTER_ARM,
    b"\x03\x03\x07\x01": lzma.FILTER_ARMTHUMB,
    b"\x03\x03\x08\x05": lzma.FILTER_SPARC,
}


def _codec_filter(cid: bytes, props: bytes) -> dict[str, int]:
    if cid == b"\x21":
        if len(props) != 1:
            raise ParseError("7z LZMA2 properties are not one byte")
        p = props[0]
        dict_size = (2 | (p & 1)) << (p // 2 + 11) if p < 40 else 0xFFFFFFFF
        return {"id": lzma.FILTER_LZMA2, "dict_size": dict_size}
    if cid == b"\x03\x01\x01":
        if len(props) != 5:
            raise ParseError("7z LZMA properties are not five bytes")
        d = props[0]
        size = struct.unpack_from("<I", props, 1)[0]
        return {
            "id": lzma.FILTER_LZMA1,
            "dict_size": size,
            "lc": d % 9,
            "lp": (d // 9) % 5,
            "pb": d // 45,
        }
    raise Unsupported(f"7z coder {cid.hex()} cannot follow a filter")


def _chain(folder: _Folder) -> object:
    (c0, p0), (c1, p1) = folder.coders
    if c1 in _BCJ:
        codec, filt = (c0, p0), c1
    elif c0 in _BCJ:
        codec, filt = (c1, p1), c0
    else:
        raise Unsupported("7z coder chain is not a branch filter with LZMA")
    filters = [{"id": _BCJ[filt]}, _codec_filter(*codec)]
    return lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=filters)


def _decoder(cid: bytes, props: bytes) -> object:
    if cid == b"\x21":
        if len(props) != 1:
            raise ParseError("7z LZMA2 properties are not one byte")
        p = props[0]
        dict_size = (2 | (p & 1)) << (p // 2 + 11) if p < 40 else 0xFFFFFFFF
        return lzma.LZMADecompressor(
            lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA2, "dict_size": dict_size}]
        )
    if cid == b"\x03\x01\x01":
        if len(props) != 5:
            raise ParseError("7z LZMA properties are not five bytes")
        d = props[0]
        lc, lp, pb = d % 9, (d // 9) % 5, d // 45
        size = struct.unpack_from("<I", props, 1)[0]
        f = {"id": lzma.FILTER_LZMA1, "dict_size": size, "lc": lc, "lp": lp, "pb": pb}
        return lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=[f])
    if cid == b"\x04\x01\x08":
        return zlib.decompressobj(-15)
    if cid == b"\x04\x02\x02":
        return bz2.BZ2Decompressor()
    raise Unsupported(f"7z coder {cid.hex()} is not supported")


def _unpack(data: memoryview, pos: int, size: int, folder: _Folder, cap: tuple[int, int]) -> bytes:
    limit, ratio = cap
    want = min(folder.unpack_sizes)
    if want > limit:
        raise LimitExceeded("max_member_bytes", f"7z folder unpacks to {want} bytes")
    if want > 1 << 20 and want > ratio * max(size, 1):
        raise LimitExceeded("max_ratio", f"7z folder expands {size} bytes to {want} (bomb)")
    if 32 + pos + size > len(data):
        raise ParseError("7z packed stream runs past the end", 32 + pos)
    raw = data[32 + pos : 32 + pos + size]
    cid, props = folder.coders[0]
    if len(folder.coders) == 1 and cid == b"\x00":
        return bytes(raw[:want])
    d = _chain(folder) if len(folder.coders) == 2 else _decoder(cid, props)
    out = d.decompress(bytes(raw), want)  # type: ignore[attr-defined]
    if len(out) < want:
        raise ParseError(f"7z folder gave {len(out)} of {want} bytes", 32 + pos)
    return bytes(out)


def _folder_data(data: memoryview, s: _Streams, cap: tuple[int, int]) -> list[bytes]:
    out, pos = [], s.pack_pos
    if len(s.pack_sizes) < len(s.folders):
        raise ParseError("7z has fewer packed streams than folders")
    for f, size in zip(s.folders, s.pack_sizes, strict=False):
        out.append(_unpack(data, pos, size, f, cap))
        pos += size
    return out


def _names(r: _R) -> tuple[list[str], list[bool]]:
    n = r.count()
    names = [f"file{k}" for k in range(n)]
    empty = [False] * n
    while (pid := r.byte()) != _END:
        size = r.number()
        body = _R(r.take(size))
        if pid == _EMPTY_STREAM:
            empty = body.bits(n)
        elif pid == _NAME:
            if body.byte():
                raise Unsupported("7z external names")
            text = body.d[body.i :].decode("utf-16-le", "replace")
            names = text.split("\x00")[:n]
    return names, empty


def members(data: memoryview, cap: int, ratio: int = 200) -> list[tuple[str, bytes]]:
    """(name, content) of every file, each folder at most `cap` bytes and `ratio` x its size."""
    if len(data) < 32 or bytes(data[:6]) != MAGIC:
        raise ParseError("not a 7z archive")
    off, size = struct.unpack_from("<QQ", data, 12)
    if 32 + off + size > len(data) or size > 64 << 20:
        raise ParseError("7z next header lies outside the file", 12)
    header = bytes(data[32 + off : 32 + off + size])
    for _ in range(4):  # an encoded header unpacks to the real one (rarely twice)
        r = _R(header)
        kind = r.byte()
        if kind == _ENCODED_HEADER:
            blobs = _folder_data(data, _streams(r), (cap, ratio))
            if not blobs:
                raise ParseError("7z encoded header has no folder")
            header = blobs[0]
            continue
        if kind != _HEADER:
            raise ParseError(f"7z header starts with property {kind}")
        return _files(r, data, (cap, ratio))
    raise ParseError("7z header is encoded too many times")


def _files(r: _R, data: memoryview, cap: tuple[int, int]) -> list[tuple[str, bytes]]:
    streams = _Streams()
    names: list[str] = []
    empty: list[bool] = []
    while (pid := r.byte()) != _END:
        if pid == _MAIN_STREAMS:
            streams = _streams(r)
        elif pid == _FILES:
            names, empty = _names(r)
        else:
            raise Unsupported(f"7z header property {pid}")
    blobs = _folder_data(data, streams, cap)
    contents: list[bytes] = []
    for blob, sizes in zip(blobs, streams.substreams, strict=False):
        pos = 0
        for sz in sizes:
            contents.append(blob[pos : pos + sz])
            pos += sz
    out, k = [], 0
    for i, name in enumerate(names):
        if i < len(empty) and empty[i]:
            continue
        if k < len(contents):
            out.append((name, contents[k]))
        k += 1
    return out
