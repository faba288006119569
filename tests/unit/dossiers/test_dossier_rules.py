"""Scope checks, completeness on submit, and redacted views that never leak."""

from __future__ import annotations

import copy
import itertools
import json
from importlib import resources
from typing import Any

import pytest

from airlock.dossiers import rules
from airlock.dossiers.validation import validate_dossier


def F(value: Any, disclosure: str = "public", provenance: str = "self_reported") -> dict[str, Any]:
    return {"value": value, "disclosure": disclosure, "provenance": provenance}


def example(name: str) -> Any:
    text = resources.files("airlock.dossiers").joinpath("examples", f"{name}.json").read_text()
    return json.loads(text)


# Written out here rather than read from rules.SECTION_SCOPES, so a change to the map has to
# be made twice, on purpose. None: any participating firm may fill the section in.
EXPECTED_SCOPE = {
    "A": None,
    "B": None,
    "C": "architecture",
    "D": "training_data_docs",
    "E": "training_data_docs",
    "F": None,
    "G": None,
    "H": "safeguards",
    "I": "weights",
    "J": None,
    "K": None,
}
ALL_SCOPES = frozenset(rules.SCOPES)


def section_sample(name: str) -> dict[str, Any]:
    """A schema-valid, non-empty body for a section (G without its endpoint, L by hand)."""
    if name == "L":
        return {"summary": F("Reviewed; two findings open.", "restricted", "measured")}
    body = copy.deepcopy(example("full")["sections"][name])
    body.pop("eval_endpoint", None)
    return body


def doc_with(name: str) -> dict[str, Any]:
    doc = example("minimal")
    doc["sections"][name] = section_sample(name)
    return doc


def test_scope_names_are_the_five_of_the_agreement() -> None:
    assert rules.SCOPES == (
        "architecture",
        "training_data_docs",
        "safeguards",
        "weights",
        "eval_endpoint",
    )


def test_scope_map_covers_every_firm_section_and_l_is_agency_only() -> None:
    assert dict(rules.SECTION_SCOPES) == EXPECTED_SCOPE
    assert set(rules.AGENCY_SECTIONS) == {"L"}
    used = set(rules.SECTION_SCOPES.values()) | set(rules.FIELD_SCOPES.values())
    assert used - {None} == set(rules.SCOPES)


@pytest.mark.parametrize("section", list("ABCDEFGHIJKL"))
def test_sample_section_is_schema_valid(section: str) -> None:
    assert validate_dossier(doc_with(section)) == []


@pytest.mark.parametrize(
    ("section", "scope"),
    list(itertools.product("ABCDEFGHIJK", [None, *rules.SCOPES])),
)
def test_every_section_against_every_single_scope(section: str, scope: str | None) -> None:
    scopes = frozenset() if scope is None else frozenset({scope})
    errors = rules.check_scopes(doc_with(section), scopes)
    needed = EXPECTED_SCOPE[section]
    if needed is None or needed == scope:
        assert errors == []
    else:
        assert [(e.path, e.rule) for e in errors] == [(f"sections.{section}", "scope")]
        agreed = scope or "none"
        assert errors[0].message == (
            f'sections.{section}: needs the "{needed}" scope, which the participation '
            f"agreement does not include (agreed: {agreed})"
        )


@pytest.mark.parametrize("scopes", [frozenset(), ALL_SCOPES])
def test_a_firm_submitted_review_record_is_refused_whatever_the_scopes(
    scopes: frozenset[str],
) -> None:
    errors = rules.check_scopes(doc_with("L"), scopes)
    assert [(e.path, e.rule) for e in errors] == [("sections.L", "agency_only")]
    assert "agency" in errors[0].message


def test_eval_endpoint_needs_its_own_scope() -> None:
    doc = example("full")
    without = ALL_SCOPES - {"eval_endpoint"}
    errors = rules.check_scopes(doc, without)
    assert [(e.path, e.rule) for e in errors] == [("sections.G.eval_endpoint", "scope")]
    assert '"eval_endpoint" scope' in errors[0].message
    assert rules.check_scopes(doc, ALL_SCOPES) == []


