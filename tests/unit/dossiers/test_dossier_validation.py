"""validate_dossier and parse_dossier: each rule names the path, the rule and what was given."""

from __future__ import annotations

import copy
import json
import time
from importlib import resources
from typing import Any

import pytest

from airlock.core.errors import InvalidInput
from airlock.dossiers.validation import (
    MAX_BYTES,
    MAX_DEPTH,
    MAX_ITEMS,
    MAX_STRING_LENGTH,
    DossierError,
    field_value,
    format_path,
    invalid_input,
    parse_dossier,
    validate_dossier,
)


def F(value: Any, disclosure: str = "public", provenance: str = "self_reported") -> dict[str, Any]:
    return {"value": value, "disclosure": disclosure, "provenance": provenance}


def example(name: str) -> Any:
    text = resources.files("airlock.dossiers").joinpath("examples", f"{name}.json").read_text()
    return json.loads(text)


def with_section(name: str, body: dict[str, Any]) -> dict[str, Any]:
    doc = example("minimal")
    doc["sections"][name] = body
    return doc


def only(errors: list[DossierError]) -> DossierError:
    assert len(errors) == 1, [str(e) for e in errors]
    return errors[0]


# --- each rule: (document, path, rule, message) ----------------------------------------

RULE_CASES = [
    pytest.param(
        with_section("D", {"training_flop": F("1e26 FLOP", provenance="estimated")}),
        "sections.D.training_flop.value",
        "type",
        "sections.D.training_flop.value: must be a number above 0 and at most 1e+32 "
        '(got "1e26 FLOP")',
        id="flop-as-text",
    ),
    pytest.param(
        with_section("D", {"training_flop": F(0)}),
        "sections.D.training_flop.value",
        "exclusiveMinimum",
        "sections.D.training_flop.value: must be a number above 0 and at most 1e+32 (got 0)",
        id="flop-zero",
    ),
    pytest.param(
        with_section("D", {"training_flop_method": F("guess")}),
        "sections.D.training_flop_method.value",
        "enum",
        'sections.D.training_flop_method.value: must be one of "6ND", "hardware", "reported" '
        '(got "guess")',
        id="flop-method",
    ),
    pytest.param(
        with_section("D", {"training_flop_range": F({"low": 1e24})}),
        "sections.D.training_flop_range.value.high",
        "required",
        "sections.D.training_flop_range.value.high: is required",
        id="flop-range-missing-high",
    ),
    pytest.param(
        with_section("D", {"hardware": {"utilisation": F(1.5, provenance="measured")}}),
        "sections.D.hardware.utilisation.value",
        "maximum",
        "sections.D.hardware.utilisation.value: must be a number above 0 and at most 1 (got 1.5)",
        id="utilisation-above-1",
    ),
    pytest.param(
        with_section("C", {"layers": F(1.5)}),
        "sections.C.layers.value",
        "type",
        "sections.C.layers.value: must be a whole number from 1 to 100000 (got 1.5)",
        id="integer-given-fraction",
    ),
    pytest.param(
        with_section("C", {"parameters_total": F(0)}),
        "sections.C.parameters_total.value",
        "minimum",
        "sections.C.parameters_total.value: must be a whole number from 1 to "
        "1000000000000000 (got 0)",
        id="parameters-zero",
    ),
    pytest.param(
        with_section("C", {"languages": F(["en", "english language"])}),
        "sections.C.languages.value.1",
        "pattern",
        "sections.C.languages.value.1: must be a BCP 47 language tag (e.g. en, pt-BR) "
        '(got "english language")',
        id="language-tag",
    ),
    pytest.param(
        with_section("C", {"languages": F(["en", "en"])}),
        "sections.C.languages.value",
        "uniqueItems",
        "sections.C.languages.value: must not list the same item twice",
        id="languages-repeated",
    ),
    pytest.param(
        with_section("C", {"input_modalities": F(["smell"])}),
        "sections.C.input_modalities.value.0",
        "enum",
        'sections.C.input_modalities.value.0: must be one of "text", "code", "image", "audio", '
        '"video", "structured_data", "actions" (got "smell")',
        id="modality",
    ),
    pytest.param(
        with_section("A", {"developer_name": F("")}),
        "sections.A.developer_name.value",
        "minLength",
        "sections.A.developer_name.value: must not be empty",
        id="empty-text",
    ),
    pytest.param(
        with_section("A", {"developer_name": F("x" * 501)}),
        "sections.A.developer_name.value",
        "maxLength",
        "sections.A.developer_name.value: must be at most 500 characters (got 501)",
        id="long-text",
    ),
    pytest.param(
        with_section("A", {"contact_email": F("nobody")}),
        "sections.A.contact_email.value",
        "pattern",
        'sections.A.contact_email.value: must be an email address (got "nobody")',
        id="email",
    ),
    pytest.param(
        with_section("A", {"developer_name": "Northwind"}),
        "sections.A.developer_name",
        "type",
        'sections.A.developer_name: must be a field written {"value": ..., "disclosure": ..., '
        '"provenance": ...} (got "Northwind")',
        id="bare-value-not-wrapped",
    ),
    pytest.param(
        with_section("A", {"developer_name": {"value": "N", "disclosure": "public"}}),
        "sections.A.developer_name.provenance",
        "required",
        "sections.A.developer_name.provenance: is required",
        id="missing-provenance",
    ),
    pytest.param(
        with_section("A", {"developer_name": F("N", disclosure="secret")}),
        "sections.A.developer_name.disclosure",
        "enum",
        'sections.A.developer_name.disclosure: must be one of "public", "reviewer", '
        '"restricted" (got "secret")',
        id="disclosure",
    ),
    pytest.param(
        with_section("A", {"developer_name": F("N", provenance="rumour")}),
        "sections.A.developer_name.provenance",
        "enum",
        'sections.A.developer_name.provenance: must be one of "self_reported", "third_party", '
        '"estimated", "measured", "imported" (got "rumour")',
        id="provenance",
    ),
    pytest.param(
        with_section("A", {"developer_name": {**F("N"), "note": "hi"}}),
        "sections.A.developer_name.note",
        "additionalProperties",
        "sections.A.developer_name.note: is not an allowed field here "
        "(allowed: disclosure, provenance, source, value)",
        id="extra-key-in-field",
    ),
    pytest.param(
        with_section("A", {"favourite_colour": F("blue")}),
        "sections.A.favourite_colour",
        "additionalProperties",
        "sections.A.favourite_colour: is not an allowed field here (allowed: contact_email, "
        "contact_name, developer_name, jurisdiction, legal_entity, previous_submission, "
        "submission_date, submission_type, summary, website)",
        id="unknown-field",
    ),
    pytest.param(
        with_section("M", {}),
        "sections.M",
        "additionalProperties",
        "sections.M: is not an allowed field here (allowed: A, B, C, D, E, F, G, H, I, J, K, L)",
        id="unknown-section",
    ),
    pytest.param(
        with_section("A", {"submission_date": F("2026-02-30")}),
        "sections.A.submission_date.value",
        "format",
        'sections.A.submission_date.value: must be an ISO date (YYYY-MM-DD) (got "2026-02-30")',
        id="impossible-date",
    ),
    pytest.param(
        with_section("A", {"submission_date": F("20/11/2026")}),
        "sections.A.submission_date.value",
        "format",
        'sections.A.submission_date.value: must be an ISO date (YYYY-MM-DD) (got "20/11/2026")',
        id="non-iso-date",
    ),
    pytest.param(
        with_section("A", {"jurisdiction": F("USA")}),
        "sections.A.jurisdiction.value",
        "pattern",
        "sections.A.jurisdiction.value: must be an ISO 3166-1 alpha-2 country code (e.g. US) "
        '(got "USA")',
        id="country",
    ),
    pytest.param(
        with_section(
            "B",
            {
                "versions": [
                    {"version": F("1"), "authenticity_hashes": [{"digest": F("sha256:ABC")}]}
                ]
            },
        ),
        "sections.B.versions.0.authenticity_hashes.0.digest.value",
        "pattern",
        "sections.B.versions.0.authenticity_hashes.0.digest.value: must be a hash written "
        'sha256:<64 lowercase hex digits> (got "sha256:ABC")',
        id="hash",
    ),
    pytest.param(
        with_section("B", {"versions": [{"release_stage": F("internal")}]}),
        "sections.B.versions.0.version",
        "required",
        "sections.B.versions.0.version: is required",
        id="version-item-needs-version",
    ),
    pytest.param(
        with_section("I", {"encryption_at_rest": F("yes")}),
        "sections.I.encryption_at_rest.value",
        "type",
        'sections.I.encryption_at_rest.value: must be true or false (got "yes")',
        id="boolean",
    ),
    pytest.param(
        with_section("F", {"acceptable_use_policy": F("ftp://x")}),
        "sections.F.acceptable_use_policy.value",
        "pattern",
        'sections.F.acceptable_use_policy.value: must be an http(s) URL (got "ftp://x")',
        id="url",
    ),
    pytest.param(
        with_section("E", {"datasets": {"name": F("web")}}),
        "sections.E.datasets",
        "type",
        "sections.E.datasets: must be a list (got an object)",
        id="list-given-object",
    ),
    pytest.param(
        with_section("C", {"parameters_total": F(7e10), "parameters_active": F(8e10)}),
        "sections.C.parameters_active.value",
        "not_above_total",
        "sections.C.parameters_active.value: must not exceed parameters_total "
        "(got 80000000000 > 70000000000)",
        id="active-above-total",
    ),
    pytest.param(
        with_section("D", {"training_flop_range": F({"low": 2e24, "high": 1e24})}),
        "sections.D.training_flop_range.value",
        "range_order",
        "sections.D.training_flop_range.value: low must not exceed high (got 2e+24 > 1e+24)",
        id="range-order",
    ),
    pytest.param(
        with_section(
            "D", {"training_flop": F(9e24), "training_flop_range": F({"low": 5e24, "high": 7e24})}
        ),
        "sections.D.training_flop.value",
        "within_range",
        "sections.D.training_flop.value: must lie within training_flop_range, 5e+24 to 7e+24 "
        "(got 9e+24)",
        id="flop-outside-range",
    ),
    pytest.param(
        with_section(
            "D",
            {
                "stages": [
                    {"name": F("pre"), "start_date": F("2026-05-01"), "end_date": F("2026-04-01")}
                ]
            },
        ),
        "sections.D.stages.0.end_date.value",
        "date_order",
        "sections.D.stages.0.end_date.value: must not be before start_date "
        "(got 2026-04-01 < 2026-05-01)",
        id="stage-dates",
    ),
    pytest.param(
        with_section(
            "G", {"red_team_exercises": [{"name": F("rt"), "trials": F(10), "successes": F(11)}]}
        ),
        "sections.G.red_team_exercises.0.successes.value",
        "not_above_total",
        "sections.G.red_team_exercises.0.successes.value: must not exceed trials (got 11 > 10)",
        id="successes-above-trials",
    ),
    pytest.param(
        {"schema_version": "2.0", "sections": {}},
        "schema_version",
        "const",
        'schema_version: must be "1.1.0" (got "2.0")',
        id="schema-version",
    ),
    pytest.param(
        {"schema_version": "1.0"},
        "sections",
        "required",
        "sections: is required",
        id="no-sections",
    ),
    pytest.param(
        ["not", "a", "dossier"],
        "",
        "type",
        "dossier: must be an object (got a list of 3 items)",
        id="not-an-object",
    ),
]


