"""Every format class: benign files from the real writers pass, hand-made malicious ones do not."""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib

import pickle_factory as pf
import pytest
from sample_files import find

from airlock.scanning.engine import Verdict, scan_bytes, scan_path


def test_generated_benign_files_pass(generated):
    failures = [(p.name, scan_path(p)) for p, label, _ in generated if label == "benign"]
    bad = [
        (n, r.verdict, [f.message for f in r.findings])
        for n, r in failures
        if r.verdict is not Verdict.PASS
    ]
    assert not bad


def test_generated_malicious_files_are_blocked(generated):
    reports = [(p.name, scan_path(p)) for p, label, _ in generated if label == "malicious"]
    bad = [(n, r.verdict) for n, r in reports if r.verdict is not Verdict.BLOCK]
    assert not bad


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("b_torch_state.pt", "pytorch-zip"),
        ("b_torch_legacy.bin", "pytorch-legacy"),
        ("b_torchscript.pt", "torchscript"),
        ("b_np_object.npy", "npy"),
        ("b_np_arrays.npz", "npz"),
        ("b_joblib_zlib.joblib", "pickle+zlib"),
        ("b_joblib_lzma.joblib", "pickle+lzma"),
        ("b_model.safetensors", "safetensors"),
        ("b_model.onnx", "onnx"),
        ("b_model.gguf", "gguf"),
        ("b_model.keras", "keras"),
        ("m_pyfunc_saved_model.pb", "tf-savedmodel"),
    ],
)
def test_format_is_detected_by_content(generated, name, fmt, tmp_path):
    src = find(generated, name)
    renamed = tmp_path / "artifact.dat"  # the extension says nothing
    renamed.write_bytes(src.read_bytes())
    assert scan_path(renamed).format == fmt


def test_container_path_names_the_member():
    report = scan_bytes(pf.torch_zip(pf.os_system_v4()), name="model.zip")
    assert report.findings[0].evidence.location == "model.zip!archive/data.pkl"


