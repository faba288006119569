"""Read tensor names, dtypes and shapes from weight files without loading any weights.

safetensors: the JSON header only (bounded). GGUF: the metadata and tensor-info tables.
ONNX: the graph's initialisers, by walking the protobuf wire format (never run). PyTorch:
the storages the pickle declares, through the artifact engine's emulated pickle machine.
Every reader is bounded in bytes, counts and depth, and reports a problem instead of raising.
"""

from __future__ import annotations

import json
import math
import mmap
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from airlock.scanning.engine.tensor_census import census_torch_file

MAX_HEADER_BYTES: Final = 100 * 1024 * 1024  # safetensors' own loader refuses larger headers
MAX_TENSORS: Final = 2_000_000
MAX_GGUF_KV: Final = 100_000
MAX_GGUF_STRING: Final = 64 * 1024 * 1024
MAX_GGUF_ARRAY: Final = 10_000_000
MAX_DIMS: Final = 16

SAFETENSORS_ITEMSIZE: Final = {
    "F64": 8,
    "F32": 4,
    "F16": 2,
    "BF16": 2,
    "I64": 8,
    "I32": 4,
    "I16": 2,
    "I8": 1,
    "U64": 8,
    "U32": 4,
    "U16": 2,
    "U8": 1,
    "BOOL": 1,
    "F8_E4M3": 1,
    "F8_E5M2": 1,
    "C64": 8,
}


@dataclass(slots=True)
class TensorCensus:
    """What one weight file declares: its format, tensors, metadata and any problems."""

    path: str
    format: str
    tensors: dict[str, tuple[str, tuple[int, ...]]] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    parameters_override: int | None = None  # when tensors are not named (torch storages)
    dtype_override: dict[str, int] | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def parameters(self) -> int:
        """Total elements over all tensors."""
        if self.parameters_override is not None:
            return self.parameters_override
        return sum(math.prod(shape) for _, shape in self.tensors.values())

    def dtypes(self) -> dict[str, int]:
        """Element count per dtype."""
        if self.dtype_override is not None:
            return dict(self.dtype_override)
        out: dict[str, int] = {}
        for dtype, shape in self.tensors.values():
            out[dtype] = out.get(dtype, 0) + math.prod(shape)
        return out


def _no_dupes(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k!r}")
        out[k] = v
    return out


def read_safetensors(path: Path) -> TensorCensus:
    """Parse a safetensors header: dtype x shape must equal each tensor's byte span."""
    out = TensorCensus(str(path), "safetensors")
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(8)
        if len(head) < 8:
            out.problems.append("file is shorter than the 8-byte header length")
            return out
        (n,) = struct.unpack("<Q", head)
        if n > MAX_HEADER_BYTES or n + 8 > size:
            out.problems.append(f"header length {n} is out of bounds (file is {size} bytes)")
            return out
        raw = fh.read(n)
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_dupes)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        out.problems.append(f"header is not valid JSON: {str(exc)[:120]}")
        return out
    if not isinstance(header, dict):
        out.problems.append("header is not a JSON object")
        return out
    data_len = size - 8 - n
    meta = header.pop("__metadata__", None)
    if isinstance(meta, dict):
        out.metadata = {str(k): str(v)[:200] for k, v in list(meta.items())[:100]}
    if len(header) > MAX_TENSORS:
        out.problems.append(f"header lists more than {MAX_TENSORS} tensors")
        return out
    for name, info in header.items():
        problem = _sft_tensor(out, name, info, data_len)
        if problem:
            out.problems.append(f"tensor {name[:80]!r}: {problem}")
    return out


def _sft_tensor(out: TensorCensus, name: str, info: Any, data_len: int) -> str | None:
    if not isinstance(info, dict):
        return "entry is not an object"
    dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
    if dtype not in SAFETENSORS_ITEMSIZE:
        return f"unknown dtype {str(dtype)[:20]!r}"
    if (
        not isinstance(shape, list)
        or len(shape) > MAX_DIMS
        or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)
    ):
        return "shape is not a list of non-negative integers"
    if (
        not isinstance(offsets, list)
        or len(offsets) != 2
        or not all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)
    ):
        return "data_offsets is not [begin, end]"
    out.tensors[name] = (str(dtype), tuple(shape))
    begin, end = offsets
    expected = math.prod(shape) * SAFETENSORS_ITEMSIZE[str(dtype)]
    if not 0 <= begin <= end <= data_len:
        return f"data_offsets [{begin}, {end}] fall outside the {data_len} data bytes"
    if end - begin != expected:
        return f"shape {shape} of {dtype} needs {expected} bytes but the span is {end - begin}"
    return None


