"""Importing the files labs keep: model cards, configs, CycloneDX and SPDX documents."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import pytest

from airlock.core.errors import InvalidInput
from airlock.dossiers.interop.common import for_audience
from airlock.dossiers.interop.export_cyclonedx import export_cyclonedx
from airlock.dossiers.interop.export_spdx import export_spdx
from airlock.dossiers.interop.importer import import_files
from airlock.dossiers.validation import validate_dossier

from .support import CARD, bom_errors, spdx_check, tiny_model_folder


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_model_folder(tmp_path_factory.mktemp("tiny-llama"))


def field(doc: dict[str, Any], *path: str | int) -> dict[str, Any]:
    node: Any = doc["sections"]
    for part in path:
        node = node[part]
    assert isinstance(node, dict)
    return node


def test_transformers_folder_imports_then_exports_valid_cyclonedx_and_spdx(
    model_folder: Path,
) -> None:
    result = import_files([model_folder], model_version="0.1.0")
    doc = result.dossier
    assert validate_dossier(doc) == []
    config = json.loads((model_folder / "config.json").read_text())
    assert field(doc, "C", "layers")["value"] == config["num_hidden_layers"] == 2
    assert field(doc, "C", "hidden_size")["value"] == 16
    assert field(doc, "C", "vocabulary_size")["value"] == 64
    assert field(doc, "C", "architecture")["value"] == "dense_transformer"
    # Embeddings 64x16, two layers of attention and MLP, final norm and head: from the header.
    assert field(doc, "C", "parameters_total")["value"] == 7248
    digest = field(doc, "B", "versions", 0, "authenticity_hashes", 0, "digest")["value"]
    assert digest.startswith("sha256:") and len(digest) == 71
    assert field(doc, "B", "model_name")["value"] == "Tiny-Llama-Test"
    assert field(doc, "C", "languages")["value"] == ["en", "fr"]
    assert field(doc, "A", "developer_name")["value"] == "Northwind Labs"
    assert field(doc, "F", "prohibited_uses")["value"] == ["Medical advice"]
    assert field(doc, "D", "emissions_tco2e")["value"] == pytest.approx(0.0015)
    agency = for_audience(doc, "agency")
    bom = export_cyclonedx(agency)
    assert bom_errors(bom) == []
    model = bom["metadata"]["component"]
    assert model["type"] == "machine-learning-model" and model["name"] == "Tiny-Llama-Test"
    files = [c for c in bom["components"] if c["type"] == "file"]
    assert files[0]["hashes"] == [{"alg": "SHA-256", "content": digest.removeprefix("sha256:")}]
    objects = spdx_check(export_spdx(agency))
    kinds = sorted(type(o).__name__ for o in objects)
    assert "ai_AIPackage" in kinds and "dataset_DatasetPackage" in kinds


def test_every_imported_field_says_imported_and_names_its_file_and_pointer(
    model_folder: Path,
) -> None:
    result = import_files([model_folder])
    doc = result.dossier
    assert field(doc, "C", "layers")["source"] == {
        "file": "config.json",
        "pointer": "/num_hidden_layers",
    }
    assert field(doc, "C", "languages")["source"] == {"file": "README.md", "pointer": "/language"}
    assert field(doc, "F", "intended_uses")["source"] == {
        "file": "README.md",
        "pointer": "/markdown/Direct Use",
    }
    evaluation = field(doc, "G", "evaluations", 0, "score")
    assert evaluation["value"] == 0.25
    assert evaluation["source"]["pointer"] == "/model-index/0/results/0/metrics/0/value"
    assert result.filled
    for filled in result.filled:
        path = filled.path.split(".")
        entry = field(doc, *[int(p) if p.isdigit() else p for p in path])
        assert entry["provenance"] == "imported"
        assert entry["disclosure"] == "reviewer"  # the firm opens up what it wants public
        assert filled.source is not None
        assert entry["source"] == {"file": filled.source.file, "pointer": filled.source.pointer}


def test_import_reports_what_a_submission_still_needs(model_folder: Path) -> None:
    result = import_files([model_folder])
    missing = {e.path for e in result.missing}
    # No version, no compute figures: the card and config do not say them.
    assert "sections.B.versions" in missing
    assert {"sections.D.training_flop", "sections.D.training_flop_method"} <= missing
    assert "sections.A.developer_name" not in missing
    assert any("generation_config.json" in n for n in result.notes)


def write(tmp: Path, name: str, text: str | bytes) -> Path:
    path = tmp / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def refused(paths: list[Path]) -> InvalidInput:
    with pytest.raises(InvalidInput) as exc:
        import_files(paths)
    return exc.value


def test_model_card_with_broken_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    card = write(tmp_path, "README.md", "---\nlicense: mit\nlanguage: [en\n---\n# X\n")
    err = refused([card])
    assert "README.md" in str(err) and "not valid YAML" in str(err) and "line" in str(err)


def test_model_card_with_yaml_aliases_is_refused_before_parsing(tmp_path: Path) -> None:
    bomb = "---\na: &a [x, x, x]\nb: [*a, *a, *a]\n---\n# X\n"
    err = refused([write(tmp_path, "README.md", bomb)])
    assert "anchor or alias" in str(err) and "README.md" in str(err)


def test_config_with_absurd_sizes_names_config_and_pointer(tmp_path: Path) -> None:
    config = write(
        tmp_path, "config.json", json.dumps({"model_type": "llama", "hidden_size": 10**12})
    )
    err = refused([config])
    assert err.errors[0]["path"] == "config.json#/hidden_size"
    assert "from 1 to 10000000 (got 1000000000000)" in err.errors[0]["message"]
    config.write_text(json.dumps({"model_type": "llama", "num_hidden_layers": "24"}))
    err = refused([config])
    assert "config.json#/num_hidden_layers" in str(err) and '"24"' in str(err)


def test_bom_that_is_not_cyclonedx_or_not_1_6_is_refused_naming_the_pointer(tmp_path: Path) -> None:
    err = refused(
        [write(tmp_path, "bom.json", json.dumps({"bomFormat": "SPDX", "components": []}))]
    )
    assert "bom.json#/bomFormat" in str(err)
    old = {"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1}
    err = refused([write(tmp_path, "bom.json", json.dumps(old))])
    assert "bom.json#/specVersion" in str(err) and "1.5" in str(err)
    bad = {"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"type": "robot"}]}
    err = refused([write(tmp_path, "bom.json", json.dumps(bad))])
    assert "bom.json#/components/0" in str(err) and "not valid CycloneDX 1.6" in str(err)


def test_spdx_document_with_an_unknown_profile_is_refused(tmp_path: Path) -> None:
    doc = {
        "@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld",
        "@graph": [
            {"type": "SpdxDocument", "spdxId": "urn:x", "profileConformance": ["ai", "magic"]}
        ],
    }
    err = refused([write(tmp_path, "doc.spdx.json", json.dumps(doc))])
    assert "doc.spdx.json#/@graph/0/profileConformance/1" in str(err) and "magic" in str(err)
    doc["@context"] = "https://spdx.org/rdf/3.0.0/spdx-context.jsonld"
    err = refused([write(tmp_path, "doc.spdx.json", json.dumps(doc))])
    assert "#/@context" in str(err) and "3.0.1" in str(err)


def test_unrecognised_and_oversized_files_are_refused(tmp_path: Path) -> None:
    err = refused([write(tmp_path, "notes.json", json.dumps({"hello": "world"}))])
    assert "notes.json" in str(err) and "not a file Airlock imports" in str(err)
    err = refused([write(tmp_path, "big.json", b"[" * 200 + b"]" * 200)])
    assert "nests deeper" in str(err)
    header = struct.pack("<Q", 1 << 40)
    err = refused([write(tmp_path, "model.safetensors", header)])
    assert "model.safetensors" in str(err) and "header" in str(err)


def test_one_bad_file_imports_nothing(tmp_path: Path) -> None:
    card = write(tmp_path, "README.md", CARD)
    config = write(tmp_path, "config.json", json.dumps({"model_type": "llama", "vocab_size": -1}))
    err = refused([card, config])
    assert "config.json#/vocab_size" in str(err)


def test_first_file_wins_and_conflicts_are_noted(tmp_path: Path) -> None:
    card = write(tmp_path, "README.md", CARD)
    other = write(tmp_path, "OTHER.md", CARD.replace("Northwind Labs", "Helios Labs"))
    result = import_files([card, other])
    assert field(result.dossier, "A", "developer_name")["value"] == "Northwind Labs"
    assert any("A.developer_name" in n and "Helios" in n for n in result.notes)


def _paths(node: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    out: list[tuple[object, ...]] = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, child in node.items():
            out += _paths(child, (*prefix, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            out += _paths(child, (*prefix, index))
    return out


def _replace(doc: Any, path: tuple[object, ...], value: object) -> Any:
    copy = json.loads(json.dumps(doc))
    node = copy
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return copy


@pytest.mark.parametrize("fmt", ["cyclonedx", "spdx"])
def test_mangled_documents_are_imported_or_refused_never_crash(fmt: str, tmp_path: Path) -> None:
    import random

    from airlock.demo import example_dossier
    from airlock.dossiers.interop.exports import export

    doc = json.loads(export(example_dossier("full"), fmt=fmt, audience="agency").content)
    paths = _paths(doc)
    rng = random.Random(15)
    target = tmp_path / ("bom.json" if fmt == "cyclonedx" else "doc.spdx.json")
    outcomes = {"imported": 0, "refused": 0}
    for path in rng.sample(paths, 60):
        for value in (None, 7, "x", [], {"a": [1]}):
            target.write_text(json.dumps(_replace(doc, path, value)))
            try:
                result = import_files([target])
            except InvalidInput as exc:
                assert exc.errors and target.name in exc.errors[0]["message"]
                outcomes["refused"] += 1
            else:
                assert validate_dossier(result.dossier) == []
                outcomes["imported"] += 1
    assert outcomes["imported"] and outcomes["refused"]


def test_mangled_model_cards_are_imported_or_refused_never_crash(tmp_path: Path) -> None:
    import yaml

    _, front, body = CARD.split("---\n", 2)
    data = yaml.safe_load(front)
    target = tmp_path / "README.md"
    outcomes = {"imported": 0, "refused": 0}
    for path in _paths(data):
        for value in (None, 7, [], {"a": [1]}, "[More Information Needed]", "a" * 600):
            target.write_text(
                "---\n" + yaml.safe_dump(_replace(data, path, value)) + "---\n" + body
            )
            try:
                result = import_files([target])
            except InvalidInput as exc:
                assert "README.md" in str(exc)
                outcomes["refused"] += 1
            else:
                assert validate_dossier(result.dossier) == []
                outcomes["imported"] += 1
    assert outcomes["imported"] and outcomes["refused"]


def test_folder_with_its_bom_records_each_weight_hash_once(
    model_folder: Path, tmp_path: Path
) -> None:
    first = import_files([model_folder], model_version="0.1.0")
    bom = tmp_path / "bom.json"
    bom.write_text(json.dumps(export_cyclonedx(for_audience(first.dossier, "agency"))))
    both = import_files([bom, model_folder])  # no --model-version: the BOM states it
    version = both.dossier["sections"]["B"]["versions"][0]
    assert version["version"]["value"] == "0.1.0"
    assert version["version"]["source"] == {
        "file": "bom.json",
        "pointer": "/metadata/component/version",
    }
    expected = first.dossier["sections"]["B"]["versions"][0]["authenticity_hashes"]
    assert [h["digest"]["value"] for h in version["authenticity_hashes"]] == [
        h["digest"]["value"] for h in expected
    ]
