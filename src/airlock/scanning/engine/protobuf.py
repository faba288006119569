"""A minimal, bounded protobuf wire-format reader (no schema, no generated code)."""

from __future__ import annotations

from collections.abc import Iterator

from .model import ParseError

VARINT, I64, LEN, I32 = 0, 1, 2, 5


def _varint(buf: memoryview, i: int, end: int) -> tuple[int, int]:
    shift = 0
    out = 0
    while True:
        if i >= end or shift > 63:
            raise ParseError("truncated or overlong varint", i)
        b = buf[i]
        i += 1
        out |= (b & 0x7F) << shift
        if not b & 0x80:
            return out, i
        shift += 7


def fields(buf: memoryview, start: int, end: int) -> Iterator[tuple[int, int, int, int]]:
    """Yield (field number, wire type, value or start, end) for each field in [start, end).

    For length-delimited fields the third item is the payload start and the fourth its end;
    for the others the third is the value (raw bits for fixed-size fields) and the fourth -1.
    """
    i = start
    while i < end:
        key, i = _varint(buf, i, end)
        num, wt = key >> 3, key & 7
        if num == 0:
            raise ParseError("field number 0", i)
        if wt == VARINT:
            v, i = _varint(buf, i, end)
            yield num, wt, v, -1
        elif wt == LEN:
            n, i = _varint(buf, i, end)
            if i + n > end:
                raise ParseError(f"field {num} length {n} runs past its message", i)
            yield num, wt, i, i + n
            i += n
        elif wt == I64:
            if i + 8 > end:
                raise ParseError("truncated fixed64", i)
            yield num, wt, int.from_bytes(buf[i : i + 8], "little"), -1
            i += 8
        elif wt == I32:
            if i + 4 > end:
                raise ParseError("truncated fixed32", i)
            yield num, wt, int.from_bytes(buf[i : i + 4], "little"), -1
            i += 4
        else:
            raise ParseError(f"unsupported wire type {wt} for field {num}", i)


def text(buf: memoryview, start: int, end: int) -> str:
    """Decode a length-delimited field as UTF-8, replacing what does not decode."""
    return bytes(buf[start:end]).decode("utf-8", "replace")


def top_level(buf: memoryview, limit: int = 100_000) -> dict[int, int]:
    """Map each top-level field number to its wire type; ParseError when it is not protobuf."""
    seen: dict[int, int] = {}
    for n, (num, wt, _, _) in enumerate(fields(buf, 0, len(buf))):
        if n > limit:
            break
        if seen.get(num, wt) != wt:
            raise ParseError(f"field {num} appears with two wire types")
        seen[num] = wt
    return seen
