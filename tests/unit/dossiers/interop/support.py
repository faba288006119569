"""Validators of exported documents against the real standards' schemas and libraries,
and a tiny model folder written by transformers."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator, FormatChecker
from referencing import Registry, Resource

ROOT = Path(__file__).resolve().parents[4]
SHARED_BOM_SCHEMA = ROOT.parent / "shared" / "data" / "schemas" / "bom-1.6.schema.json"
CARD = """---
language:
- en
- fr
license: apache-2.0
base_model: example/base-7b
base_model_relation: finetune
datasets:
- example/corpus
pipeline_tag: text-generation
model-index:
- name: Tiny-Llama-Test
  results:
  - task:
      type: text-generation
    dataset:
      name: MMLU
      type: cais/mmlu
    metrics:
    - type: accuracy
      value: 0.25
co2_eq_emissions:
  emissions: 1500
  hardware_used: 8x H100
---

# Model Card for Tiny-Llama-Test

## Model Details

### Model Description

A tiny Llama written from a config for tests.

- **Developed by:** Northwind Labs
- **Model type:** Causal language model
- **License:** apache-2.0

## Uses

### Direct Use

- Drafting text
- Answering questions

### Out-of-Scope Use

- Medical advice

## Training Details

### Training Data

Public web text filtered for quality.

## Model Card Contact

model-review@northwind.example
"""


def _cdx_resource(name: str) -> dict[str, Any]:
    text = resources.files("cyclonedx.schema._res").joinpath(name).read_text("utf-8")
    doc: dict[str, Any] = json.loads(text)
    return doc


@cache
def bom_validator() -> Draft7Validator:
    """CycloneDX 1.6 (the copy in shared/, else the one cyclonedx-python-lib ships), with the
    SPDX licence and JSF schemas it refers to taken from the installed cyclonedx-python-lib."""
    if SHARED_BOM_SCHEMA.exists():
        schema = json.loads(SHARED_BOM_SCHEMA.read_text())
    else:
        schema = _cdx_resource("bom-1.6.SNAPSHOT.schema.json")
    registry: Registry = Registry().with_resources(
        [
            (name, Resource.from_contents(_cdx_resource(res)))
            for name, res in (
                ("http://cyclonedx.org/schema/spdx.schema.json", "spdx.SNAPSHOT.schema.json"),
                (
                    "http://cyclonedx.org/schema/jsf-0.82.schema.json",
                    "jsf-0.82.SNAPSHOT.schema.json",
                ),
            )
        ]
    )
    return Draft7Validator(schema, registry=registry, format_checker=FormatChecker())


def bom_errors(bom: dict[str, Any]) -> list[str]:
    """Every CycloneDX 1.6 schema violation, as "pointer: message"."""
    return [
        "/" + "/".join(map(str, e.absolute_path)) + ": " + e.message
        for e in bom_validator().iter_errors(bom)
    ]


def spdx_check(doc: dict[str, Any]) -> list[Any]:
    """Decode with spdx-python-model (types, enums, references) and encode again (required
    properties and cardinalities); return the decoded objects."""
    from spdx_python_model import v3_0_1 as spdx

    objects = spdx.SHACLObjectSet()
    spdx.JSONLDDeserializer().deserialize_data(doc, objects)
    unresolved = objects.link()
    assert unresolved == set(), f"references to absent elements: {unresolved}"
    spdx.JSONLDSerializer().serialize_data(objects)
    return list(objects.foreach())


def tiny_model_folder(folder: Path) -> Path:
    """A model folder written by transformers from a tiny config, with a model card."""
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=64,
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=64,
    )
    LlamaForCausalLM(config).save_pretrained(folder)
    (folder / "README.md").write_text(CARD)
    return folder
