"""Declared versus actual: counts from tensor headers, configs of common families, the dossier."""

from __future__ import annotations

import json
import struct
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from airlock.scanning.dossier import declared, formats

transformers = pytest.importorskip("transformers")
torch = pytest.importorskip("torch")

SMALL = {
    "vocab_size": 320,
    "hidden_size": 64,
    "intermediate_size": 96,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
}
CONFIGS: dict[str, Any] = {
    "llama": lambda: transformers.LlamaConfig(**SMALL, num_key_value_heads=2),
    "mistral": lambda: transformers.MistralConfig(**SMALL, num_key_value_heads=2),
    "qwen2": lambda: transformers.Qwen2Config(**SMALL, num_key_value_heads=2),
    "mixtral": lambda: transformers.MixtralConfig(
        **SMALL, num_key_value_heads=2, num_local_experts=4, num_experts_per_tok=2
    ),
    "gpt2": lambda: transformers.GPT2Config(
        vocab_size=320, n_embd=64, n_layer=2, n_head=4, n_positions=128
    ),
    "gpt_neox": lambda: transformers.GPTNeoXConfig(**SMALL),
}


def _field(value: Any) -> dict[str, Any]:
    return {"value": value, "disclosure": "reviewer", "provenance": "self_reported"}


def _save(cfg: Any, folder: Path) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.manual_seed(0)
        model = transformers.AutoModelForCausalLM.from_config(cfg)
        model.save_pretrained(folder)
    return model


@pytest.mark.parametrize("family", sorted(CONFIGS))
def test_headers_and_config_give_the_true_parameter_count(family: str, tmp_path: Path) -> None:
    model = _save(CONFIGS[family](), tmp_path)
    true = sum(p.numel() for p in model.parameters())
    report = declared.check_declared(tmp_path, None)
    assert report.summary["parameters"]["actual"] == true
    assert report.summary["implied"]["total"] == true
    assert report.results == ()


def test_mixtral_active_parameters_follow_experts_per_token(tmp_path: Path) -> None:
    model = _save(CONFIGS["mixtral"](), tmp_path)
    expert = sum(p.numel() for n, p in model.named_parameters() if ".experts." in n) // 4
    implied = declared.check_declared(tmp_path, None).summary["implied"]
    assert implied["total"] - implied["active"] == 2 * expert


def test_dossier_declaring_another_count_and_layers_gets_results_with_both_sources(
    tmp_path: Path,
) -> None:
    model = _save(CONFIGS["llama"](), tmp_path)
    true = sum(p.numel() for p in model.parameters())
    doc = {
        "sections": {
            "C": {
                "parameters_total": _field(true * 2),
                "layers": _field(3),
                "hidden_size": _field(64),
            }
        }
    }
    report = declared.check_declared(tmp_path, doc)
    by_rule = {r.rule_id: r for r in report.results}
    res = by_rule["DOS-DEC-001"]
    assert res.details["declared"] == true * 2 and res.details["actual"] == true
    assert "safetensors" in res.details["actual_source"]
    assert res.details["declared_source"] == "sections.C.parameters_total"
    layers = [r for r in report.results if r.key == "layers"]
    assert layers and layers[0].details == {
        "declared": 3,
        "declared_source": "sections.C.layers",
        "actual": 2,
        "actual_source": "config.json",
    }
    ok = declared.check_declared(tmp_path, {"sections": {"C": {"parameters_total": _field(true)}}})
    assert not ok.results


def test_pytorch_checkpoint_counted_from_declared_storages_without_unpickling(
    tmp_path: Path,
) -> None:
    sd = {"a": torch.zeros(3, 4), "b": torch.zeros(5, dtype=torch.float16), "c": torch.zeros(2, 2)}
    sd["view"] = sd["a"][0]  # shares a's storage: counted once
    torch.save(sd, tmp_path / "pytorch_model.bin")
    [census] = declared.census(tmp_path)[0]
    assert census.format == "pytorch"
    assert census.parameters == 12 + 5 + 4
    assert census.dtypes() == {"F32": 16, "F16": 5}
    assert census.problems == []


def test_onnx_initialisers_are_read_from_the_protobuf(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.zeros((4, 3), dtype=np.float32), "w")
    b = numpy_helper.from_array(np.zeros((3,), dtype=np.float16), "b")
    node = helper.make_node("MatMul", ["x", "w"], ["y"])
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])],
        [w, b],
    )
    onnx.save(helper.make_model(graph), str(tmp_path / "m.onnx"))
    census = formats.read_onnx(tmp_path / "m.onnx")
    assert census.tensors == {"w": ("F32", (4, 3)), "b": ("F16", (3,))}
    assert census.parameters == 15 and not census.problems


def test_gguf_metadata_and_tensor_infos_are_read(tmp_path: Path) -> None:
    gguf = pytest.importorskip("gguf")
    writer = gguf.GGUFWriter(str(tmp_path / "m.gguf"), "llama")
    writer.add_block_count(2)
    writer.add_tensor("tok_embd", np.zeros((10, 8), dtype=np.float32))
    writer.add_tensor("out", np.zeros((8,), dtype=np.float16))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    census = formats.read_gguf(tmp_path / "m.gguf")
    assert census.parameters == 88 and not census.problems
    assert census.metadata["llama.block_count"] == 2
    assert census.dtypes() == {"F32": 80, "F16": 8}