@pytest.mark.parametrize(("doc", "path", "rule", "message"), RULE_CASES)
def test_each_rule_names_path_rule_and_what_was_given(
    doc: Any, path: str, rule: str, message: str
) -> None:
    error = only(validate_dossier(doc))
    assert (error.path, error.rule, error.message) == (path, rule, message)


CONTROL_IDS_OK = [
    "AML.M0015",
    "AML.M0020",
    "GV-1.1-001",
    "MS-2.5-001",
    "MG-4.1-002",
    "MP-4.1-005",
    "LLM01:2025",
    "LLM10:2025",
]
CONTROL_IDS_BAD = [
    "AML.T0051",
    "AML.M15",
    "LLM11:2025",
    "LLM01:2023",
    "LLM1:2025",
    "GV-1.1-01",
    "XX-1.1-001",
    "gv-1.1-001",
    "ATLAS-1",
]


@pytest.mark.parametrize("control_id", CONTROL_IDS_OK)
def test_safeguard_ids_from_atlas_nist_and_owasp_are_accepted(control_id: str) -> None:
    doc = with_section("H", {"controls": [{"control_id": F(control_id)}]})
    assert validate_dossier(doc) == []


@pytest.mark.parametrize("control_id", CONTROL_IDS_BAD)
def test_safeguard_id_outside_the_catalogues_is_refused(control_id: str) -> None:
    doc = with_section("H", {"controls": [{"control_id": F(control_id)}]})
    error = only(validate_dossier(doc))
    assert error.path == "sections.H.controls.0.control_id.value"
    assert error.rule == "pattern"
    assert "MITRE ATLAS mitigation" in error.message and json.dumps(control_id) in error.message


