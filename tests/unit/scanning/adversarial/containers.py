"""Adversarial and benign cases for compressed streams, archives, polyglots and bombs."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import pickle
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Callable
from functools import cache
from pathlib import Path

from . import Case

MAL = "malicious"
BEN = "benign"


class _Payload:
    """Pickles to os.system (never called: the tests only write and scan the bytes)."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        import os

        return os.system, ("echo airlock-marker",)


def evil() -> bytes:
    """A pickle that would call os.system on load."""
    return pickle.dumps(_Payload(), protocol=2)


def plain() -> bytes:
    """A harmless pickle."""
    return pickle.dumps({"weights": [0.5, 1.5], "names": ["a", "b"]}, protocol=4)


def writer(data: Callable[[], bytes]) -> Callable[[Path], None]:
    """A build function writing the bytes data() returns."""
    return lambda p: p.write_bytes(data())


def zip_bytes(members: list[tuple[str, bytes]], method: int = zipfile.ZIP_STORED) -> bytes:
    """A zip written by zipfile."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return buf.getvalue()


def tar_bytes(members: list[tuple[str, bytes]], fmt: int = tarfile.GNU_FORMAT) -> bytes:
    """A tar written by tarfile."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _rechecksum(block: bytearray) -> None:
    block[148:156] = b" " * 8
    block[148:156] = b"%06o\x00 " % (sum(block) & 0o777777)


def v7_tar(members: list[tuple[str, bytes]]) -> bytes:
    """An old V7 tar: the ustar magic, version and owner names blanked, checksum redone."""
    data = bytearray(tar_bytes(members, tarfile.USTAR_FORMAT))
    pos = 0
    while pos + 512 <= len(data) and data[pos : pos + 512].count(0) != 512:
        block = data[pos : pos + 512]
        block[257:512] = bytes(255)
        _rechecksum(block)
        data[pos : pos + 512] = block
        size = int(bytes(block[124:136]).split(b"\x00")[0] or b"0", 8)
        pos += 512 + (size + 511) // 512 * 512
    return bytes(data)


def _torch_zip(pkl: bytes) -> bytes:
    return zip_bytes(
        [("archive/data.pkl", pkl), ("archive/version", b"3\n"), ("archive/byteorder", b"little")]
    )


def _eocd_count(data: bytes, count: int) -> bytes:
    b = bytearray(data)
    i = b.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", b, i + 8, count, count)
    return bytes(b)


def _rename_local(data: bytes, old: bytes, new: bytes) -> bytes:
    assert len(old) == len(new)
    i = data.find(b"PK\x03\x04")
    j = data.find(old, i)
    return data[:j] + new + data[j + len(old) :]


def _descriptor_zip() -> bytes:
    class Unseekable(io.RawIOBase):
        def __init__(self) -> None:
            self.out = bytearray()

        def writable(self) -> bool:
            return True

        def write(self, b: bytes) -> int:  # type: ignore[override]
            self.out += b
            return len(b)

    sink = Unseekable()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as zf, zf.open("data.pkl", "w") as f:
        f.write(evil())
    return bytes(sink.out)


def _zip64() -> bytes:
    buf = io.BytesIO()
    with (
        zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf,
        zf.open("archive/data.pkl", "w", force_zip64=True) as f,
    ):
        f.write(evil())
    return buf.getvalue()


def _polyglot_pickle_tar() -> bytes:
    # The first tar header's name field holds a complete harmless pickle: pickle.load reads {}
    # while torch.load takes the legacy-tar path and reads the members.
    head = b"\x80\x02}q\x00."
    members = [("sys_info", evil()), ("pickle", evil())]
    data = bytearray(tar_bytes(members, tarfile.USTAR_FORMAT))
    data[0:100] = head + bytes(100 - len(head))
    block = data[0:512]
    _rechecksum(block)
    data[0:512] = block
    return bytes(data)


