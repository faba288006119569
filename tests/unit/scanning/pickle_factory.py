"""Hand-written pickle opcodes for malicious samples: nothing dangerous is pickled or loaded."""

from __future__ import annotations

import io
import struct
import zipfile


def proto(n: int) -> bytes:
    return b"\x80" + bytes([n])


def frame(body: bytes) -> bytes:
    return b"\x95" + struct.pack("<Q", len(body)) + body


def su(s: str) -> bytes:
    """SHORT_BINUNICODE."""
    raw = s.encode()
    return b"\x8c" + bytes([len(raw)]) + raw


def global0(module: str, name: str) -> bytes:
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def stack_global(module: str, name: str) -> bytes:
    return su(module) + su(name) + b"\x93"


def call_reduce(callable_ops: bytes, *args: str) -> bytes:
    """callable(*args) via REDUCE, string arguments only."""
    body = b"".join(su(a) for a in args)
    return callable_ops + b"(" + body + b"tR"


def p4(body: bytes) -> bytes:
    """A protocol 4 stream with one frame, ending in STOP."""
    return proto(4) + frame(body + b".")


def os_system_v0(cmd: str = "echo pwned") -> bytes:
    return global0("os", "system") + b"(S'" + cmd.encode() + b"'\ntR."


def os_system_v4(cmd: str = "echo pwned") -> bytes:
    return p4(call_reduce(stack_global("os", "system"), cmd))


def memo_stack_global() -> bytes:
    # Names go through the memo before STACK_GLOBAL uses them.
    body = (
        su("os")
        + b"\x94"
        + su("system")
        + b"\x94"
        + b"0"
        + b"h\x00h\x01\x93"
        + b"("
        + su("id")
        + b"tR"
    )
    return p4(body)


def inst_call() -> bytes:
    return b"(S'id'\nios\nsystem\n."


def obj_call() -> bytes:
    return proto(2) + b"(" + global0("subprocess", "Popen") + su("id") + b"o."


def newobj_unknown() -> bytes:
    return proto(2) + global0("mypkg.evil", "Thing") + b")\x81."


def newobj_ex_unknown() -> bytes:
    return p4(stack_global("mypkg.evil", "Thing") + b")}\x92")


def build_on_global() -> bytes:
    return proto(2) + global0("collections", "OrderedDict") + b"}" + su("x") + su("y") + b"sb."


def unknown_reference_only() -> bytes:
    return p4(stack_global("mypkg.helpers", "CONSTANT"))


def allowlisted_call() -> bytes:
    return p4(stack_global("collections", "OrderedDict") + b")R")


def dotted_escape() -> bytes:
    return p4(call_reduce(stack_global("collections", "OrderedDict.__init__.__globals__"), "x"))


def reconstructor_indirect() -> bytes:
    """An allowlisted helper that calls the class it is given: the class counts as called."""
    cls = global0("mymod", "Evil") + global0("builtins", "object")
    return proto(2) + global0("copyreg", "_reconstructor") + b"(" + cls + b"NtR."


def call_then_garbage() -> bytes:
    """A call site, then bytes that do not parse: what was seen must still be reported."""
    return proto(2) + global0("os", "system") + b"(S'id'\ntR" + b"\xff\xff"


def stacked() -> bytes:
    """A harmless stream followed by a malicious one."""
    return p4(b"}") + os_system_v4()


def nested_in_bytes() -> bytes:
    inner = os_system_v4()
    return (
        proto(3)
        + global0("pickle", "loads")
        + b"(B"
        + struct.pack("<I", len(inner))
        + inner
        + b"tR."
    )


def torch_zip(pickle_bytes: bytes, prefix: str = "archive") -> bytes:
    """A PyTorch-zip layout whose data.pkl is the given stream."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr(f"{prefix}/data.pkl", pickle_bytes)
        z.writestr(f"{prefix}/byteorder", b"little")
        z.writestr(f"{prefix}/version", b"3\n")
        z.writestr(f"{prefix}/data/0", b"\x00" * 16)
    return buf.getvalue()


def seven_zip(name: str, payload: bytes, coder: bytes = b"\x00") -> bytes:
    """A 7z archive with one file in one folder, plain header (CRCs left zero)."""
    assert len(payload) < 0x80 and len(name) < 40
    uname = name.encode("utf-16-le") + b"\x00\x00"
    n = bytes([len(payload)])
    streams = b"\x06\x00\x01\x09" + n + b"\x00"  # pack info: one stream of len(payload)
    streams += b"\x07\x0b\x01\x00\x01" + bytes([len(coder)]) + coder  # one folder, one coder
    streams += b"\x0c" + n + b"\x00"
    files = b"\x05\x01\x11" + bytes([1 + len(uname)]) + b"\x00" + uname + b"\x00"
    header = b"\x01\x04" + streams + b"\x00" + files + b"\x00"
    start = struct.pack("<QQI", len(payload), len(header), 0)
    return b"7z\xbc\xaf\x27\x1c\x00\x04" + b"\x00" * 4 + start + payload + header
