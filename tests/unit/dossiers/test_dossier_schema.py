"""The dossier schema itself and the shipped examples."""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from airlock.core.errors import NotFound
from airlock.dossiers.validation import SCHEMA_VERSION, load_schema, validate_dossier

FIELD_REF = "#/$defs/field"


def example(name: str) -> Any:
    text = resources.files("airlock.dossiers").joinpath("examples", f"{name}.json").read_text()
    return json.loads(text)


def resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref != FIELD_REF:
        return schema["$defs"][ref.removeprefix("#/$defs/")]
    return node


def walk_containers(schema: dict[str, Any], node: dict[str, Any], path: str):
    """Yield (path, property name, property schema) for every property of every container."""
    node = resolve(schema, node)
    for name, prop in node["properties"].items():
        yield path, name, prop
        prop = resolve(schema, prop)
        if prop.get("$ref") == FIELD_REF:
            continue
        if prop.get("type") == "array":
            yield from walk_containers(schema, prop["items"], f"{path}.{name}[]")
        elif prop.get("type") == "object":
            yield from walk_containers(schema, prop, f"{path}.{name}")


def test_schema_is_valid_draft_2020_12_and_versioned() -> None:
    schema = load_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["schema_version"] == {"const": SCHEMA_VERSION}
    assert schema["$id"] == f"urn:airlock:schema:dossier:{SCHEMA_VERSION}"
    assert load_schema(SCHEMA_VERSION) == schema
    # The first schema keeps its old label "1.0" as an alias of 1.0.0.
    assert load_schema("1.0") == load_schema("1.0.0") != schema
    assert load_schema("1.0.0")["$id"] == "urn:airlock:schema:dossier:1.0.0"


def test_unknown_schema_version_is_not_found() -> None:
    with pytest.raises(NotFound, match=r"9\.9"):
        load_schema("9.9")


def test_load_schema_returns_a_copy_callers_cannot_corrupt() -> None:
    load_schema()["properties"].clear()
    assert "sections" in load_schema()["properties"]


def test_schema_has_sections_a_to_l() -> None:
    sections = load_schema()["properties"]["sections"]["properties"]
    assert list(sections) == list("ABCDEFGHIJKL")


def test_every_leaf_is_a_field_wrapper_and_every_container_is_closed() -> None:
    schema = load_schema()
    sections = schema["properties"]["sections"]
    leaves = 0
    for path, name, prop in walk_containers(schema, sections, "sections"):
        target = resolve(schema, prop)
        if target.get("$ref") == FIELD_REF:
            assert set(target) == {"$ref", "properties"}, f"{path}.{name}"
            assert set(target["properties"]) == {"value"}, f"{path}.{name}"
            leaves += 1
            continue
        kind = target.get("type")
        assert kind in ("object", "array"), f"{path}.{name} is a bare leaf: {target}"
        container = resolve(schema, target["items"]) if kind == "array" else target
        assert container.get("additionalProperties") is False, f"{path}.{name}"
    assert leaves >= 140


def test_field_wrapper_is_value_disclosure_provenance_and_an_optional_source() -> None:
    field = load_schema()["$defs"]["field"]
    assert field["required"] == ["value", "disclosure", "provenance"]
    assert set(field["properties"]) == {"value", "disclosure", "provenance", "source"}
    assert field["additionalProperties"] is False
    defs = load_schema()["$defs"]
    assert defs["disclosure"]["enum"] == ["public", "reviewer", "restricted"]
    assert defs["provenance"]["enum"] == [
        "self_reported",
        "third_party",
        "estimated",
        "measured",
        "imported",
    ]
    assert defs["source"]["required"] == ["file", "pointer"]


def test_first_schema_has_no_imported_provenance_nor_source() -> None:
    defs = load_schema("1.0.0")["$defs"]
    assert "imported" not in defs["provenance"]["enum"]
    assert "source" not in defs["field"]["properties"]


@pytest.mark.parametrize("name", ["minimal", "full"])
def test_shipped_example_is_valid(name: str) -> None:
    assert validate_dossier(example(name)) == []


def test_minimal_example_has_only_a_and_b() -> None:
    assert set(example("minimal")["sections"]) == {"A", "B"}


def test_full_example_is_a_70b_dense_model_whose_flop_matches_6nd() -> None:
    sections = example("full")["sections"]
    n = sections["C"]["parameters_total"]["value"]
    d = sections["D"]["training_tokens"]["value"]
    flop = sections["D"]["training_flop"]["value"]
    assert sections["C"]["architecture"]["value"] == "dense_transformer"
    assert 69e9 < n < 72e9
    assert sections["D"]["training_flop_method"]["value"] == "6ND"
    assert abs(6 * n * d - flop) / flop < 0.02
    assert len(sections["E"]["datasets"]) == 3


def test_full_example_safeguards_draw_on_all_three_catalogues() -> None:
    ids = [c["control_id"]["value"] for c in example("full")["sections"]["H"]["controls"]]
    assert len(ids) == 6
    assert any(re.fullmatch(r"AML\.M\d{4}", i) for i in ids)
    assert any(re.fullmatch(r"(GV|MP|MS|MG)-\d\.\d+-\d{3}", i) for i in ids)
    assert any(re.fullmatch(r"LLM\d\d:2025", i) for i in ids)


def test_full_example_mixes_all_disclosure_levels() -> None:
    text = json.dumps(example("full"))
    for level in ("public", "reviewer", "restricted"):
        assert f'"disclosure": "{level}"' in text


def test_invalid_example_shows_several_kinds_of_error() -> None:
    errors = validate_dossier(example("invalid"))
    rules = {e.rule for e in errors}
    assert len(errors) >= 8
    assert {"type", "enum", "pattern", "format", "additionalProperties"} <= rules
    assert "not_above_total" in rules