def stream_cases() -> list[Case]:
    """Several members, streams and frames, as Python's modules, pandas and joblib read them."""
    import lz4.frame
    import zstandard

    zc = zstandard.ZstdCompressor
    skippable = struct.pack("<II", 0x184D2A50, 4) + b"skip"
    zob = zlib.compressobj(6, zlib.DEFLATED, 31)

    def gz_header_flags() -> bytes:
        raw = zlib.compressobj(6, zlib.DEFLATED, -15)
        body = raw.compress(evil()) + raw.flush()
        hdr = b"\x1f\x8b\x08" + bytes([0x04 | 0x08 | 0x10]) + bytes(6)
        hdr += struct.pack("<H", 4) + b"ABCD" + b"model.json\x00" + b"comment\x00"
        return hdr + body + struct.pack("<II", zlib.crc32(evil()), len(evil()))

    def lz4_two() -> bytes:
        return lz4.frame.compress(plain()) + lz4.frame.compress(evil())

    def zstd_stream() -> bytes:
        out = io.BytesIO()
        with zc().stream_writer(out, closefd=False) as w:
            w.write(evil())
        return out.getvalue()

    c = [
        (
            "gzip_second_member",
            "model.pkl.gz",
            lambda: gzip.compress(plain()) + gzip.compress(evil()),
        ),
        (
            "gzip_zero_padding_between_members",
            "model.pkl.gz",
            lambda: gzip.compress(plain()) + bytes(64) + gzip.compress(evil()),
        ),
        ("gzip_header_fields", "model.pkl.gz", gz_header_flags),
        (
            "gzip_pickle_split_across_members",
            "model.pkl.gz",
            lambda: gzip.compress(evil()[:9]) + gzip.compress(evil()[9:]),
        ),
        (
            "gzip_flush_midstream",
            "model.joblib",
            lambda: zob.compress(evil()) + zob.flush(zlib.Z_FULL_FLUSH) + zob.flush(),
        ),
        (
            "bz2_second_stream",
            "model.pkl.bz2",
            lambda: bz2.compress(plain()) + bz2.compress(evil()),
        ),
        (
            "xz_second_stream",
            "model.pkl.xz",
            lambda: lzma.compress(plain()) + lzma.compress(evil()),
        ),
        ("lzma_alone", "model.pkl.lzma", lambda: lzma.compress(evil(), format=lzma.FORMAT_ALONE)),
        (
            "zlib_second_stream",
            "model.joblib",
            lambda: zlib.compress(plain()) + zlib.compress(evil()),
        ),
        ("zstd_frame", "model.pkl.zst", lambda: zc().compress(evil())),
        (
            "zstd_second_frame",
            "model.pkl.zst",
            lambda: zc().compress(plain()) + zc().compress(evil()),
        ),
        ("zstd_skippable_first", "model.pkl.zst", lambda: skippable + zc().compress(evil())),
        ("zstd_streamed_no_size", "model.pkl.zst", zstd_stream),
        ("lz4_frame", "model.joblib", lambda: lz4.frame.compress(evil())),
        ("lz4_second_frame", "model.pkl.lz4", lz4_two),
        ("bz2_in_gzip", "model.pkl.gz", lambda: gzip.compress(bz2.compress(evil()))),
        ("zstd_in_xz", "model.pkl.xz", lambda: lzma.compress(zc().compress(evil()))),
    ]
    out = [Case(f"stream/{n}", "compressed-streams", MAL, f, writer(b)) for n, f, b in c]
    benign = [
        ("gzip_pickle", "b.pkl.gz", lambda: gzip.compress(plain())),
        ("gzip_two_members", "b.pkl.gz", lambda: gzip.compress(plain()) + gzip.compress(plain())),
        ("bz2_pickle", "b.pkl.bz2", lambda: bz2.compress(plain())),
        ("xz_pickle", "b.pkl.xz", lambda: lzma.compress(plain())),
        ("zstd_pickle", "b.pkl.zst", lambda: zc().compress(plain())),
        ("lz4_pickle", "b.pkl.lz4", lambda: lz4.frame.compress(plain())),
    ]
    out += [
        Case(f"stream/benign_{n}", "compressed-streams", BEN, f, writer(b)) for n, f, b in benign
    ]
    out.append(Case("stream/benign_joblib_lz4", "compressed-streams", BEN, "b.joblib", _joblib_lz4))
    return out