def test_empty_section_carries_nothing_and_needs_no_scope() -> None:
    doc = example("minimal")
    doc["sections"].update({"C": {}, "I": {}, "L": {}})
    assert rules.check_scopes(doc, frozenset()) == []


def test_every_out_of_scope_section_is_reported_at_once() -> None:
    errors = rules.check_scopes(example("full"), frozenset({"architecture"}))
    assert [e.path for e in errors] == [
        "sections.D",
        "sections.E",
        "sections.G.eval_endpoint",
        "sections.H",
        "sections.I",
    ]


def test_unknown_section_is_refused_by_the_scope_check_too() -> None:
    doc = example("minimal")
    doc["sections"]["M"] = {"x": F(1)}
    errors = rules.check_scopes(doc, ALL_SCOPES)
    assert [(e.path, e.rule) for e in errors] == [("sections.M", "scope")]


def test_unknown_scope_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="wieghts"):
        rules.check_scopes(example("minimal"), frozenset({"wieghts"}))


# --- completeness on submit ------------------------------------------------------------


def test_minimal_dossier_is_complete_without_scopes() -> None:
    assert rules.check_complete(example("minimal")) == []


def test_full_dossier_is_complete_with_every_scope() -> None:
    assert rules.check_complete(example("full"), scopes=ALL_SCOPES) == []


def test_a_and_b_are_always_required() -> None:
    errors = rules.check_complete({"schema_version": "1.0", "sections": {}})
    assert [(e.path, e.rule, e.message) for e in errors] == [
        ("sections.A", "required", "sections.A: is required to submit"),
        ("sections.B", "required", "sections.B: is required to submit"),
    ]


@pytest.mark.parametrize("scope", rules.SCOPES)
def test_an_agreed_scope_requires_its_sections(scope: str) -> None:
    errors = rules.check_complete(example("minimal"), scopes=frozenset({scope}))
    expected = [s for s, needed in EXPECTED_SCOPE.items() if needed == scope]
    assert [e.path for e in errors] == [f"sections.{s}" for s in expected]


def test_present_section_must_hold_its_key_fields() -> None:
    doc = example("minimal")
    doc["sections"]["A"].pop("contact_email")
    doc["sections"]["B"]["versions"] = []
    doc["sections"]["C"] = {"layers": F(80)}
    errors = rules.check_complete(doc)
    assert [(e.path, e.rule) for e in errors] == [
        ("sections.A.contact_email", "required"),
        ("sections.B.versions", "minItems"),
        ("sections.C.architecture", "required"),
        ("sections.C.parameters_total", "required"),
    ]


def test_required_sections_follow_the_scopes() -> None:
    assert rules.required_sections() == ("A", "B")
    assert rules.required_sections(ALL_SCOPES) == ("A", "B", "C", "D", "E", "H", "I")


# --- redacted views --------------------------------------------------------------------


def fields(node: Any):
    """Yield every field wrapper in a document (or view)."""
    if isinstance(node, dict):
        if "value" in node:
            yield node
            return
        for child in node.values():
            yield from fields(child)
    elif isinstance(node, list):
        for child in node:
            yield from fields(child)


def sentinel_doc() -> dict[str, Any]:
    """The full example with every non-public value replaced by a unique, findable marker."""
    doc = example("full")
    doc["sections"]["L"] = section_sample("L")
    for i, field in enumerate(fields(doc["sections"])):
        if field["disclosure"] != "public":
            field["value"] = f"SENTINEL-{field['disclosure']}-{i}-END"
    return doc


def leaked(view: dict[str, Any], levels: set[str]) -> list[str]:
    text = json.dumps(view)
    return [
        f["value"]
        for f in fields(sentinel_doc()["sections"])
        if f["disclosure"] in levels and f["value"] in text
    ]


