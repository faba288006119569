"""Tensor file formats: NumPy .npy, safetensors and GGUF (headers, bounds, chat templates)."""

from __future__ import annotations

import json
import re
import struct
from typing import Any, Final

from . import rules
from .context import ScanContext
from .model import LimitExceeded, ParseError
from .pickle_scan import scan_pickle


def scan_npy(ctx: ScanContext, buf: memoryview, location: str) -> None:
    """Object arrays are pickles: scan them; plain arrays need a valid header and enough bytes."""
    from .npyheader import read_header

    try:
        header = read_header(buf)
    except ParseError as exc:
        ctx.add(rules.NPY_HEADER, str(exc), location, offset=exc.offset)
        return
    shape, data = header.shape, header.data_offset
    if not all(x >= 0 for x in shape):
        ctx.add(rules.NPY_HEADER, f"NumPy shape {shape!r} has a negative size", location)
        return
    if header.has_object:
        # numpy.lib.format.read_array hands the rest of the file to pickle.load.
        scan_pickle(ctx, buf, location, profile="numpy", start=data, max_streams=1)
        return
    descr = header.descr
    m = re.fullmatch(r"[<>|=]?[biufcmMSUV](\d+)", descr) if isinstance(descr, str) else None
    if m is not None:
        size = int(m.group(1)) * (4 if "U" in descr else 1)
        count = 1
        for x in shape:
            count *= x
        if data + count * size > len(buf):
            ctx.add(
                rules.NPY_HEADER,
                f"NumPy data is truncated: {count * size} bytes declared, "
                f"{len(buf) - data} present",
                location,
                offset=data,
            )


_SFT_DTYPES: Final = {
    "BOOL": 1,
    "U8": 1,
    "I8": 1,
    "F8_E5M2": 1,
    "F8_E4M3": 1,
    "I16": 2,
    "U16": 2,
    "F16": 2,
    "BF16": 2,
    "I32": 4,
    "U32": 4,
    "F32": 4,
    "F64": 8,
    "I64": 8,
    "U64": 8,
    "C64": 8,
    "F8_E8M0": 1,
    "F4": 1,
    "F6_E2M3": 1,
    "F6_E3M2": 1,
}


def _no_dupes(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ParseError(f"duplicate key {k!r} in the header")
        out[k] = v
    return out


def scan_safetensors(ctx: ScanContext, buf: memoryview, location: str) -> None:
    """Header length, strict JSON, dtype x shape = span, offsets in bounds, sorted, no overlap."""
    n = struct.unpack_from("<Q", buf, 0)[0]
    if n > ctx.limits.max_header_bytes or 8 + n > len(buf):
        ctx.add(
            rules.SFT_HEADER, f"header length {n} exceeds the file or the limit", location, offset=0
        )
        return
    try:
        header = json.loads(bytes(buf[8 : 8 + n]).decode("utf-8"), object_pairs_hook=_no_dupes)
    except (ValueError, ParseError, RecursionError) as exc:
        ctx.add(rules.SFT_HEADER, f"header is not strict JSON: {exc}", location, offset=8)
        return
    if not isinstance(header, dict):
        ctx.add(rules.SFT_HEADER, "header is not a JSON object", location, offset=8)
        return
    data_len = len(buf) - 8 - n
    spans: list[tuple[int, int, str]] = []
    for name, info in header.items():
        if name == "__metadata__":
            if not isinstance(info, dict) or not all(isinstance(v, str) for v in info.values()):
                ctx.add(
                    rules.SFT_HEADER, "__metadata__ must map strings to strings", location, offset=8
                )
            continue
        problem = _sft_entry(info, data_len)
        if problem:
            ctx.add(
                rules.SFT_OFFSETS, f"tensor {name!r}: {problem}", location, offset=8, detail=name
            )
            continue
        spans.append((info["data_offsets"][0], info["data_offsets"][1], name))
    spans.sort()
    pos = 0
    for b, e, name in spans:
        if b < pos:
            ctx.add(
                rules.SFT_OFFSETS,
                f"tensor {name!r} overlaps the previous tensor",
                location,
                offset=8 + n + b,
                detail=name,
            )
        elif b > pos:
            ctx.add(
                rules.SFT_OFFSETS,
                f"gap of {b - pos} bytes before tensor {name!r}",
                location,
                offset=8 + n + pos,
                detail=name,
            )
        pos = max(pos, e)
    if spans and pos != data_len:
        ctx.add(
            rules.SFT_OFFSETS,
            f"tensors cover {pos} bytes but the data section has {data_len}",
            location,
            offset=8 + n,
        )


def _sft_entry(info: Any, data_len: int) -> str:
    if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
        return "entry must have exactly dtype, shape and data_offsets"
    size = _SFT_DTYPES.get(info["dtype"]) if isinstance(info["dtype"], str) else None
    if size is None:
        return f"unknown dtype {info['dtype']!r}"
    shape, offs = info["shape"], info["data_offsets"]
    if not isinstance(shape, list) or not all(type(x) is int and x >= 0 for x in shape):
        return "shape must be a list of sizes"
    if not (
        isinstance(offs, list) and len(offs) == 2 and all(type(x) is int and x >= 0 for x in offs)
    ):
        return "data_offsets must be two byte offsets"
    count = 1
    for x in shape:
        count *= x
    if offs[1] < offs[0] or offs[1] > data_len:
        return f"data_offsets {offs} are out of bounds (data section {data_len} bytes)"
    if offs[1] - offs[0] != (
        count * size if info["dtype"] not in ("F4", "F6_E2M3", "F6_E3M2") else offs[1] - offs[0]
    ):
        return f"dtype x shape is {count * size} bytes but the span is {offs[1] - offs[0]}"
    return ""


_GGUF_SCALAR: Final = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}