def _joblib_lz4(p: Path) -> None:
    import joblib
    import numpy as np

    joblib.dump({"w": np.arange(100, dtype=np.float32), "n": 3}, p, compress="lz4")


def archive_cases() -> list[Case]:
    """Tar and zip variants that loaders read differently, and polyglots."""
    long = "a" * 120 + "/data.pkl"
    dup = zip_bytes([("archive/data.pkl", plain()), ("archive/version", b"3")])
    c: list[tuple[str, str, Callable[[], bytes]]] = [
        ("tar_v7_no_magic", "model.tar", lambda: v7_tar([("data.pkl", evil())])),
        (
            "tar_name_looks_like_json",
            "model.tar",
            lambda: tar_bytes([('{"a": 1}.pkl', evil())], tarfile.USTAR_FORMAT),
        ),
        ("tar_v7_name_looks_like_json", "model.tar", lambda: v7_tar([('{"k": [1]}', evil())])),
        ("tar_gnu_long_name", "model.tar", lambda: tar_bytes([(long, evil())], tarfile.GNU_FORMAT)),
        ("tar_pax_long_name", "model.tar", lambda: tar_bytes([(long, evil())], tarfile.PAX_FORMAT)),
        ("tar_traversal", "model.tar", lambda: tar_bytes([("../../evil.pkl", plain())])),
        ("tgz_member", "model.tar.gz", lambda: gzip.compress(tar_bytes([("m/data.pkl", evil())]))),
        (
            "tar_zstd_member",
            "model.tar.zst",
            lambda: __import__("zstandard").ZstdCompressor().compress(tar_bytes([("x", evil())])),
        ),
        (
            "zip_eocd_count_low",
            "model.pt",
            lambda: _eocd_count(zip_bytes([("a.txt", b"x"), ("archive/data.pkl", evil())]), 1),
        ),
        ("zip_trailing_slash_member", "model.zip", lambda: zip_bytes([("data.pkl/", evil())])),
        (
            "zip_duplicate_last_wins",
            "model.pt",
            lambda: zip_bytes([("archive/data.pkl", plain()), ("archive/data.pkl", evil())]),
        ),
        (
            "zip_duplicate_first_wins",
            "model.pt",
            lambda: zip_bytes([("archive/data.pkl", evil()), ("archive/data.pkl", plain())]),
        ),
        ("zip_data_descriptor", "model.zip", _descriptor_zip),
        ("zip_zip64", "model.pt", _zip64),
        (
            "zip_local_name_differs",
            "model.zip",
            lambda: _rename_local(
                zip_bytes([("archive/data.pkl", evil())]), b"data.pkl", b"data.txt"
            ),
        ),
        ("zip_member_no_suffix", "model.zip", lambda: zip_bytes([("weights", evil())])),
        ("zip_prepended_pickle", "model.pt", lambda: evil() + _torch_zip(plain())),
        ("pickle_then_zip_with_payload", "model.pkl", lambda: plain() + _torch_zip(evil())),
        ("npy_then_zip", "model.npy", _npy_then_zip),
        ("pickle_tar_polyglot", "model.pt", _polyglot_pickle_tar),
        ("zip_traversal", "model.zip", lambda: zip_bytes([("../../../etc/cron.d/x", b"* * *")])),
        (
            "zip_in_tar_in_gzip",
            "bundle.tgz",
            lambda: gzip.compress(tar_bytes([("inner.zip", _torch_zip(evil()))])),
        ),
        (
            "zip_deflated_member",
            "model.pt",
            lambda: zip_bytes([("archive/data.pkl", evil())], zipfile.ZIP_DEFLATED),
        ),
        (
            "zip_bzip2_member",
            "model.zip",
            lambda: zip_bytes([("data.pkl", evil())], zipfile.ZIP_BZIP2),
        ),
        (
            "zip_lzma_member",
            "model.zip",
            lambda: zip_bytes([("data.pkl", evil())], zipfile.ZIP_LZMA),
        ),
        (
            "zip_second_in_dup_dir",
            "model.zip",
            lambda: _eocd_count(dup[:0] + zip_bytes([("d/", b""), ("d/x.pkl", evil())]), 1),
        ),
    ]
    out = [Case(f"archive/{n}", "archives", MAL, f, writer(b)) for n, f, b in c]
    benign: list[tuple[str, str, Callable[[], bytes]]] = [
        ("tar_pickles", "b.tar", lambda: tar_bytes([("a.pkl", plain()), ("b/c.pkl", plain())])),
        ("tgz_pickle", "b.tar.gz", lambda: gzip.compress(tar_bytes([("m/a.pkl", plain())]))),
        ("v7_tar", "b.tar", lambda: v7_tar([("a.pkl", plain())])),
        ("pax_long_name", "b.tar", lambda: tar_bytes([(long, plain())], tarfile.PAX_FORMAT)),
        ("zip_deflated", "b.zip", lambda: zip_bytes([("a.pkl", plain())], zipfile.ZIP_DEFLATED)),
        ("torch_like_zip", "b.pt", lambda: _torch_zip(plain())),
        ("zip_with_dirs", "b.zip", lambda: zip_bytes([("d/", b""), ("d/a.json", b"{}")])),
    ]
    out += [Case(f"archive/benign_{n}", "archives", BEN, f, writer(b)) for n, f, b in benign]
    out.append(Case("archive/benign_npz", "archives", BEN, "b.npz", _npz))
    out.append(Case("archive/benign_torch_tgz", "archives", BEN, "b.tar.gz", _torch_tgz))
    return out