def test_additional_properties_names_every_unknown_key() -> None:
    doc = with_section("A", {"x1": F(1), "x2": F(2)})
    paths = {e.path for e in validate_dossier(doc)}
    assert paths == {"sections.A.x1", "sections.A.x2"}


def test_errors_come_back_in_document_order() -> None:
    doc = with_section("E", {"datasets": [{"name": F("")} for _ in range(12)]})
    paths = [e.path for e in validate_dossier(doc)]
    assert paths == [f"sections.E.datasets.{i}.name.value" for i in range(12)]


def test_a_flood_of_errors_is_capped_with_a_note() -> None:
    doc = with_section("H", {"controls": [{"control_id": F("bad")} for _ in range(500)]})
    errors = validate_dossier(doc)
    assert len(errors) == 101
    assert errors[-1].rule == "max_errors"
    assert "400 more errors" in errors[-1].message


def test_dossier_error_is_frozen_and_converts_for_invalid_input() -> None:
    error = DossierError(path="a.b", rule="type", message="a.b: must be text (got 1)")
    with pytest.raises(AttributeError):
        error.path = "c"  # type: ignore[misc]
    assert error.as_dict() == {
        "path": "a.b",
        "rule": "type",
        "message": "a.b: must be text (got 1)",
    }
    exc = invalid_input([error])
    assert exc.status_code == 422 and exc.errors == [error.as_dict()]


