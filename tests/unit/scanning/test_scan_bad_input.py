"""Bad input never crashes, hangs or exhausts memory: it becomes a review naming the problem."""

from __future__ import annotations

import struct

import pickle_factory as pf
import pytest
from sample_files import find

from airlock.scanning.engine import Limits, Verdict, scan_bytes, scan_path


def _truncations(data: bytes) -> list[bytes]:
    return [
        data[:n] for n in sorted({1, 2, 5, 9, len(data) // 2, len(data) - 1}) if 0 < n < len(data)
    ]


def test_empty_file_is_review(tmp_path):
    p = tmp_path / "empty.pt"
    p.write_bytes(b"")
    report = scan_path(p)
    assert report.verdict is Verdict.REVIEW
    assert report.findings[0].rule_id == "AIR-ERR-002"


@pytest.mark.parametrize(
    "name",
    [
        "b_torch_state.pt",
        "b_torch_legacy.bin",
        "b_np_object.npy",
        "b_model.safetensors",
        "b_model.gguf",
        "b_model.onnx",
        "b_joblib_gzip.joblib",
        "b_np_dict.pkl",
        "b_model.keras",
    ],
)
def test_truncated_files_of_every_format_are_review(generated, name):
    data = find(generated, name).read_bytes()
    for cut in _truncations(data):
        report = scan_bytes(cut, name=name)
        assert report.verdict is not Verdict.PASS or report.format == "unknown", (len(cut), report)
        for f in report.findings:
            assert f.message


def test_truncated_pickle_is_review_with_parse_finding():
    report = scan_bytes(pickle_bytes()[:-3], name="t.pkl")
    assert report.verdict is Verdict.REVIEW
    assert report.findings[0].rule_id == "AIR-PKL-008"


def pickle_bytes() -> bytes:
    import pickle

    return pickle.dumps({"a": list(range(100))}, protocol=4)


def test_deeply_nested_marks_hit_a_limit():
    data = pf.proto(2) + pf.global0("collections", "OrderedDict") + b"0" + b"(" * 300_000 + b"."
    report = scan_bytes(data, name="deep.pkl", limits=Limits(max_stack=1000, max_marks=1000))
    assert report.verdict is Verdict.REVIEW


def test_huge_stack_hits_the_stack_limit():
    data = pf.proto(2) + pf.global0("collections", "OrderedDict") + b"N" * 600_000 + b"."
    report = scan_bytes(data, name="wide.pkl", limits=Limits(max_stack=1000))
    assert report.verdict is Verdict.REVIEW
    assert any(f.evidence.detail == "max_stack" for f in report.findings)


def test_self_referencing_memo_does_not_loop():
    body = b"]\x94" + b"h\x00" * 50 + b"e" * 0 + b"0" * 50
    data = pf.p4(pf.stack_global("collections", "OrderedDict") + b"0" + body)
    assert scan_bytes(data, name="self.pkl").verdict is Verdict.PASS


def test_time_limit_is_reported():
    data = pf.proto(2) + pf.global0("collections", "OrderedDict") + b"0" + b"N0" * 400_000 + b"."
    report = scan_bytes(data, name="slow.pkl", limits=Limits(time_seconds=0.0))
    assert report.verdict is Verdict.REVIEW
    assert any(f.rule_id == "AIR-LIM-002" for f in report.findings)


def test_zip_bomb_member_hits_the_ratio_limit():
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("data.pkl", b"\x80\x04" + b"N" * (30 << 20))
    report = scan_bytes(buf.getvalue(), name="bomb.zip", limits=Limits(max_ratio=50))
    assert report.verdict is Verdict.REVIEW
    assert any(f.evidence.detail == "max_ratio" for f in report.findings)


def test_gguf_with_lying_counts_is_review():
    data = b"GGUF" + struct.pack("<IQQ", 3, 10**12, 10**12)
    report = scan_bytes(data, name="x.gguf")
    assert report.verdict is Verdict.REVIEW
    assert report.findings[0].rule_id == "AIR-GGUF-001"


def test_gguf_string_longer_than_file_is_review():
    data = b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", 1 << 40) + b"key"
    assert scan_bytes(data, name="x.gguf").verdict is Verdict.REVIEW


def test_safetensors_header_longer_than_file_is_review():
    data = struct.pack("<Q", 1 << 40) + b"{}"
    report = scan_bytes(data, name="x.safetensors")
    assert report.verdict is Verdict.REVIEW


def test_npy_with_malformed_header_is_review():
    data = b"\x93NUMPY\x01\x00" + struct.pack("<H", 20) + b"{'descr': __import__"
    assert scan_bytes(data, name="x.npy").verdict is Verdict.REVIEW


def test_file_over_the_size_limit_is_review(tmp_path):
    p = tmp_path / "big.bin"
    p.write_bytes(b"\x00" * 1000)
    report = scan_path(p, limits=Limits(max_file_bytes=100))
    assert report.verdict is Verdict.REVIEW
    assert report.findings[0].evidence.detail == "max_file_bytes"


@pytest.mark.parametrize("seed", range(30))
def test_random_mutations_never_crash(generated, seed):
    import random

    rng = random.Random(seed)
    src = [p for p, _, _ in generated][seed % len(generated)]
    data = bytearray(src.read_bytes())
    for _ in range(8):
        if data:
            data[rng.randrange(len(data))] = rng.randrange(256)
    report = scan_bytes(bytes(data), name=src.name)
    assert all(f.rule_id != "AIR-ERR-001" for f in report.findings), report.findings


def test_deeply_nested_json_is_review():
    report = scan_bytes(b"[" * 100_000 + b"]" * 100_000, name="config.json")
    assert report.verdict is Verdict.REVIEW
    assert report.findings[0].evidence.detail == "max_json_depth"


def test_zip_member_that_is_not_json_in_a_keras_archive_is_review():
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("config.json", "{not json")
        z.writestr("metadata.json", "{}")
    report = scan_bytes(buf.getvalue(), name="m.keras")
    assert report.verdict is Verdict.REVIEW


def test_fifo_and_folder_are_review_without_blocking(tmp_path):
    import os

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for p in (fifo, tmp_path):
        report = scan_path(p)
        assert report.verdict is Verdict.REVIEW
        assert "not a regular file" in report.findings[0].message


def test_missing_file_is_review(tmp_path):
    report = scan_path(tmp_path / "nope.pt")
    assert report.verdict is Verdict.REVIEW
