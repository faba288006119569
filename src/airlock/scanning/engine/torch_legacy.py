"""PyTorch's oldest (tar) checkpoint format, read the way `torch.serialization.legacy_load` does.

The tar holds `sys_info`, `pickle`, `storages` and `tensors`. The last two are not one pickle:
`storages` is a count pickle, then per storage an argument pickle followed by raw bytes
(an 8-byte element count and the elements), then a pickle of storage views; `tensors` is a
count pickle, then per tensor an argument pickle followed by a binary shape record. Each of
those pickles is loaded by torch, so each is scanned; the raw parts in between are skipped
by the sizes the loader itself uses.
"""

from __future__ import annotations

import struct
from typing import Any, Final

from . import rules
from .context import ScanContext
from .model import LimitExceeded
from .pickle_scan import scan_pickle
from .pickle_vm import Global, Machine

_ELEMENT: Final = {
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
    "QInt8Storage": 1,
    "QUInt8Storage": 1,
    "QInt32Storage": 4,
}
MEMBERS: Final = ("storages", "tensors")


class _Stop(Exception):
    """The member does not follow the layout: what is left is scanned as plain pickles."""


def _value(ctx: ScanContext, buf: memoryview, pos: int, location: str) -> tuple[Any, int]:
    """Scan one stream at pos (findings go to ctx) and return what it evaluates to."""
    end = scan_pickle(ctx, buf, location, start=pos, max_streams=1)
    res = Machine(buf, ctx.limits.max_stack, ctx.limits.max_memo, ctx.check_time).run(pos, len(buf))
    if res.end < 0 or res.end != end:
        raise _Stop(res.error or "stream does not end where expected")
    return res.value, res.end


def _count(value: Any, limit: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise _Stop(f"count {value!r:.40} is not a non-negative integer")
    if value > limit:
        raise LimitExceeded("max_members", f"legacy checkpoint declares {value} records")
    return value


def scan_member(ctx: ScanContext, buf: memoryview, location: str, member: str) -> None:
    """Scan a legacy tar member `storages` or `tensors` record by record."""
    pos = 0
    try:
        pos = _walk(ctx, buf, member, location)
    except _Stop as exc:
        ctx.add(
            rules.PICKLE_PARSE,
            f"legacy torch {member} member does not follow torch's layout ({exc}); "
            "the rest is scanned as pickles",
            location,
            offset=pos,
        )
        scan_pickle(ctx, buf, location, start=pos)
    except (struct.error, IndexError) as exc:
        ctx.add(rules.PICKLE_PARSE, f"legacy torch {member} member is truncated: {exc}", location)


def _walk(ctx: ScanContext, buf: memoryview, member: str, location: str) -> int:
    limit = ctx.limits.max_members
    value, pos = _value(ctx, buf, 0, location)
    n = _count(value, limit)
    for _ in range(n):
        args, pos = _value(ctx, buf, pos, location)
        if member == "storages":
            kind = args[2] if isinstance(args, tuple) and len(args) == 3 else None
            size = _ELEMENT.get(kind.name, 0) if isinstance(kind, Global) else 0
            if not size:
                raise _Stop(f"storage type {kind!r:.60} has no known element size")
            numel = struct.unpack_from("<q", buf, pos)[0]
            if numel < 0:
                raise _Stop("negative storage size")
            pos += 8 + numel * size
        else:
            ndim = struct.unpack_from("<i", buf, pos)[0]
            if ndim < 0 or ndim > 64:
                raise _Stop(f"tensor with {ndim} dimensions")
            pos += 8 + 16 * ndim + 8
        if pos > len(buf):
            raise _Stop("record runs past the end of the member")
    if member == "storages":
        _views, pos = _value(ctx, buf, pos, location)
    if pos < len(buf):
        # torch reads nothing after this; anything that looks like a pickle is still judged.
        scan_pickle(ctx, buf, location, start=pos)
    return pos
