"""Stand-in values of the pickle emulator, and what one stream was seen to do."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from .model import ParseError


class Global:
    """A (module, name) pulled in by GLOBAL, INST or STACK_GLOBAL."""

    __slots__ = ("module", "name", "offset")

    def __init__(self, module: str, name: str, offset: int) -> None:
        self.module, self.name, self.offset = module, name, offset

    def __repr__(self) -> str:
        return f"{self.module}.{self.name}"


class Call:
    """The result of a call site: what was called, with what, by which opcode and where."""

    __slots__ = ("args", "func", "offset", "op", "state")

    def __init__(self, func: object, args: object, op: str, offset: int) -> None:
        self.func, self.args, self.op, self.offset = func, args, op, offset
        self.state: object = None  # what BUILD gave the object, when it did

    def __repr__(self) -> str:
        return f"{self.func!r}(...)"


class Opaque:
    """A value the emulator does not model (list, set, bytes, persistent id, buffer)."""

    __slots__ = ("kind",)

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def __repr__(self) -> str:
        return f"<{self.kind}>"


class Payload:
    """A bytes payload that holds a pickle or a zip: scanned as a file of its own."""

    __slots__ = ("data", "length", "offset")

    def __init__(self, offset: int, length: int, data: bytes | None = None) -> None:
        # data is set when the payload was decoded from a string (protocol 0-2 bytes).
        self.offset, self.length, self.data = offset, length, data

    def __repr__(self) -> str:
        return "<bytes>"


LIST, SET, BYTES, FLOAT, PERS, BUFFER, EXT, BIG = (
    Opaque(k) for k in ("list", "set", "bytes", "float", "persistent id", "buffer", "ext", "int")
)
DICT_KEEP: Final = 64


@dataclass
class CallSite:
    """One call the stream would make when loaded."""

    func: object
    args: object
    op: str
    offset: int


@dataclass
class StreamResult:
    """What one pickle stream does, as far as it could be followed."""

    start: int
    end: int = -1
    protocol: int = 0
    globals: list[Global] = field(default_factory=list)
    calls: list[CallSite] = field(default_factory=list)
    builds_on_globals: list[tuple[Global, int]] = field(default_factory=list)
    dynamic_globals: list[tuple[str, int]] = field(default_factory=list)
    extensions: list[int] = field(default_factory=list)
    straddles: list[int] = field(default_factory=list)
    nested: list[tuple[int, int]] = field(default_factory=list)
    # Payloads decoded from strings (`_codecs.encode(s, "latin1")`): (call offset, bytes).
    nested_data: list[tuple[int, bytes]] = field(default_factory=list)
    persistent: list[Any] = field(default_factory=list)
    truncated: list[int] = field(default_factory=list)
    error: str | None = None
    error_offset: int | None = None
    last_frame: int = -1
    # The value on top of the stack at STOP (what pickle.load returns), when emulated.
    value: Any = None
    # Files the loader opens because the stream names them (joblib's old array wrappers).
    file_refs: list[tuple[str, int]] = field(default_factory=list)
    # getattr globals used only as getattr(<global>, "<name>"), resolved to dotted globals.
    resolved: set[tuple[str, str]] = field(default_factory=set)


_DTYPE_SIZES: Final = {"b": 1, "i": 0, "u": 0, "f": 0, "c": 0, "m": 0, "M": 0, "S": 0, "V": 0}


def joblib_nbytes(state: dict[Any, Any], offset: int) -> tuple[int, bool]:
    """Bytes of a joblib array written after its wrapper, and whether it holds objects."""
    shape = state.get("shape")
    dtype = state.get("dtype")
    if not isinstance(shape, tuple) or not all(isinstance(x, int) and x >= 0 for x in shape):
        raise ParseError("joblib array shape is not a tuple of sizes", offset)
    if not (isinstance(dtype, Call) and isinstance(dtype.args, tuple) and dtype.args):
        raise ParseError("joblib array dtype is not a numpy.dtype(...) call", offset)
    spec = dtype.args[0]
    if not isinstance(spec, str) or not spec:
        raise ParseError("joblib array dtype has no type string", offset)
    if spec[0] == "O" or _dtype_has_object(dtype):
        # joblib pickles object arrays (dtype.hasobject, structured fields included) as a
        # nested stream right after the wrapper.
        return 0, True
    kind, digits = spec[0], spec[1:]
    if kind not in _DTYPE_SIZES and kind != "U":
        raise ParseError(f"joblib array dtype {spec!r} is not supported", offset)
    size = int(digits) if digits.isdigit() else _DTYPE_SIZES.get(kind, 0)
    if kind == "U":
        size *= 4
    if size <= 0:
        raise ParseError(f"joblib array dtype {spec!r} has no item size", offset)
    count = 1
    for x in shape:
        count *= x
    return count * size, False


def compat_name(module: str, name: str) -> tuple[str, str]:
    """The (module, name) Unpickler.find_class imports for a protocol 0-2 stream (fix_imports)."""
    import _compat_pickle  # start-up time: only old-protocol streams with globals need it

    pair = (module, name)
    if pair in _compat_pickle.NAME_MAPPING:
        mapped: tuple[str, str] = _compat_pickle.NAME_MAPPING[pair]
        return mapped
    if module in _compat_pickle.IMPORT_MAPPING:
        return _compat_pickle.IMPORT_MAPPING[module], name
    return pair


def _dtype_has_object(dtype: object, depth: int = 0) -> bool:
    """numpy.dtype(...) rebuilt by a pickle holds objects: its spec, its NPY_ITEM_HASOBJECT flag
    or any field or subarray dtype in its BUILD state says so."""
    if depth > 32 or not isinstance(dtype, Call):
        return False
    args = dtype.args
    if isinstance(args, tuple) and args and isinstance(args[0], str) and args[0][:1] == "O":
        return True
    state = dtype.state
    if not isinstance(state, tuple) or len(state) < 5:
        return False
    flags = state[-1]
    if isinstance(flags, int) and not isinstance(flags, bool) and flags & 1:
        return True
    sub, fields = state[2], state[4]
    if isinstance(sub, tuple) and sub and _dtype_has_object(sub[0], depth + 1):
        return True
    if isinstance(fields, dict):
        for v in fields.values():
            inner = v[0] if isinstance(v, tuple) and v else v
            if _dtype_has_object(inner, depth + 1):
                return True
    return False


def nested_file(data: bytes) -> bool:
    """A payload that starts like a pickle or a zip: a file some loader may open."""
    return len(data) > 3 and ((data[0] == 0x80 and data[1] <= 5) or data[:4] == b"PK\x03\x04")