def _npy_then_zip() -> bytes:
    import numpy as np

    buf = io.BytesIO()
    np.save(buf, np.zeros(4, dtype=np.float32))
    return buf.getvalue() + zip_bytes([("config.json", b"{}"), ("data.pkl", evil())])


def _npz(p: Path) -> None:
    import numpy as np

    np.savez_compressed(p, a=np.arange(10), b=np.ones((2, 2)))


def _torch_tgz(p: Path) -> None:
    import torch

    buf = io.BytesIO()
    torch.save(torch.nn.Linear(3, 2).state_dict(), buf)
    p.write_bytes(gzip.compress(tar_bytes([("model/pytorch_model.bin", buf.getvalue())])))


# ---- bombs -------------------------------------------------------------------------------

_MB = 1 << 20


@cache
def _deflate_zeros(total_mb: int, wbits: int) -> bytes:
    """A deflate stream of total_mb MiB of zeros, built without compressing them all:
    after a full flush, every further MiB of zeros compresses to the same bytes."""
    co = zlib.compressobj(9, zlib.DEFLATED, wbits)
    first = co.compress(bytes(_MB)) + co.flush(zlib.Z_FULL_FLUSH)
    block = co.compress(bytes(_MB)) + co.flush(zlib.Z_FULL_FLUSH)
    tail = co.flush()
    return first + block * (total_mb - 2) + tail


def _crc_zeros(total_mb: int) -> int:
    crc = 0
    chunk = bytes(_MB)
    for _ in range(total_mb - 1):
        crc = zlib.crc32(chunk, crc)
    return crc


def gzip_bomb(total_mb: int = 4096) -> bytes:
    """gzip of total_mb MiB of zeros (header, raw deflate, CRC and size trailer)."""
    raw = _deflate_zeros(total_mb, -15)
    size = (total_mb - 1) * _MB  # the stream above holds total_mb - 1 MiB (first + blocks)
    return (
        b"\x1f\x8b\x08\x00"
        + bytes(4)
        + b"\x00\x03"
        + raw
        + struct.pack("<II", _crc_zeros(total_mb), size & 0xFFFFFFFF)
    )


