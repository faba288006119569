"""Files valid as more than one format: which other readings a loader could take.

Loaders choose differently. `torch.load` checks the zip magic at offset 0, then tries
`tarfile.open` (legacy tar), then unpickles; `np.load` checks the zip magic, then the npy
magic, then unpickles; `zipfile` (Keras, joblib's callers, np.load's NpzFile) finds the
end-of-central-directory record at the end of the file whatever comes first; `tarfile` accepts
any first block whose checksum is right, with or without the `ustar` magic (old V7 headers).
The scanner takes the reading the content names first, then scans every other reading that
parses, so a polyglot cannot show one face to the scanner and another to a loader.
"""

from __future__ import annotations

import struct
from typing import Final

from .zipfmt import find_eocd

_BLOCK: Final = 512
_EOCD_LEN: Final = 22


def _octal(field: bytes) -> int | None:
    """tarfile's nti() for the checksum field: octal text or base-256; None when invalid."""
    if field[:1] in (b"\x80", b"\xff"):
        n = int.from_bytes(field[1:], "big")
        return n - 256 ** (len(field) - 1) if field[:1] == b"\xff" else n
    text = field.split(b"\x00", 1)[0].strip()
    try:
        return int(text or b"0", 8)
    except ValueError:
        return None


def is_tar(buf: memoryview) -> bool:
    """True when tarfile would open the buffer (torch.load's legacy-tar test)."""
    if len(buf) < _BLOCK:
        return False
    block = bytes(buf[:_BLOCK])
    if block.count(0) == _BLOCK:
        return False
    stored = _octal(block[148:156])
    if stored is None:
        return False
    unsigned = 256 + sum(struct.unpack_from("148B8x356B", block))
    signed = 256 + sum(struct.unpack_from("148b8x356b", block))
    if stored not in (unsigned, signed):
        return False
    # The checksum is right: let tarfile itself parse the first member (numeric fields, GNU
    # long names, PAX headers), exactly as torch.load's tarfile.open does.
    import tarfile

    from .containers import _View

    try:
        with tarfile.open(fileobj=_View(buf), mode="r:"):
            return True
    except (tarfile.TarError, ValueError, OverflowError):
        return False


def zip_at_end(buf: memoryview) -> bool:
    """True when an end-of-central-directory record (plus its comment) ends the buffer."""
    eocd = find_eocd(buf)
    if eocd < 0 or eocd + _EOCD_LEN > len(buf):
        return False
    comment_len = int.from_bytes(buf[eocd + 20 : eocd + 22], "little")
    return eocd + _EOCD_LEN + comment_len == len(buf)


def _pickle_start(buf: memoryview) -> bool:
    return len(buf) > 2 and buf[0] == 0x80 and buf[1] <= 5


def alternates(buf: memoryview, fmt: str, result: str) -> list[str]:
    """Other formats buf is also valid as, besides the one already scanned."""
    done = {fmt, result.split("+", 1)[0]}
    out: list[str] = []
    zip_read = result.startswith(("zip", "pytorch", "torchscript", "keras", "npz"))
    if "zip" not in done and not zip_read and zip_at_end(buf):
        out.append("zip")
    if "tar" not in done and fmt != "zip" and is_tar(buf):
        out.append("tar")
    if "pickle" not in done and fmt in ("zip", "tar", "npy") and _pickle_start(buf):
        out.append("pickle")
    return out