# --- parse_dossier and the bounds on untrusted input -----------------------------------


def rule_of(raw: bytes | str, **kwargs: Any) -> InvalidInput:
    with pytest.raises(InvalidInput) as info:
        parse_dossier(raw, **kwargs)
    return info.value


def test_parse_returns_the_document_when_valid() -> None:
    raw = resources.files("airlock.dossiers").joinpath("examples", "full.json").read_bytes()
    assert parse_dossier(raw) == json.loads(raw)
    assert parse_dossier(raw.decode()) == json.loads(raw)


def test_parse_raises_invalid_input_carrying_every_error() -> None:
    raw = resources.files("airlock.dossiers").joinpath("examples", "invalid.json").read_bytes()
    exc = rule_of(raw)
    assert len(exc.errors) == len(validate_dossier(json.loads(raw)))
    assert all(set(e) == {"path", "rule", "message"} for e in exc.errors)
    assert str(exc).startswith("the dossier is invalid: ")


def test_oversize_body_is_refused_before_decoding() -> None:
    exc = rule_of(b" " * (MAX_BYTES + 1))
    assert exc.errors == [
        {
            "path": "",
            "rule": "max_bytes",
            "message": f"dossier: is {MAX_BYTES + 1:,} bytes, "
            f"over the limit of {MAX_BYTES:,} bytes",
        }
    ]


def test_size_limit_is_configurable_and_applies_to_decoded_documents() -> None:
    doc = example("full")
    assert only(validate_dossier(doc, max_bytes=10_000)).rule == "max_bytes"
    assert rule_of(json.dumps(doc), max_bytes=10_000).errors[0]["rule"] == "max_bytes"


def test_deep_nesting_is_refused_without_recursing() -> None:
    started = time.monotonic()
    exc = rule_of("[" * 500_000 + "]" * 500_000)
    assert time.monotonic() - started < 5
    assert exc.errors[0]["rule"] == "max_depth"
    assert f"limit of {MAX_DEPTH} levels" in exc.errors[0]["message"]


def test_nesting_just_past_the_limit_is_refused_and_at_the_limit_is_not_a_depth_error() -> None:
    over = '{"a":' * MAX_DEPTH + "[]" + "}" * MAX_DEPTH
    at = '{"a":' * (MAX_DEPTH - 1) + "[]" + "}" * (MAX_DEPTH - 1)
    assert rule_of(over).errors[0]["rule"] == "max_depth"
    assert all(e["rule"] != "max_depth" for e in rule_of(at).errors)


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    doc = with_section("A", {"summary": F('\\"[[[' + "[" * 100 + '{"')})
    assert parse_dossier(json.dumps(doc)) == doc


