"""Factories of the scanning stage: hand-written pickles and checkpoints to scan."""

from __future__ import annotations

import io
import zipfile

# A protocol-2 pickle that would call os.system("echo pwned") if it were loaded, written opcode
# by opcode (never produced by pickling a real callable).
EVIL_PICKLE = (
    b"\x80\x02"  # PROTO 2
    b"cos\nsystem\n"  # GLOBAL os.system
    b"q\x00"  # BINPUT 0
    b"X\x0a\x00\x00\x00echo pwned"  # BINUNICODE 'echo pwned'
    b"\x85"  # TUPLE1
    b"R"  # REDUCE: os.system('echo pwned')
    b"."  # STOP
)
# A benign pickle: a dict {"a": 1}.
BENIGN_PICKLE = b"\x80\x02}q\x00X\x01\x00\x00\x00aK\x01s."


def torch_style_checkpoint(payload: bytes) -> bytes:
    """A zip laid out like torch.save's: archive/data.pkl holding the given pickle."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("archive/data.pkl", payload)
        zf.writestr("archive/version", b"3\n")
        zf.writestr("archive/byteorder", b"little")
    return buf.getvalue()