class _Reader:
    def __init__(self, buf: memoryview) -> None:
        self.buf, self.i = buf, 0

    def take(self, n: int) -> int:
        if n < 0 or self.i + n > len(self.buf):
            raise ParseError(f"{n} bytes wanted at offset {self.i} run past the end", self.i)
        j = self.i
        self.i += n
        return j

    def u32(self) -> int:
        return int(struct.unpack_from("<I", self.buf, self.take(4))[0])

    def u64(self) -> int:
        return int(struct.unpack_from("<Q", self.buf, self.take(8))[0])

    def string(self, v1: bool) -> str:
        n = self.u32() if v1 else self.u64()
        j = self.take(n)
        return bytes(self.buf[j : j + n]).decode("utf-8", "replace")


def scan_gguf(ctx: ScanContext, buf: memoryview, location: str) -> None:
    """Header counts and string lengths inside the file, tensor offsets in bounds, chat template."""
    r = _Reader(buf)
    try:
        r.take(4)
        version = r.u32()
        if version not in (1, 2, 3):
            raise ParseError(f"GGUF version {version} is unknown", 4)
        v1 = version == 1
        n_tensors = r.u32() if v1 else r.u64()
        n_kv = r.u32() if v1 else r.u64()
        # Each kv needs at least 13 bytes and each tensor info 24: counts beyond that are lies.
        if n_kv * 13 > len(buf) or n_tensors * 24 > len(buf):
            raise ParseError(
                f"GGUF declares {n_kv} keys and {n_tensors} tensors, more than the file holds", 8
            )
        alignment = 32
        for _ in range(n_kv):
            key = r.string(v1)
            vtype = r.u32()
            value = _gguf_value(r, vtype, v1, 0)
            if key == "general.alignment" and isinstance(value, int) and value > 0:
                alignment = value
            if key.startswith("tokenizer.chat_template") and isinstance(value, str):
                _check_template(ctx, value, location, key)
            ctx.check_time()
        infos = []
        for _ in range(n_tensors):
            name = r.string(v1)
            nd = r.u32()
            if nd > 8:
                raise ParseError(f"tensor {name!r} has {nd} dimensions", r.i)
            count = 1
            for _ in range(nd):
                count *= r.u32() if v1 else r.u64()
            ttype = r.u32()
            infos.append((name, r.u64(), _ggml_bytes(ttype, count)))
        data_start = (r.i + alignment - 1) // alignment * alignment
        for name, off, size in infos:
            if data_start + off + size > len(buf):
                raise ParseError(f"tensor {name!r} at {off} (+{size}) runs past the end", r.i)
    except ParseError as exc:
        ctx.add(rules.GGUF_BOUNDS, f"GGUF structure is invalid: {exc}", location, offset=exc.offset)


# ggml type id -> (elements per block, bytes per block); unknown types are checked by offset only.
_GGML: Final = {
    0: (1, 4),
    1: (1, 2),
    2: (32, 18),
    3: (32, 20),
    6: (32, 22),
    7: (32, 24),
    8: (32, 34),
    9: (32, 36),
    10: (256, 84),
    11: (256, 110),
    12: (256, 144),
    13: (256, 176),
    14: (256, 210),
    15: (256, 292),
    24: (1, 1),
    25: (1, 2),
    26: (1, 4),
    27: (1, 8),
    28: (1, 8),
    30: (1, 2),
}


def _ggml_bytes(ttype: int, count: int) -> int:
    block, nbytes = _GGML.get(ttype, (1, 0))
    return (count + block - 1) // block * nbytes


def _gguf_value(r: _Reader, vtype: int, v1: bool, depth: int) -> Any:
    if vtype in _GGUF_SCALAR:
        j = r.take(_GGUF_SCALAR[vtype])
        if vtype in (4, 5, 10, 11):
            return int.from_bytes(r.buf[j : r.i], "little", signed=vtype in (5, 11))
        return None
    if vtype == 8:
        return r.string(v1)
    if vtype == 9:
        if depth > 2:
            raise LimitExceeded("max_depth", "GGUF arrays nested too deep")
        itype = r.u32()
        count = r.u32() if v1 else r.u64()
        if itype in _GGUF_SCALAR:
            r.take(count * _GGUF_SCALAR[itype])
            return None
        if count * 8 > len(r.buf) - r.i:
            raise ParseError(f"GGUF array of {count} items cannot fit in the file", r.i)
        for _ in range(count):
            _gguf_value(r, itype, v1, depth + 1)
        return None
    raise ParseError(f"GGUF value type {vtype} is unknown", r.i)


def _check_template(ctx: ScanContext, tmpl: str, location: str, key: str) -> None:
    """Judge the template on Jinja2's syntax tree (deny by default, see templates.py)."""
    from .templates import template_view

    for issue in template_view(tmpl).issues:
        rule = rules.GGUF_TEMPLATE_ESCAPE if issue.verdict == "block" else rules.GGUF_TEMPLATE_ODD
        ctx.add(
            rule,
            f"{key} line {issue.line}: {issue.message}",
            location,
            global_name=key,
            detail=tmpl[:300],
        )