def zip_entry_bomb(names: list[str], total_mb: int = 4096, overlap: bool = False) -> bytes:
    """A zip whose deflated members expand to total_mb MiB each; overlapping entries share
    one local file (Fifield's non-recursive bomb)."""
    raw = _deflate_zeros(total_mb, -15)
    usize = min((total_mb - 1) * _MB, 0xFFFFFFFE)
    out = bytearray()
    central = bytearray()
    local_at = 0
    for i, name in enumerate(names):
        nb = name.encode()
        if not overlap or i == 0:
            local_at = len(out)
            out += struct.pack(
                "<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, 0, 0, 0, len(raw), usize, len(nb), 0
            )
            out += nb + raw
        central += struct.pack(
            "<4sHHHHHHIIIHHHHHII",
            b"PK\x01\x02",
            20,
            20,
            0,
            8,
            0,
            0,
            0,
            len(raw),
            usize,
            len(nb),
            0,
            0,
            0,
            0,
            0,
            local_at,
        )
        central += nb
    cd_at = len(out)
    out += central
    out += struct.pack(
        "<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(names), len(names), len(central), cd_at, 0
    )
    return bytes(out)


def _nested_zip_bomb() -> bytes:
    inner = zip_entry_bomb(["zeros.bin"], 1024)
    mid = zip_bytes([(f"{i}.zip", inner) for i in range(8)], zipfile.ZIP_DEFLATED)
    return zip_bytes([(f"{i}.zip", mid) for i in range(8)], zipfile.ZIP_DEFLATED)


def _tar_many_members() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        info = tarfile.TarInfo("f")
        for i in range(25_000):
            info.name = f"f{i}"
            tf.addfile(info, io.BytesIO(b""))
    return buf.getvalue()


def _deep_gzip() -> bytes:
    data = evil()
    for _ in range(12):
        data = gzip.compress(data)
    return data


def bomb_cases() -> list[Case]:
    """Bombs: expected verdict review with the limit named (never a crash, never gigabytes)."""
    import lz4.frame
    import zstandard

    c: list[tuple[str, str, Callable[[], bytes]]] = [
        ("gzip_4gib", "model.pkl.gz", gzip_bomb),
        ("zip_member_4gib", "model.zip", lambda: zip_entry_bomb(["data.pkl"])),
        (
            "zip_overlapping_entries",
            "model.zip",
            lambda: zip_entry_bomb([f"f{i}.pkl" for i in range(200)], 1024, overlap=True),
        ),
        ("zip_nested_64x1gib", "model.zip", _nested_zip_bomb),
        ("gzip_in_gzip", "model.pkl.gz", lambda: gzip.compress(gzip_bomb(2048))),
        ("bz2_zeros", "model.pkl.bz2", lambda: bz2.compress(bytes(64 * _MB))),
        ("xz_zeros", "model.pkl.xz", lambda: lzma.compress(bytes(64 * _MB), preset=0)),
        (
            "zstd_zeros",
            "model.pkl.zst",
            lambda: zstandard.ZstdCompressor().compress(bytes(256 * _MB)),
        ),
        ("lz4_zeros", "model.pkl.lz4", lambda: lz4.frame.compress(bytes(128 * _MB))),
        ("tgz_25k_members", "model.tar.gz", _tar_many_members),
        ("gzip_nested_12_deep", "model.pkl.gz", _deep_gzip),
        (
            "zip_declares_65k_members",
            "model.zip",
            lambda: _eocd_count(zip_bytes([("a.pkl", plain())]), 0xFFFF),
        ),
    ]
    return [Case(f"bomb/{n}", "bombs", MAL, f, writer(b)) for n, f, b in c]
