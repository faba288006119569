"""Read a NumPy `.npy` header the way `numpy.lib.format` does, without importing NumPy.

NumPy reads the header as a Python literal (`ast.literal_eval`, with a Python 2 fallback that
drops the `L` of long integers), checks its three keys, then builds the dtype with
`descr_to_dtype`. When that dtype `hasobject`, the array body is a pickle. This module mirrors
that walk over the literal: every place `descr_to_dtype` reads a format is checked for an
object spelling (`'O'`, `'|O'`, `'O8'`, `'object'`, `'i4,O'`, `'(2,)O'`, nested structured
fields, subarrays), and field names are never mistaken for formats. The differential tests
compare the result with NumPy's own reader on generated and mutated headers.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any, Final

from .model import ParseError

MAGIC: Final = b"\x93NUMPY"
# (major, minor) -> (length struct, text encoding), as in numpy.lib.format._header_size_info.
_HEADER_INFO: Final = {(1, 0): ("<H", "latin1"), (2, 0): ("<I", "latin1"), (3, 0): ("<I", "utf8")}
# NumPy refuses headers above 10,000 characters unless the caller trusts the file (then it
# reads any size), so the scanner reads more.
MAX_HEADER: Final = 1 << 20
_MAX_DEPTH: Final = 64


@dataclass(frozen=True, slots=True)
class NpyHeader:
    """What NumPy reads before the array body."""

    version: tuple[int, int]
    descr: Any
    fortran_order: bool
    shape: tuple[int, ...]
    data_offset: int
    has_object: bool


def _filter_header(text: str) -> str:
    # numpy.lib.format._filter_header: Python 2 headers wrote longs as "3L".
    import tokenize
    from io import StringIO

    tokens = []
    last_number = False
    for tok in tokenize.generate_tokens(StringIO(text).readline):
        if last_number and tok[0] == tokenize.NAME and tok[1] == "L":
            continue
        tokens.append(tok)
        last_number = tok[0] == tokenize.NUMBER
    return str(tokenize.untokenize(tokens))


def read_header(buf: memoryview | bytes) -> NpyHeader:
    """Parse magic, version, length and the header literal; raise ParseError like NumPy fails."""
    if bytes(buf[:6]) != MAGIC:
        raise ParseError("not a NumPy file (magic string missing)", 0)
    if len(buf) < 10:
        raise ParseError("NumPy file is shorter than its header", 0)
    version = (buf[6], buf[7])
    info = _HEADER_INFO.get(version)
    if info is None:
        raise ParseError(f"NumPy format version {version[0]}.{version[1]} is unknown", 6)
    fmt, encoding = info
    start = 8 + struct.calcsize(fmt)
    if len(buf) < start:
        raise ParseError("NumPy header length is truncated", 8)
    hlen = struct.unpack_from(fmt, buf, 8)[0]
    if hlen > MAX_HEADER or start + hlen > len(buf):
        raise ParseError(f"NumPy header of {hlen} bytes runs past the end or the limit", 8)
    try:
        text = bytes(buf[start : start + hlen]).decode(encoding)
    except UnicodeDecodeError as exc:
        raise ParseError(f"NumPy header is not {encoding}: {exc}", start) from exc
    header = _literal(text, version, start)
    if not isinstance(header, dict) or set(header) != {"descr", "fortran_order", "shape"}:
        raise ParseError("NumPy header must have exactly descr, fortran_order and shape", start)
    shape = header["shape"]
    if not isinstance(shape, tuple) or not all(isinstance(x, int) for x in shape):
        raise ParseError(f"NumPy shape {shape!r:.80} is not a tuple of integers", start)
    if not isinstance(header["fortran_order"], bool):
        raise ParseError("NumPy fortran_order is not a bool", start)
    try:
        obj = descr_has_object(header["descr"])
    except (TypeError, ValueError, RecursionError) as exc:
        raise ParseError(f"NumPy descr is not a valid dtype descriptor: {exc}", start) from exc
    return NpyHeader(version, header["descr"], header["fortran_order"], shape, start + hlen, obj)


def _literal(text: str, version: tuple[int, int], offset: int) -> Any:
    import ast  # start-up time: only NumPy files need it

    try:
        return ast.literal_eval(text)
    except SyntaxError:
        if version > (2, 0):
            raise ParseError("NumPy header is not a Python literal", offset) from None
    except (ValueError, MemoryError, RecursionError) as exc:
        raise ParseError(f"NumPy header is not a Python literal: {exc}", offset) from exc
    try:
        return ast.literal_eval(_filter_header(text))
    except (SyntaxError, ValueError, MemoryError, RecursionError, Exception) as exc:
        raise ParseError(f"NumPy header is not a Python literal: {exc}", offset) from exc


def format_has_object(spec: str) -> bool:
    """Whether a dtype string (`'O'`, `'<O8'`, `'object'`, `'i4,O'`, `'(2,)O'`) holds objects.

    Conservative: NumPy's only object spellings contain the type character `O` or the name
    `object`; no other type string contains an upper-case O.
    """
    return "O" in spec or "object" in spec


def descr_has_object(descr: Any, depth: int = 0) -> bool:
    """Mirror of numpy.lib.format.descr_to_dtype(...).hasobject over the header literal."""
    if depth > _MAX_DEPTH:
        raise ValueError("dtype description nested too deeply")
    if isinstance(descr, str):
        return format_has_object(descr)
    if isinstance(descr, tuple):
        # (subtype, shape); the second item is only a shape for NumPy, but a union form
        # (base, new) naming objects is refused by NumPy anyway: look at both.
        if not descr:
            raise ValueError("empty tuple is not a dtype")
        second = descr[1] if len(descr) > 1 else None
        extra = not isinstance(second, int | tuple) and second is not None
        return descr_has_object(descr[0], depth + 1) or (
            extra and descr_has_object(second, depth + 1)
        )
    if isinstance(descr, int | float | bool | bytes | type(None) | complex):
        raise TypeError(f"{type(descr).__name__} is not a dtype description")
    found = False
    # descr_to_dtype iterates whatever it is given: a list of fields, but also a dict's keys
    # or a set; a two- or three-character string is unpacked as (name, format[, shape]).
    for field in descr:
        if len(field) == 2:
            _name, spec = field
        elif len(field) == 3:
            _name, spec, shape = field
            # numpy.dtype((format, shape)) needs an int or a tuple of ints (found by the
            # differential test: "['af8']" unpacks to shape "8", which NumPy refuses).
            if not (
                isinstance(shape, int)
                or (isinstance(shape, tuple) and all(isinstance(x, int) for x in shape))
            ):
                raise ValueError(f"field shape {shape!r:.40} is not an int or a tuple of ints")
        else:
            raise ValueError(f"field {field!r:.60} is not (name, format[, shape])")
        found = descr_has_object(spec, depth + 1) or found
    return found
