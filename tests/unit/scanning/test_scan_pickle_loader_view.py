"""The pickle track reads like the loader: name mapping, generated profiles, legacy torch tar,
getattr chains, NumPy header spellings. Payloads are hand-written opcodes, never loaded."""

from __future__ import annotations

import pickle

import pytest
from adversarial.pickles import CMD, g0, npy, p, s0, sg, su

from airlock.scanning.engine import profiles, scan_bytes
from airlock.scanning.engine.npyheader import descr_has_object, read_header


def _rules(data: bytes, name: str = "x.pkl") -> dict[str, str]:
    rep = scan_bytes(data, name=name)
    return {f.rule_id: f.message for f in rep.findings} | {"verdict": rep.verdict.value}


def test_python2_module_names_are_judged_as_the_module_the_loader_imports():
    # protocol < 3: find_class maps "commands" to "subprocess"
    got = _rules(g0("commands", "getoutput") + b"(" + s0(CMD) + b"tR.")
    assert got["verdict"] == "block"
    assert "subprocess.getoutput" in got["AIR-PKL-001"]


def test_python2_names_are_not_mapped_at_protocol_3():
    got = _rules(b"\x80\x03" + g0("commands", "getoutput") + su(CMD) + b"\x85R.")
    assert "commands.getoutput" in got["AIR-PKL-001"]


def test_string_escapes_are_decoded_like_cpython():
    got = _rules(b"S'o\\x73'\nS'sy\\x73tem'\n\x93(" + s0(CMD) + b"tR.")
    assert "os.system" in got["AIR-PKL-001"]


def test_dotted_name_through_a_dangerous_module_is_dangerous_even_unreferenced_by_a_call():
    got = _rules(p(4, sg("torch.serialization", "os.system")))
    assert got["verdict"] == "block"
    got = _rules(p(4, sg("collections", "_sys.modules")))
    assert got["verdict"] == "block"


def test_getattr_of_a_class_and_a_constant_name_is_the_dotted_global():
    # how pickle writes zoneinfo.ZoneInfo._unpickle: getattr(ZoneInfo, "_unpickle")(key, 1)
    method = sg("builtins", "getattr") + sg("zoneinfo", "ZoneInfo") + su("_unpickle") + b"\x86R"
    ok = p(4, method + su("UTC") + b"K\x01\x86R")
    assert _rules(ok)["verdict"] == "pass"
    bad = p(4, sg("builtins", "getattr") + sg("zoneinfo", "ZoneInfo") + su("__init__") + b"\x86R")
    assert _rules(bad)["verdict"] == "block"


def test_profiled_state_class_passes_when_constructed_and_given_state():
    pair = ("sklearn.linear_model._base", "LinearRegression")
    assert profiles.is_state_class(pair) or profiles.is_emitted(pair)
    data = p(4, sg(*pair) + b")\x81}" + su("fit_intercept") + b"\x88sb")
    assert _rules(data)["verdict"] == "pass"


def test_profiled_state_class_called_with_arguments_stays_blocked():
    pair = next(c for c in sorted(profiles._tables()[1]) if c[0].startswith("torch.utils.data."))
    assert not profiles.is_emitted(pair)
    data = p(4, sg(*pair) + su("/tmp/x") + b"\x85R")
    got = _rules(data)
    assert got["verdict"] == "block"
    assert "runs its __init__" in got["AIR-PKL-002"]


def test_unknown_class_inside_a_profiled_library_only_constructed_is_review_with_the_reason():
    data = p(4, sg("sklearn.future_module", "NewEstimator") + b")\x81}" + su("a") + b"K\x01sb")
    got = _rules(data)
    assert got["verdict"] == "review"
    assert "profiled library sklearn 1.9" in got["AIR-PKL-003"]


def test_unknown_class_outside_profiled_libraries_constructed_stays_blocked():
    data = p(4, sg("mypkg.models", "Net") + b")\x81}" + su("a") + b"K\x01sb")
    assert _rules(data)["verdict"] == "block"