# --- GGUF ------------------------------------------------------------------------------

_GGUF_SCALAR: Final = {
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}
# ggml type -> name (GGUF tensor types as gguf-py names them)
_GGML_TYPES: Final = {
    0: "F32",
    1: "F16",
    2: "Q4_0",
    3: "Q4_1",
    6: "Q5_0",
    7: "Q5_1",
    8: "Q8_0",
    9: "Q8_1",
    10: "Q2_K",
    11: "Q3_K",
    12: "Q4_K",
    13: "Q5_K",
    14: "Q6_K",
    15: "Q8_K",
    24: "I8",
    25: "I16",
    26: "I32",
    27: "I64",
    28: "F64",
    30: "BF16",
}


class _Reader:
    def __init__(self, buf: mmap.mmap | bytes) -> None:
        self.buf = buf
        self.pos = 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.buf):
            raise ValueError(f"needs {n} bytes at offset {self.pos}, past the end of the file")
        out = bytes(self.buf[self.pos : self.pos + n])
        self.pos += n
        return out

    def unpack(self, fmt: str) -> Any:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]

    def string(self) -> str:
        n = self.unpack("<Q")
        if n > MAX_GGUF_STRING:
            raise ValueError(f"string of {n} bytes at offset {self.pos}")
        return self.take(n).decode("utf-8", "replace")

    def value(self, vtype: int, depth: int = 0) -> Any:
        if vtype in _GGUF_SCALAR:
            return self.unpack(_GGUF_SCALAR[vtype])
        if vtype == 8:
            return self.string()
        if vtype == 9 and depth < 2:
            etype, count = self.unpack("<I"), self.unpack("<Q")
            if count > MAX_GGUF_ARRAY:
                raise ValueError(f"array of {count} items at offset {self.pos}")
            if etype in _GGUF_SCALAR:  # skip numbers, keep only the length
                self.take(count * struct.calcsize(_GGUF_SCALAR[etype]))
                return _Length(count)
            for _ in range(count):
                self.value(etype, depth + 1)
            return _Length(count)
        raise ValueError(f"unknown GGUF value type {vtype}")


@dataclass(frozen=True, slots=True)
class _Length:
    """An array's length; GGUF arrays (token lists) are skipped, not kept."""

    count: int


def read_gguf(path: Path) -> TensorCensus:
    """Parse GGUF metadata and tensor infos; tensor data is never touched."""
    out = TensorCensus(str(path), "gguf")
    with path.open("rb") as fh:
        try:
            buf = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:
            out.problems.append("file is empty")
            return out
    try:
        _gguf(out, _Reader(buf))
    except (ValueError, struct.error) as exc:
        out.problems.append(f"GGUF structure is out of bounds: {exc}")
    finally:
        buf.close()
    return out


def _gguf(out: TensorCensus, r: _Reader) -> None:
    if r.take(4) != b"GGUF":
        raise ValueError("missing GGUF magic")
    version = r.unpack("<I")
    if version not in (2, 3):
        raise ValueError(f"GGUF version {version} is not supported")
    n_tensors, n_kv = r.unpack("<Q"), r.unpack("<Q")
    if n_tensors > MAX_TENSORS or n_kv > MAX_GGUF_KV:
        raise ValueError(f"{n_tensors} tensors and {n_kv} metadata entries are beyond limits")
    for _ in range(n_kv):
        key = r.string()
        value = r.value(r.unpack("<I"))
        out.metadata[key[:200]] = value.count if isinstance(value, _Length) else value
    for _ in range(n_tensors):
        name = r.string()
        n_dims = r.unpack("<I")
        if n_dims > MAX_DIMS:
            raise ValueError(f"tensor {name[:60]!r} has {n_dims} dimensions")
        dims = tuple(r.unpack("<Q") for _ in range(n_dims))
        ttype = r.unpack("<I")
        r.unpack("<Q")  # offset into the data section
        out.tensors[name] = (_GGML_TYPES.get(ttype, f"ggml{ttype}"), dims)


# --- ONNX ------------------------------------------------------------------------------

_ONNX_TYPES: Final = {
    1: "F32",
    2: "U8",
    3: "I8",
    4: "U16",
    5: "I16",
    6: "I32",
    7: "I64",
    9: "BOOL",
    10: "F16",
    11: "F64",
    12: "U32",
    13: "U64",
    16: "BF16",
}


