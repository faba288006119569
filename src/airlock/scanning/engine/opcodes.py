"""The pickle opcode table (protocols 0-5): names and how each opcode's argument is laid out."""

from __future__ import annotations

import struct
from typing import Final

from .model import ParseError

# Argument layouts: fixed byte counts, newline-terminated lines, or length-prefixed payloads.
NONE, LINE, LINE2, FIX1, FIX2, FIX4, FIX8, LEN1, LEN4, LEN8, LONG1, LONG4 = range(12)

_TABLE: Final = [
    ("(", "MARK", NONE),
    (".", "STOP", NONE),
    ("0", "POP", NONE),
    ("1", "POP_MARK", NONE),
    ("2", "DUP", NONE),
    ("F", "FLOAT", LINE),
    ("I", "INT", LINE),
    ("J", "BININT", FIX4),
    ("K", "BININT1", FIX1),
    ("L", "LONG", LINE),
    ("M", "BININT2", FIX2),
    ("N", "NONE", NONE),
    ("P", "PERSID", LINE),
    ("Q", "BINPERSID", NONE),
    ("R", "REDUCE", NONE),
    ("S", "STRING", LINE),
    ("T", "BINSTRING", LEN4),
    ("U", "SHORT_BINSTRING", LEN1),
    ("V", "UNICODE", LINE),
    ("X", "BINUNICODE", LEN4),
    ("a", "APPEND", NONE),
    ("b", "BUILD", NONE),
    ("c", "GLOBAL", LINE2),
    ("d", "DICT", NONE),
    ("}", "EMPTY_DICT", NONE),
    ("e", "APPENDS", NONE),
    ("g", "GET", LINE),
    ("h", "BINGET", FIX1),
    ("i", "INST", LINE2),
    ("j", "LONG_BINGET", FIX4),
    ("l", "LIST", NONE),
    ("]", "EMPTY_LIST", NONE),
    ("o", "OBJ", NONE),
    ("p", "PUT", LINE),
    ("q", "BINPUT", FIX1),
    ("r", "LONG_BINPUT", FIX4),
    ("s", "SETITEM", NONE),
    ("t", "TUPLE", NONE),
    (")", "EMPTY_TUPLE", NONE),
    ("u", "SETITEMS", NONE),
    ("G", "BINFLOAT", FIX8),
    ("\x80", "PROTO", FIX1),
    ("\x81", "NEWOBJ", NONE),
    ("\x82", "EXT1", FIX1),
    ("\x83", "EXT2", FIX2),
    ("\x84", "EXT4", FIX4),
    ("\x85", "TUPLE1", NONE),
    ("\x86", "TUPLE2", NONE),
    ("\x87", "TUPLE3", NONE),
    ("\x88", "NEWTRUE", NONE),
    ("\x89", "NEWFALSE", NONE),
    ("\x8a", "LONG1", LONG1),
    ("\x8b", "LONG4", LONG4),
    ("B", "BINBYTES", LEN4),
    ("C", "SHORT_BINBYTES", LEN1),
    ("\x8c", "SHORT_BINUNICODE", LEN1),
    ("\x8d", "BINUNICODE8", LEN8),
    ("\x8e", "BINBYTES8", LEN8),
    ("\x8f", "EMPTY_SET", NONE),
    ("\x90", "ADDITEMS", NONE),
    ("\x91", "FROZENSET", NONE),
    ("\x92", "NEWOBJ_EX", NONE),
    ("\x93", "STACK_GLOBAL", NONE),
    ("\x94", "MEMOIZE", NONE),
    ("\x95", "FRAME", FIX8),
    ("\x96", "BYTEARRAY8", LEN8),
    ("\x97", "NEXT_BUFFER", NONE),
    ("\x98", "READONLY_BUFFER", NONE),
]

NAMES: Final[dict[int, str]] = {ord(c): n for c, n, _ in _TABLE}
LAYOUT: Final[dict[int, int]] = {ord(c): k for c, _, k in _TABLE}
_FIXED: Final = {FIX1: 1, FIX2: 2, FIX4: 4, FIX8: 8}
_U32 = struct.Struct("<I").unpack_from
_I32 = struct.Struct("<i").unpack_from
_U64 = struct.Struct("<Q").unpack_from
MAX_LINE: Final = 1 << 16


def find_newline(buf: memoryview, start: int, end: int) -> int:
    """Index of the next newline at or after start, bounded; raise ParseError when absent."""
    stop = min(end, start + MAX_LINE)
    # memoryview has no find(); copy a small window first (lines are short), then the rest.
    j = bytes(buf[start : min(stop, start + 256)]).find(b"\n")
    if j < 0 and stop > start + 256:
        j = bytes(buf[start:stop]).find(b"\n")
    if j < 0:
        raise ParseError("line argument is not terminated by a newline", start)
    return start + j


def next_op(buf: memoryview, i: int, end: int) -> int:
    """Offset of the opcode after the one at i (used for traces and validation)."""
    op = buf[i]
    kind = LAYOUT.get(op)
    if kind is None:
        raise ParseError(f"unknown opcode 0x{op:02x}", i)
    j = i + 1
    if kind == NONE:
        return j
    if kind in _FIXED:
        j += _FIXED[kind]
    elif kind == LINE:
        j = find_newline(buf, j, end) + 1
    elif kind == LINE2:
        j = find_newline(buf, find_newline(buf, j, end) + 1, end) + 1
    elif kind in (LEN1, LONG1):
        if j >= end:
            raise ParseError("truncated length", i)
        j += 1 + buf[j]
    elif kind in (LEN4, LONG4):
        if j + 4 > end:
            raise ParseError("truncated length", i)
        n = _U32(buf, j)[0] if kind == LEN4 else _I32(buf, j)[0]
        j += 4 + max(n, 0)
    else:
        if j + 8 > end:
            raise ParseError("truncated length", i)
        j += 8 + _U64(buf, j)[0]
    if j > end:
        raise ParseError(f"{NAMES[op]} argument runs past the end of the data", i)
    return j


def traces(
    buf: memoryview, start: int, end: int, offsets: set[int], depth: int
) -> dict[int, tuple[str, ...]]:
    """The last `depth` opcodes up to and including each offset, walking from start once."""
    out: dict[int, tuple[str, ...]] = {}
    ring: list[str] = []
    i = start
    want = max(offsets) if offsets else -1
    try:
        while i <= want and i < end:
            ring.append(f"{i}:{NAMES.get(buf[i], hex(buf[i]))}")
            if len(ring) > depth:
                del ring[0]
            if i in offsets:
                out[i] = tuple(ring)
            i = next_op(buf, i, end)
    except ParseError:
        pass
    return out
