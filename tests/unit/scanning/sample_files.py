"""Generate benign files with the real writers and malicious variants by hand, per format class."""

from __future__ import annotations

import gzip
import io
import json
import struct
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import pickle_factory as pf

Sample = tuple[Path, str, str]  # path, label (benign/malicious), category


def _w(root: Path, name: str, data: bytes) -> Path:
    p = root / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return p


def benign_numpy(root: Path) -> list[Sample]:
    import numpy as np

    out = []
    p = root / "b_np_float.npy"
    np.save(p, np.arange(100, dtype=np.float32))
    out.append((p, "benign", "numpy"))
    p = root / "b_np_object.npy"
    np.save(p, np.array([{"a": 1}, [1, 2], "x"], dtype=object), allow_pickle=True)
    out.append((p, "benign", "numpy"))
    p = root / "b_np_arrays.npz"
    np.savez(p, a=np.zeros(10), b=np.ones((3, 3)))
    out.append((p, "benign", "numpy"))
    p = root / "b_np_compressed.npz"
    np.savez_compressed(p, a=np.zeros(10), o=np.array([1, "two"], dtype=object))
    out.append((p, "benign", "numpy"))
    import pickle

    p = root / "b_np_dict.pkl"
    p.write_bytes(pickle.dumps({"w": np.ones((4, 4)), "b": np.zeros(4)}, protocol=5))
    out.append((p, "benign", "pickle"))
    p = root / "b_vocab.pkl"
    p.write_bytes(pickle.dumps({f"tok{i}": i for i in range(5000)}, protocol=2))
    out.append((p, "benign", "pickle"))
    return out


def benign_joblib(root: Path) -> list[Sample]:
    import joblib
    import numpy as np

    obj = {"weights": np.arange(1000, dtype=np.float64), "names": ["a", "b"], "n": 3}
    out = []
    for comp in (0, ("zlib", 3), ("gzip", 3), ("bz2", 3), ("lzma", 3), ("xz", 3)):
        tag = "plain" if comp == 0 else comp[0]  # type: ignore[index]
        p = root / f"b_joblib_{tag}.joblib"
        joblib.dump(obj, p, compress=comp)
        out.append((p, "benign", "joblib"))
    p = root / "b_joblib_object.joblib"
    joblib.dump({"o": np.array([1, "x", None], dtype=object)}, p)
    out.append((p, "benign", "joblib"))
    return out


def benign_torch(root: Path) -> list[Sample]:
    try:
        import torch
    except ImportError:  # torch is a dev extra; the other formats are still covered
        return []

    out = []
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    p = root / "b_torch_state.pt"
    torch.save(model.state_dict(), p)
    out.append((p, "benign", "torch"))
    opt = torch.optim.Adam(model.parameters())
    model(torch.ones(1, 4)).sum().backward()
    opt.step()
    p = root / "b_torch_ckpt.pt"
    torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, p)
    out.append((p, "benign", "torch"))
    p = root / "b_torch_module.pt"
    torch.save(model, p)
    out.append((p, "benign", "torch"))
    p = root / "b_torch_legacy.bin"
    torch.save(model.state_dict(), p, _use_new_zipfile_serialization=False)
    out.append((p, "benign", "torch"))
    p = root / "b_torchscript.pt"
    torch.jit.save(torch.jit.script(model), p)
    out.append((p, "benign", "torch"))
    return out


