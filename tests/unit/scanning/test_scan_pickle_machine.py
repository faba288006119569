"""The pickle machine emulator: every import and call site, judged against the allowlist."""

from __future__ import annotations

import pickle
import struct

import pickle_factory as pf
import pytest

from airlock.scanning.engine import Limits, Verdict, pickle_scan, scan_bytes
from airlock.scanning.engine.pickle_scan import has_fast_core


@pytest.fixture(autouse=True, params=["compiled", "python"])
def core(request, monkeypatch):
    """Every test runs with the compiled skimmer (when built) and with the emulator alone."""
    if request.param == "python":
        monkeypatch.setattr(pickle_scan, "_skim", None)
    elif not has_fast_core():
        pytest.skip("compiled skimmer not built")
    return request.param


BLOCKED = [
    pf.os_system_v0,
    pf.os_system_v4,
    pf.memo_stack_global,
    pf.inst_call,
    pf.obj_call,
    pf.newobj_unknown,
    pf.newobj_ex_unknown,
    pf.build_on_global,
    pf.dotted_escape,
    pf.stacked,
    pf.nested_in_bytes,
    pf.call_then_garbage,
    pf.reconstructor_indirect,
]


@pytest.mark.parametrize("make", BLOCKED, ids=lambda f: f.__name__)
def test_call_of_dangerous_or_unlisted_global_is_blocked(make):
    report = scan_bytes(make(), name="x.pkl")
    assert report.verdict is Verdict.BLOCK, report.findings


@pytest.mark.parametrize("protocol", [0, 1, 2, 3, 4, 5])
def test_plain_data_passes_in_every_protocol(protocol):
    data = {"a": [1, 2.5, "x", b"y", None, True], "b": (1, 2), "c": {1, 2}, "d": 10**30}
    report = scan_bytes(pickle.dumps(data, protocol=protocol), name="d.pkl")
    assert report.verdict is Verdict.PASS, report.findings
    assert report.format == "pickle"


def test_unknown_global_only_referenced_is_review():
    report = scan_bytes(pf.unknown_reference_only(), name="r.pkl")
    assert report.verdict is Verdict.REVIEW
    assert report.findings[0].rule_id == "AIR-PKL-003"


def test_allowlisted_call_passes():
    assert scan_bytes(pf.allowlisted_call(), name="ok.pkl").verdict is Verdict.PASS


def test_finding_names_global_offset_trace_and_arguments():
    report = scan_bytes(pf.os_system_v4("rm -rf /"), name="x.pkl")
    f = report.findings[0]
    assert f.evidence.global_name == "os.system"
    assert f.evidence.offset is not None and f.evidence.offset > 0
    assert f.evidence.trace[-1].endswith("REDUCE")
    assert "rm -rf /" in f.message
    assert f.atlas == ("AML.T0010", "AML.T0011")


def test_stream_broken_after_call_reports_both():
    report = scan_bytes(pf.call_then_garbage(), name="x.pkl")
    rules = {f.rule_id for f in report.findings}
    assert {"AIR-PKL-001", "AIR-PKL-008"} <= rules


def test_stack_global_with_non_string_names_is_blocked():
    data = pf.p4(pf.su("os") + b"K\x01\x93" + b")R")
    assert scan_bytes(data, name="x.pkl").verdict is Verdict.BLOCK


def test_extension_registry_opcode_is_review():
    data = pf.proto(2) + b"\x82\x01)R."
    report = scan_bytes(data, name="x.pkl")
    assert report.verdict is Verdict.BLOCK  # a call on an EXT value is a dynamic call
    assert "AIR-PKL-007" in {f.rule_id for f in report.findings}


def test_large_payloads_are_skipped_not_copied():
    blob = b"\x00" * (8 << 20)
    data = pf.proto(5) + b"\x96" + struct.pack("<Q", len(blob)) + blob + b"."
    report = scan_bytes(data, name="big.pkl")
    assert report.verdict is Verdict.PASS


def test_encoded_nested_pickle_in_a_string_is_review():
    import base64

    enc = base64.b64encode(pf.os_system_v4()).decode()
    data = pickle.dumps({"payload": enc}, protocol=4)
    report = scan_bytes(data, name="x.pkl")
    assert report.verdict is Verdict.REVIEW
    assert report.findings[0].rule_id == "AIR-PKL-011"


def test_frame_boundary_straddle_is_review():
    body = pf.su("abc")
    data = pf.proto(4) + b"\x95" + struct.pack("<Q", 2) + body + b"."
    assert scan_bytes(data, name="x.pkl").verdict is Verdict.REVIEW


@pytest.mark.parametrize("text", [b"config\nsettings\nmore text", b"Important notes\nabc"])
def test_text_starting_with_an_opcode_letter_is_not_a_pickle(text):
    report = scan_bytes(text, name="notes.txt")
    assert report.verdict is Verdict.PASS
    assert report.format == "unknown"


def test_text_that_looks_like_a_global_is_not_a_pickle():
    report = scan_bytes(b"class Foo(Bar):\n    pass\n", name="code.py")
    assert report.verdict is Verdict.PASS
    assert report.format == "unknown"


def test_fast_core_and_emulator_agree_on_data_only_stream():
    data = pickle.dumps({f"k{i}": i for i in range(3000)}, protocol=4)
    assert scan_bytes(data, name="v.pkl").verdict is Verdict.PASS
    assert isinstance(has_fast_core(), bool)


def test_memo_limit_is_enforced():
    # An import forces the full emulator (data-only streams allocate nothing to bound).
    data = pf.p4(pf.stack_global("collections", "OrderedDict") + b"0}" + b"\x94" * 10)
    report = scan_bytes(data, name="m.pkl", limits=Limits(max_memo=3))
    assert report.verdict is Verdict.REVIEW
    assert any(f.evidence.detail == "max_memo" for f in report.findings)


def test_deployment_allowlist_extends_the_profiles():
    data = pf.newobj_unknown()
    assert scan_bytes(data, name="m.pkl").verdict is Verdict.BLOCK
    trusted = Limits(allow_globals=frozenset({("mypkg.evil", "Thing")}))
    assert scan_bytes(data, name="m.pkl", limits=trusted).verdict is Verdict.PASS