def _safetensors(path: Path, header: dict[str, Any], data: bytes) -> None:
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data)


def test_safetensors_header_that_lies_is_reported(tmp_path: Path) -> None:
    _safetensors(
        tmp_path / "a.safetensors",
        {"w": {"dtype": "F32", "shape": [1000, 1000], "data_offsets": [0, 16]}},
        b"\0" * 16,
    )
    report = declared.check_declared(tmp_path, None)
    [res] = [r for r in report.results if r.rule_id == "DOS-DEC-004"]
    assert "needs 4000000 bytes but the span is 16" in res.message


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"\xff" * 8,
        struct.pack("<Q", 10) + b"not json!!",
        struct.pack("<Q", 2) + b"[]",
        struct.pack("<Q", 40) + b'{"a": {"dtype": "F32"}, "a": {"dtype": 1}}',
    ],
)
def test_broken_safetensors_never_crash(content: bytes, tmp_path: Path) -> None:
    (tmp_path / "x.safetensors").write_bytes(content)
    report = declared.check_declared(tmp_path, None)
    assert any(r.rule_id == "DOS-DEC-004" for r in report.results)


@pytest.mark.parametrize(
    ("config", "expect"),
    [
        ({"model_type": "llama", "num_hidden_layers": 10**12, "hidden_size": 64}, "outside"),
        ({"model_type": "llama", "hidden_size": "big"}, "must be an integer"),
        ([1, 2], "not a JSON object"),
        ("{" * 100_000, "not readable JSON"),
    ],
)
def test_absurd_config_gives_a_clear_result(config: Any, expect: str, tmp_path: Path) -> None:
    text = config if isinstance(config, str) else json.dumps(config)
    (tmp_path / "config.json").write_text(text)
    report = declared.check_declared(tmp_path, None)
    [res] = [r for r in report.results if r.rule_id == "DOS-DEC-005"]
    assert expect in res.message


def test_truncated_gguf_and_onnx_are_problems_not_crashes(tmp_path: Path) -> None:
    (tmp_path / "a.gguf").write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 10**15, 1))
    (tmp_path / "b.onnx").write_bytes(b"\x3a\xff\xff\xff\x0f")
    report = declared.check_declared(tmp_path, None)
    assert len([r for r in report.results if r.rule_id == "DOS-DEC-004"]) == 2


def test_torch_checkpoint_whose_storages_lie_is_reported(tmp_path: Path) -> None:
    import io
    import zipfile

    buf = io.BytesIO()
    torch.save({"w": torch.zeros(100)}, buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    with zipfile.ZipFile(tmp_path / "pytorch_model.bin", "w") as out:
        for info in src.infolist():
            data = src.read(info)
            out.writestr(info.filename, data[:40] if info.filename.endswith("/data/0") else data)
    [census] = declared.census(tmp_path)[0]
    assert census.parameters == 100
    assert census.problems == ["storage '0' declares 100 x 4 bytes but data/0 holds 40 bytes"]
    (tmp_path / "pytorch_model.bin").write_bytes(b"PK\x03\x04 not a zip at all")
    report = declared.check_declared(tmp_path, None)
    assert any("not a readable PyTorch zip" in r.message for r in report.results)


def test_gguf_metadata_stands_for_the_architecture_when_there_is_no_config(tmp_path: Path) -> None:
    gguf = pytest.importorskip("gguf")
    writer = gguf.GGUFWriter(str(tmp_path / "m.gguf"), "llama")
    writer.add_block_count(2)
    writer.add_embedding_length(8)
    writer.add_head_count(2)
    writer.add_tensor("tok_embd", np.zeros((10, 8), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    doc = {
        "sections": {
            "C": {"layers": _field(4), "hidden_size": _field(8), "parameters_total": _field(80)}
        }
    }
    report = declared.check_declared(tmp_path, doc)
    [res] = report.results
    assert res.key == "layers" and res.details["actual"] == 2
    assert res.details["actual_source"] == "GGUF metadata (m.gguf)"


def test_text_files_are_not_mistaken_for_weights(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text('12345678{"not": "a header"}\n')
    (tmp_path / "data.csv").write_text('a,b,c,d,{"x": 1}\n')
    assert declared.census(tmp_path) == ([], [])


def test_weights_with_no_parameters_give_a_result_not_a_crash(tmp_path: Path) -> None:
    # A safetensors file whose only tensor is empty: zero parameters found, some declared.
    header = json.dumps({"w": {"dtype": "F32", "shape": [0, 4], "data_offsets": [0, 0]}}).encode()
    (tmp_path / "model.safetensors").write_bytes(struct.pack("<Q", len(header)) + header)
    doc = {"sections": {"C": {"parameters_total": _field(1000)}}}
    report = declared.check_declared(tmp_path, doc)
    result = next(r for r in report.results if r.rule_id == "DOS-DEC-001")
    assert "declares 1,000 parameters" in result.message and "give 0" in result.message