def test_public_view_leaks_no_reviewer_or_restricted_value() -> None:
    view = rules.public_view(sentinel_doc())
    assert leaked(view, {"reviewer", "restricted"}) == []
    assert "SENTINEL" not in json.dumps(view)


def test_confidential_view_shows_reviewer_fields_but_not_restricted_ones() -> None:
    view = rules.confidential_view(sentinel_doc())
    assert leaked(view, {"restricted"}) == []
    assert "SENTINEL-reviewer-" in json.dumps(view)


def test_confidential_view_with_restricted_granted_shows_everything() -> None:
    doc = sentinel_doc()
    assert rules.confidential_view(doc, "restricted") == {
        "schema_version": "1.1.0",
        "sections": doc["sections"],
    }


def test_real_confidential_strings_of_the_full_example_are_absent_from_public_view() -> None:
    doc = example("full")
    public_text = json.dumps([f["value"] for f in fields(doc) if f["disclosure"] == "public"])
    secrets = [
        f["value"]
        for f in fields(doc)
        if f["disclosure"] != "public"
        and isinstance(f["value"], str)
        and len(f["value"]) > 4
        and f["value"] not in public_text
    ]
    assert len(secrets) > 40
    text = json.dumps(rules.public_view(doc))
    assert [s for s in secrets if s in text] == []


def test_redaction_marker_names_the_level_and_public_fields_are_kept() -> None:
    doc = example("full")
    view = rules.public_view(doc)
    a = view["sections"]["A"]
    assert a["developer_name"] == doc["sections"]["A"]["developer_name"]
    assert a["contact_email"] == {"redacted": True, "disclosure": "reviewer"}
    hw = view["sections"]["D"]["hardware"]
    assert hw["accelerator_count"] == {"redacted": True, "disclosure": "restricted"}


def test_views_do_not_change_the_original() -> None:
    doc = sentinel_doc()
    before = copy.deepcopy(doc)
    rules.public_view(doc)["sections"]["A"]["developer_name"]["value"] = "changed"
    rules.redact_all_confidential(doc)
    assert doc == before


@pytest.mark.parametrize("level", [None, "secret", 3])
def test_a_field_with_an_unknown_level_is_treated_as_restricted(level: Any) -> None:
    doc = example("minimal")
    doc["sections"]["A"]["developer_name"]["disclosure"] = level
    for view in (rules.public_view(doc), rules.confidential_view(doc)):
        name = view["sections"]["A"]["developer_name"]
        assert name == {"redacted": True, "disclosure": "restricted"}


def test_a_bare_value_outside_a_field_is_redacted() -> None:
    doc = example("minimal")
    doc["sections"]["A"]["stray"] = "TOP-SECRET"
    doc["extra"] = "TOP-SECRET"
    assert "TOP-SECRET" not in json.dumps(rules.confidential_view(doc, "restricted"))


def test_withdrawal_redacts_every_confidential_field_and_keeps_public_ones() -> None:
    doc = sentinel_doc()
    out = rules.redact_all_confidential(doc)
    assert "SENTINEL" not in json.dumps(out)
    for before, after in zip(
        fields(doc["sections"]), fields_or_markers(out["sections"]), strict=True
    ):
        if before["disclosure"] == "public":
            assert after == before
        else:
            assert after == {"redacted": True, "reason": "withdrawn"}


def fields_or_markers(node: Any):
    if isinstance(node, dict):
        if "value" in node or node.get("redacted") is True:
            yield node
            return
        for child in node.values():
            yield from fields_or_markers(child)
    elif isinstance(node, list):
        for child in node:
            yield from fields_or_markers(child)


def test_unknown_view_level_is_refused() -> None:
    with pytest.raises(ValueError, match="secret"):
        rules.redacted_view(example("minimal"), "secret")  # type: ignore[arg-type]