def benign_other(root: Path) -> list[Sample]:
    import gguf
    import numpy as np
    import onnx
    from onnx import TensorProto, helper
    from safetensors.numpy import save_file

    out = []
    p = root / "b_model.safetensors"
    save_file({"w": np.zeros((3, 4), dtype=np.float32), "b": np.ones(4, dtype=np.float16)}, str(p))
    out.append((p, "benign", "safetensors"))
    node = helper.make_node("Relu", ["x"], ["y"])
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
        [helper.make_tensor("w", TensorProto.FLOAT, [2], [1.0, 2.0])],
    )
    p = root / "b_model.onnx"
    onnx.save(helper.make_model(graph), str(p))
    out.append((p, "benign", "onnx"))
    p = root / "b_model.gguf"
    w = gguf.GGUFWriter(str(p), "llama")
    w.add_string(
        "tokenizer.chat_template",
        "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}",
    )
    w.add_tensor("t", np.zeros(8, dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    out.append((p, "benign", "gguf"))
    cfg = {
        "class_name": "Sequential",
        "config": {
            "layers": [{"module": "keras.layers", "class_name": "Dense", "config": {"units": 2}}]
        },
    }
    p = _w(root, "b_keras_config.json", json.dumps(cfg).encode())
    out.append((p, "benign", "keras"))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("config.json", json.dumps(cfg))
        z.writestr("metadata.json", "{}")
    out.append((_w(root, "b_model.keras", buf.getvalue()), "benign", "keras"))
    return out


def _tf_node(name: str, op: str) -> bytes:
    n, o = name.encode(), op.encode()
    return b"\x0a" + bytes([len(n)]) + n + b"\x12" + bytes([len(o)]) + o


def _savedmodel(op: str) -> bytes:
    node = _tf_node("n", op)
    graph = b"\x0a" + bytes([len(node)]) + node
    meta = b"\x12" + bytes([len(graph)]) + graph
    return b"\x08\x01\x12" + bytes([len(meta)]) + meta


def malicious_samples(root: Path) -> list[Sample]:
    import numpy as np

    out: list[Sample] = []
    m = "malicious"
    out.append((_w(root, "m_v0.pkl", pf.os_system_v0()), m, "pickle"))
    out.append((_w(root, "m_v4.pkl", pf.os_system_v4()), m, "pickle"))
    out.append((_w(root, "m_memo.pkl", pf.memo_stack_global()), m, "pickle"))
    out.append((_w(root, "m_inst.pkl", pf.inst_call()), m, "pickle"))
    out.append((_w(root, "m_obj.pkl", pf.obj_call()), m, "pickle"))
    out.append((_w(root, "m_stacked.pkl", pf.stacked()), m, "pickle"))
    out.append((_w(root, "m_torch.pt", pf.torch_zip(pf.os_system_v4())), m, "torch"))
    legacy = (
        pf.proto(2) + b"\x8a\x0a" + bytes.fromhex("6cfc9c46f9206aa85019") + b"." + pf.os_system_v4()
    )
    out.append((_w(root, "m_torch_legacy.bin", legacy), m, "torch"))
    ts = io.BytesIO()
    with zipfile.ZipFile(ts, "w") as z:
        z.writestr("m/constants.pkl", pf.os_system_v4())
        z.writestr("m/code/__torch__.py", "")
    out.append((_w(root, "m_torchscript.pt", ts.getvalue()), m, "torch"))
    hdr = "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"
    hdr += " " * (117 - len(hdr)) + "\n"
    npy = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode() + pf.os_system_v4()
    out.append((_w(root, "m_object.npy", npy), m, "numpy"))
    npz = io.BytesIO()
    with zipfile.ZipFile(npz, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("a.npy", npy)
    out.append((_w(root, "m_arrays.npz", npz.getvalue()), m, "numpy"))
    out.append((_w(root, "m_joblib.joblib", gzip.compress(pf.os_system_v4())), m, "joblib"))
    out.append((_w(root, "m_joblib_plain.joblib", pf.newobj_unknown()), m, "joblib"))
    cfg = {
        "class_name": "Sequential",
        "config": {
            "layers": [{"class_name": "Lambda", "config": {"name": "l", "function": "4wEAAAA="}}]
        },
    }
    kz = io.BytesIO()
    with zipfile.ZipFile(kz, "w") as z:
        z.writestr("config.json", json.dumps(cfg))
        z.writestr("metadata.json", "{}")
    out.append((_w(root, "m_lambda.keras", kz.getvalue()), m, "keras"))
    out.append((_w(root, "m_lambda_config.json", json.dumps(cfg).encode()), m, "keras"))
    out.append((_w(root, "m_pyfunc_saved_model.pb", _savedmodel("PyFunc")), m, "tensorflow"))
    out.append((_onnx_external(root, "../../etc/passwd"), m, "onnx"))
    out.append(
        (_gguf_template(root, "{{ cycler.__init__.__globals__.os.popen('id').read() }}"), m, "gguf")
    )
    tz = io.BytesIO()
    with zipfile.ZipFile(tz, "w") as z:
        z.writestr("../../evil.pkl", b"x")
    out.append((_w(root, "m_traversal.zip", tz.getvalue()), m, "archive"))
    nested = io.BytesIO()
    with zipfile.ZipFile(nested, "w") as z:
        z.writestr("inner/model.pt", pf.torch_zip(pf.os_system_v4()))
    out.append((_w(root, "m_nested.zip", nested.getvalue()), m, "archive"))
    tb = io.BytesIO()
    with tarfile.open(fileobj=tb, mode="w") as t:
        data = pf.os_system_v4()
        info = tarfile.TarInfo("model/data.pkl")
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    out.append((_w(root, "m_model.tar", tb.getvalue()), m, "archive"))
    sz = pf.seven_zip("model/data.pkl", pf.os_system_v4())
    out.append((_w(root, "m_model.7z", sz), m, "archive"))
    bad = np.zeros(1)
    del bad
    return out


def _onnx_external(root: Path, location: str) -> Path:
    from onnx import TensorProto, helper

    t = helper.make_tensor("w", TensorProto.FLOAT, [2], [1.0, 2.0])
    t.data_location = TensorProto.EXTERNAL
    t.ClearField("float_data")
    e = t.external_data.add()
    e.key, e.value = "location", location
    graph = helper.make_graph([], "g", [], [], [t])
    p = root / "m_external.onnx"
    p.write_bytes(helper.make_model(graph).SerializeToString())
    return p


def _gguf_template(root: Path, template: str) -> Path:
    import gguf
    import numpy as np

    p = root / "m_template.gguf"
    w = gguf.GGUFWriter(str(p), "llama")
    w.add_string("tokenizer.chat_template", template)
    w.add_tensor("t", np.zeros(8, dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return p


GENERATORS: list[Callable[[Path], list[Sample]]] = [
    benign_numpy,
    benign_joblib,
    benign_torch,
    benign_other,
    malicious_samples,
]


def find(samples: list[Sample], name: str) -> Path:
    """The generated sample with this file name; skips the test when it was not generated."""
    import pytest

    for p, _, _ in samples:
        if p.name == name:
            return p
    pytest.skip(f"{name} was not generated (missing writer)")


def generate_all(root: Path) -> list[Sample]:
    """Every generated sample, benign and malicious, written under root."""
    out: list[Sample] = []
    for gen in GENERATORS:
        out.extend(gen(root))
    return out