def test_functools_partial_wrapping_a_profiled_class_passes_but_wrapping_os_system_blocks():
    observer = sg("torch.ao.quantization.observer", "MinMaxObserver")
    ok = p(4, sg("functools", "partial") + observer + b"\x85R")
    assert _rules(ok)["verdict"] == "pass"
    bad = p(4, sg("functools", "partial") + sg("os", "system") + su(CMD) + b"\x86R")
    assert _rules(bad)["verdict"] == "block"


def test_legacy_torch_tar_storages_are_read_record_by_record():
    from adversarial.pickles import _legacy_tar

    tar = _legacy_tar("storages_second_args")
    got = _rules(tar, "model.tar")
    assert got["verdict"] == "block"
    assert "os.system" in got["AIR-PKL-001"]
    # the same layout without a payload passes, every record read
    assert _rules(_legacy_tar("clean"), "model.tar")["verdict"] == "pass"


@pytest.mark.parametrize(
    ("descr", "has_object"),
    [
        ("O", True),
        ("|O", True),
        ("O8", True),
        ("object", True),
        ("i4,O", True),
        ("(2,)O", True),
        ([("a", "O")], True),
        ([("a", [("b", "O")])], True),
        ([("a", "O", (2,))], True),
        (("O", (2,)), True),
        (["aO"], True),
        ({"aO": 1}, True),
        ("<f8", False),
        ([("O", "<f8")], False),
        ([("Obj", "<i4"), ("b", "<f8")], False),
        ([(("Ot", "O"), "<f8")], False),
    ],
)
def test_numpy_object_dtype_spellings_agree_with_numpy(descr, has_object):
    import numpy as np
    from numpy.lib.format import descr_to_dtype

    assert descr_has_object(descr) is has_object
    assert descr_to_dtype(descr).hasobject is has_object
    del np


def test_npy_with_an_object_field_scans_its_pickle_and_a_field_named_o_does_not():
    bad = npy("[('a', '<f8'), ('b', '|O')]", p(2, g0("os", "system") + b"(" + s0(CMD) + b"tR"))
    assert _rules(bad, "a.npy")["verdict"] == "block"
    harmless = npy("[('O', '<f8')]", b"\x80\x02" + b"\x00" * 6)
    assert read_header(harmless).has_object is False
    assert _rules(harmless, "a.npy")["verdict"] == "pass"


def test_seventy_stacked_streams_are_all_followed():
    data = b"".join(pickle.dumps(i, protocol=4) for i in range(70))
    data += p(4, sg("os", "system") + su(CMD) + b"\x85R")
    assert _rules(data)["verdict"] == "block"


def test_joblib_old_array_wrapper_naming_a_file_outside_the_folder_is_blocked():
    def wrapper(filename: str) -> bytes:
        state = b"}(" + su("filename") + su(filename) + su("allow_mmap") + b"\x88u"
        return p(4, sg("joblib.numpy_pickle_compat", "NDArrayWrapper") + b")\x81" + state + b"b")

    got = _rules(wrapper("/tmp/payload.npy"), "m.joblib")
    assert got["verdict"] == "block"
    assert "/tmp/payload.npy" in got["AIR-PKL-012"]
    beside = _rules(wrapper("m.joblib_01.npy"), "m.joblib")
    assert beside["verdict"] == "review"
    assert "AIR-PKL-013" in beside


def test_reconstructor_base_class_runs_its_init_and_is_judged_as_called():
    cls = g0("sklearn.linear_model._base", "LinearRegression")
    ok = b"\x80\x02" + g0("copyreg", "_reconstructor") + b"(" + cls + g0("builtins", "object")
    assert _rules(ok + b"NtR.")["verdict"] == "pass"
    base = g0("torch.utils.data.dataloader", "DataLoader")
    bad = b"\x80\x02" + g0("copyreg", "_reconstructor") + b"(" + cls + base + s0("x") + b"tR."
    assert _rules(bad)["verdict"] == "block"