def _zip(members: dict[str, bytes], method: int = zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for n, d in members.items():
            z.writestr(n, d)
    return buf.getvalue()


def test_zip_local_and_central_names_differ():
    data = bytearray(_zip({"data.pkl": pf.os_system_v4()}))
    i = data.index(b"data.pkl")  # the local header name comes first
    data[i : i + 8] = b"safe.txt"
    report = scan_bytes(bytes(data), name="z.zip")
    rules = {f.rule_id for f in report.findings}
    assert "AIR-ARC-002" in rules and report.verdict is Verdict.BLOCK


def test_zip_bad_crc_is_reported_and_still_scanned():
    data = bytearray(_zip({"data.pkl": pf.os_system_v4()}))
    i = data.index(b"PK\x01\x02") + 16
    data[i : i + 4] = b"\x00\x00\x00\x00"
    report = scan_bytes(bytes(data), name="z.zip")
    rules = {f.rule_id for f in report.findings}
    assert {"AIR-ARC-003", "AIR-PKL-001"} <= rules


def test_zip_flag_bits_are_reported_and_member_scanned():
    data = bytearray(_zip({"data.pkl": pf.os_system_v4()}))
    for sig in (b"PK\x03\x04", b"PK\x01\x02"):
        i = data.index(sig) + (6 if sig == b"PK\x03\x04" else 8)
        data[i] |= 0x20
    report = scan_bytes(bytes(data), name="z.zip")
    assert {"AIR-ARC-010", "AIR-PKL-001"} <= {f.rule_id for f in report.findings}


def test_bytes_before_the_archive_are_reported():
    report = scan_bytes(b"GIF89a" + b"\x00" * 100 + _zip({"a.pkl": pf.os_system_v4()}), name="poly")
    assert {"AIR-ARC-004", "AIR-PKL-001"} <= {f.rule_id for f in report.findings}


def test_nested_zips_respect_the_depth_limit():
    data = pf.os_system_v4()
    for k in range(10):
        data = _zip({f"l{k}.zip" if k else "a.pkl": data})
    report = scan_bytes(data, name="deep.zip")
    assert report.verdict is not Verdict.PASS
    assert any(f.evidence.detail == "max_depth" for f in report.findings)


def test_safetensors_overlapping_offsets():
    header = {
        "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
        "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]},
    }
    raw = json.dumps(header).encode()
    data = struct.pack("<Q", len(raw)) + raw + b"\x00" * 12
    report = scan_bytes(data, name="x.safetensors")
    assert report.verdict is Verdict.REVIEW
    assert "AIR-SFT-002" in {f.rule_id for f in report.findings}


def test_safetensors_duplicate_keys_are_not_strict_json():
    raw = b'{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "a": {}}'
    report = scan_bytes(struct.pack("<Q", len(raw)) + raw + b"\x00" * 4, name="x.safetensors")
    assert "AIR-SFT-001" in {f.rule_id for f in report.findings}


def test_keras_lambda_deep_in_nested_config():
    inner = {"class_name": "Lambda", "config": {"function": "x"}}
    cfg = {
        "class_name": "Functional",
        "config": {"layers": [{"config": {"layer": [{"wrap": inner}]}}]},
    }
    report = scan_bytes(json.dumps(cfg).encode(), name="config.json")
    assert report.verdict is Verdict.BLOCK


def test_keras_foreign_module_reference_is_blocked():
    # Deny by default: a class Keras does not register can only come from other code.
    cfg = {
        "class_name": "Sequential",
        "config": {"layers": [{"module": "mylib.layers", "class_name": "X"}]},
    }
    report = scan_bytes(json.dumps(cfg).encode(), name="config.json")
    assert report.verdict is Verdict.BLOCK
    assert "AIR-KRS-005" in {f.rule_id for f in report.findings}


def test_onnx_absolute_external_path_and_custom_domain(tmp_path):
    from onnx import TensorProto, helper

    t = helper.make_tensor("w", TensorProto.FLOAT, [1], [1.0])
    t.data_location = TensorProto.EXTERNAL
    t.ClearField("float_data")
    e = t.external_data.add()
    e.key, e.value = "location", "/etc/shadow"
    node = helper.make_node("Evil", ["x"], ["y"], domain="com.attacker")
    graph = helper.make_graph([node], "g", [], [], [t])
    p = tmp_path / "m.onnx"
    p.write_bytes(helper.make_model(graph).SerializeToString())
    rules = {f.rule_id for f in scan_path(p).findings}
    assert {"AIR-ONNX-001", "AIR-ONNX-002"} <= rules


def test_onnx_external_data_symlink_is_blocked(tmp_path):
    from onnx import TensorProto, helper

    (tmp_path / "weights.bin").symlink_to("/etc/hostname")
    t = helper.make_tensor("w", TensorProto.FLOAT, [1], [1.0])
    t.data_location = TensorProto.EXTERNAL
    t.ClearField("float_data")
    e = t.external_data.add()
    e.key, e.value = "location", "weights.bin"
    p = tmp_path / "m.onnx"
    p.write_bytes(helper.make_model(helper.make_graph([], "g", [], [], [t])).SerializeToString())
    assert scan_path(p).verdict is Verdict.BLOCK


def test_joblib_zlib_with_malicious_payload_is_blocked():
    assert scan_bytes(zlib.compress(pf.os_system_v4()), name="m.joblib").verdict is Verdict.BLOCK


def test_tar_link_member_is_reported():
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        info = tarfile.TarInfo("model.pkl")
        info.type = tarfile.SYMTYPE
        info.linkname = "../../../etc/passwd"
        t.addfile(info)
    report = scan_bytes(buf.getvalue(), name="m.tar")
    assert report.verdict is Verdict.BLOCK


def test_seven_zip_members_are_scanned():
    report = scan_bytes(pf.seven_zip("model/data.pkl", pf.os_system_v4()), name="m.7z")
    assert report.verdict is Verdict.BLOCK
    assert report.findings[0].evidence.location == "m.7z!model/data.pkl"


def test_seven_zip_member_path_traversal_is_blocked():
    report = scan_bytes(pf.seven_zip("../../x.txt", b"hello"), name="m.7z")
    assert "AIR-ARC-001" in {f.rule_id for f in report.findings}


def test_seven_zip_with_unsupported_coder_is_review():
    data = pf.seven_zip("a.pkl", pf.os_system_v4(), coder=b"\x03\x04\x01")  # PPMd
    report = scan_bytes(data, name="m.7z")
    assert report.verdict is Verdict.REVIEW
    assert report.findings[0].rule_id == "AIR-ARC-007"


def test_broken_seven_zip_is_review():
    report = scan_bytes(b"7z\xbc\xaf\x27\x1c\x00\x04" + b"\x00" * 40, name="m.7z")
    assert report.verdict is Verdict.REVIEW


def test_keras_config_with_tf_keras_2_module_paths_passes():
    # tf-keras 2.15 writes its own internal module paths for registered classes.
    cfg = {
        "module": "keras.src.engine.functional",
        "class_name": "Functional",
        "registered_name": None,
        "config": {
            "layers": [
                {
                    "module": "keras.layers",
                    "class_name": "Dense",
                    "registered_name": None,
                    "config": {
                        "units": 2,
                        "activation": "relu",
                        "kernel_initializer": {
                            "module": "keras.initializers",
                            "class_name": "GlorotUniform",
                            "config": {"seed": None},
                            "registered_name": None,
                        },
                    },
                }
            ]
        },
    }
    report = scan_bytes(json.dumps(cfg).encode(), name="config.json")
    assert report.verdict is Verdict.PASS, report.findings


def test_keras_registered_class_from_a_foreign_package_is_blocked():
    cfg = {"module": "keras_evil.layers", "class_name": "Dense", "config": {}}
    report = scan_bytes(
        json.dumps({"class_name": "Sequential", "config": {"layers": [cfg]}}).encode(),
        name="config.json",
    )
    assert "AIR-KRS-005" in {f.rule_id for f in report.findings}