def test_deep_decoded_document_names_where_it_is_too_deep() -> None:
    deep: Any = "x"
    for _ in range(MAX_DEPTH + 5):
        deep = {"k": deep}
    errors = validate_dossier({"schema_version": "1.0", "sections": deep})
    assert errors[0].rule == "max_depth"
    # The root is level 1 and "sections" level 2, so level 33 is 31 keys below "sections".
    assert errors[0].path == "sections" + ".k" * (MAX_DEPTH - 1)


def test_too_many_items_in_an_array_is_refused_with_its_path() -> None:
    doc = with_section("F", {"intended_uses": F([f"use {i}" for i in range(MAX_ITEMS + 1)])})
    error = only(validate_dossier(doc))
    assert error.path == "sections.F.intended_uses.value"
    assert error.rule == "max_items"
    assert error.message.endswith(f"has {MAX_ITEMS + 1:,} items, over the limit of {MAX_ITEMS:,}")


def test_too_many_members_in_an_object_is_refused() -> None:
    doc = with_section("A", {f"k{i}": 1 for i in range(MAX_ITEMS + 1)})
    assert only(validate_dossier(doc)).rule == "max_items"


def test_overlong_string_is_refused_before_the_schema_runs() -> None:
    doc = with_section("A", {"summary": F("x" * (MAX_STRING_LENGTH + 1))})
    error = only(validate_dossier(doc))
    assert (error.path, error.rule) == ("sections.A.summary.value", "max_string_length")
    assert f"limit of {MAX_STRING_LENGTH:,}" in error.message


def test_duplicate_keys_are_refused_with_the_repeated_key_in_the_path() -> None:
    raw = (
        '{"schema_version": "1.0", "sections": {"A": {"developer_name": '
        '{"value": "N", "disclosure": "public", "provenance": "measured", '
        '"disclosure": "restricted"}}}}'
    )
    exc = rule_of(raw)
    assert exc.errors == [
        {
            "path": "sections.A.developer_name.disclosure",
            "rule": "duplicate_key",
            "message": "sections.A.developer_name.disclosure: is repeated in the same object; "
            "each key may appear once",
        }
    ]


def test_duplicate_top_level_key_is_refused() -> None:
    exc = rule_of('{"schema_version": "1.0", "schema_version": "1.0", "sections": {}}')
    assert exc.errors[0]["rule"] == "duplicate_key"
    assert exc.errors[0]["path"] == "schema_version"


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ('{"schema_version": "1.0",', "is not valid JSON: Expecting property name"),
        ('{"a": NaN}', "NaN is not a JSON number"),
        ('{"a": -Infinity}', "-Infinity is not a JSON number"),
        (b'{"a": "\xff"}', "is not UTF-8"),
        ("\ufeff{}", "is not valid JSON"),
        ('{"a": ' + "1" * 5000 + "}", "is not valid JSON"),
    ],
)
def test_malformed_json_is_refused_with_a_readable_reason(raw: bytes | str, fragment: str) -> None:
    exc = rule_of(raw)
    assert exc.errors[0]["rule"] == "json"
    assert fragment in exc.errors[0]["message"]


def test_non_finite_numbers_in_a_decoded_document_are_refused() -> None:
    doc = with_section("D", {"training_flop": F(float("inf"))})
    error = only(validate_dossier(doc))
    assert (error.path, error.rule) == ("sections.D.training_flop.value", "finite_number")


def test_non_json_python_values_are_refused() -> None:
    doc = with_section("A", {"developer_name": F({"a", "b"})})
    assert only(validate_dossier(doc)).rule == "json_type"


def test_validation_does_not_change_the_document() -> None:
    doc = example("invalid")
    before = copy.deepcopy(doc)
    validate_dossier(doc)
    assert doc == before


def test_field_value_reads_a_field_or_returns_none() -> None:
    doc = example("full")
    assert field_value(doc, "sections", "D", "training_flop") == 6.3e24
    assert field_value(doc, "sections", "E", "datasets", 2, "provenance") == "synthetic"
    assert field_value(doc, "sections", "E", "datasets", 9, "provenance") is None
    assert field_value(doc, "sections", "Z", "nothing") is None
    assert format_path(("sections", "E", "datasets", 0)) == "sections.E.datasets.0"