def _varint(buf: memoryview, i: int, end: int) -> tuple[int, int]:
    out = shift = 0
    while True:
        if i >= end or shift > 63:
            raise ValueError(f"varint runs past offset {i}")
        b = buf[i]
        i += 1
        out |= (b & 0x7F) << shift
        if not b & 0x80:
            return out, i
        shift += 7


def _fields(buf: memoryview, start: int, end: int) -> Iterator[tuple[int, int, Any]]:
    """(field number, wire type, value) where value is an int or a (start, end) span."""
    i = start
    while i < end:
        tag, i = _varint(buf, i, end)
        num, wt = tag >> 3, tag & 7
        if wt == 0:
            v, i = _varint(buf, i, end)
            yield num, wt, v
        elif wt == 1:
            i += 8
            yield num, wt, None
        elif wt == 2:
            n, i = _varint(buf, i, end)
            if i + n > end:
                raise ValueError(f"field {num} of {n} bytes runs past offset {end}")
            yield num, wt, (i, i + n)
            i += n
        elif wt == 5:
            i += 4
            yield num, wt, None
        else:
            raise ValueError(f"wire type {wt} at offset {i}")
        if i > end:
            raise ValueError("message runs past its end")


def read_onnx(path: Path) -> TensorCensus:
    """List the initialisers of an ONNX graph (ModelProto.graph.initializer) from the wire."""
    out = TensorCensus(str(path), "onnx")
    with path.open("rb") as fh:
        try:
            mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:
            out.problems.append("file is empty")
            return out
    buf = memoryview(mm)
    try:
        graphs = [v for n, wt, v in _fields(buf, 0, len(buf)) if n == 7 and wt == 2]
        if not graphs:
            out.problems.append("no graph in the model")
        for g_start, g_end in graphs:
            for n, wt, v in _fields(buf, g_start, g_end):
                if n == 5 and wt == 2:
                    _onnx_tensor(out, buf, *v)
                    if len(out.tensors) > MAX_TENSORS:
                        raise ValueError(f"more than {MAX_TENSORS} initialisers")
    except ValueError as exc:
        out.problems.append(f"ONNX protobuf is malformed: {exc}")
    finally:
        buf.release()
        mm.close()
    return out


def _onnx_tensor(out: TensorCensus, buf: memoryview, start: int, end: int) -> None:
    dims: list[int] = []
    dtype, name = "UNDEFINED", f"initializer{len(out.tensors)}"
    for n, wt, v in _fields(buf, start, end):
        if n == 1 and wt == 0:
            dims.append(v)
        elif n == 1 and wt == 2:  # packed dims
            i, e = v
            while i < e:
                d, i = _varint(buf, i, e)
                dims.append(d)
        elif n == 2 and wt == 0:
            dtype = _ONNX_TYPES.get(v, f"onnx{v}")
        elif n == 8 and wt == 2:
            name = bytes(buf[v[0] : v[1]]).decode("utf-8", "replace")
        if len(dims) > MAX_DIMS:
            raise ValueError(f"initialiser {name[:60]!r} has more than {MAX_DIMS} dimensions")
    out.tensors[name] = (dtype, tuple(dims))


# --- PyTorch ---------------------------------------------------------------------------


def read_torch(path: Path) -> TensorCensus:
    """Storages a PyTorch zip checkpoint declares, via the emulated pickle machine."""
    census = census_torch_file(path)
    out = TensorCensus(str(path), "pytorch", problems=list(census.problems))
    out.parameters_override = census.parameters
    out.dtype_override = census.dtypes()
    for i, shape in enumerate(census.shapes):
        out.tensors[f"tensor{i}"] = ("?", shape)
    return out


def sniff(path: Path) -> str | None:
    """The weight format of a file, by content: safetensors, gguf, onnx, pytorch or None."""
    try:
        with path.open("rb") as fh:
            head = fh.read(16)
    except OSError:
        return None
    if head[:4] == b"GGUF":
        return "gguf"
    if head[:4] == b"PK\x03\x04":
        return "pytorch" if path.suffix in (".bin", ".pt", ".pth", ".ckpt") else None
    if path.suffix == ".safetensors":
        return "safetensors"
    if len(head) >= 10 and head[8:10] == b'{"':
        # Unnamed safetensors: only when the header length it starts with fits in the file.
        (n,) = struct.unpack("<Q", head[:8])
        if 2 <= n <= path.stat().st_size - 8:
            return "safetensors"
    if path.suffix == ".onnx":
        return "onnx"
    return None


READERS: Final = {
    "safetensors": read_safetensors,
    "gguf": read_gguf,
    "onnx": read_onnx,
    "pytorch": read_torch,
}
