"""Exports: valid against each standard, complete where a form is numbered, and never
carrying a confidential value to a public audience."""

from __future__ import annotations

import copy
import json
import re
import zlib
from datetime import UTC, datetime
from typing import Any

import pytest

from airlock.core.errors import InvalidInput
from airlock.demo import example_dossier
from airlock.dossiers.interop.common import for_audience, iter_fields
from airlock.dossiers.interop.export_eu_mdf import ITEMS, RECIPIENTS
from airlock.dossiers.interop.exports import FORMATS, export
from airlock.dossiers.validation import load_schema

from .support import bom_errors, spdx_check

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def text_of(fmt: str, doc: dict[str, Any], audience: str) -> str:
    content = export(doc, fmt=fmt, audience=audience, now=NOW).content  # type: ignore[arg-type]
    if fmt == "eu-mdf-pdf":
        # fpdf2 deflates each page's content stream; read the text operators inside.
        streams = re.findall(rb"stream\r?\n(.*?)\r?\nendstream", content, flags=re.DOTALL)
        return "\n".join(zlib.decompress(s).decode("latin-1") for s in streams)
    return content.decode("utf-8")


@pytest.mark.parametrize("audience", ["public", "agency"])
def test_cyclonedx_export_of_the_demo_dossier_is_valid_cyclonedx_1_6(audience: str) -> None:
    bom = json.loads(text_of("cyclonedx", example_dossier("full"), audience))
    assert bom_errors(bom) == []
    model = bom["metadata"]["component"]
    assert model["type"] == "machine-learning-model"
    assert "modelCard" in model
    data = [c for c in bom["components"] if c["type"] == "data"]
    assert data and all(c["data"][0]["type"] == "dataset" for c in data)


def test_the_cyclonedx_validator_does_catch_a_broken_bom() -> None:
    bom = json.loads(text_of("cyclonedx", example_dossier("full"), "agency"))
    broken = copy.deepcopy(bom)
    broken["metadata"]["component"]["modelCard"]["modelParameters"]["inputs"] = [{"form": "x"}]
    broken["components"][0]["type"] = "dataset"
    errors = bom_errors(broken)
    assert len(errors) >= 2


def test_spdx_export_is_valid_spdx_3_0_1_with_ai_and_dataset_profiles() -> None:
    doc = json.loads(text_of("spdx", example_dossier("full"), "agency"))
    objects = spdx_check(doc)
    by_type: dict[str, list[Any]] = {}
    for obj in objects:
        by_type.setdefault(type(obj).__name__, []).append(obj)
    (model,) = [m for m in by_type["ai_AIPackage"] if m.name == "Atlas-70B"]
    # The AI profile's required properties, which the SHACL model leaves optional.
    assert model.software_packageVersion == "1.0.0-rc2"
    assert model.suppliedBy is not None and model.software_primaryPurpose is not None
    assert model.releaseTime is not None
    assert len(by_type["dataset_DatasetPackage"]) == 3
    kinds = {r.relationshipType.rsplit("/", 1)[-1] for r in by_type["Relationship"]}
    assert {"trainedOn", "contains", "descendantOf"} <= kinds
    (document,) = by_type["SpdxDocument"]
    profiles = {p.rsplit("/", 1)[-1] for p in document.profileConformance}
    assert {"ai", "dataset", "core", "software"} <= profiles


@pytest.mark.parametrize("name", ["full", "minimal"])
def test_eu_form_has_every_numbered_item_for_each_recipient(name: str) -> None:
    text = text_of("eu-mdf", example_dossier(name), "agency")
    parts = re.split(r"^## For the ", text, flags=re.MULTILINE)[1:]
    assert [p.split(" (")[0] for p in parts] == list(RECIPIENTS.values())
    for code, part in zip(RECIPIENTS, parts, strict=True):
        numbers = re.findall(r"^- \*\*(\d\.\d) ", part, flags=re.MULTILINE)
        assert numbers == [i.number for i in ITEMS if code in i.recipients]
    assert "Date last updated: 2026-12-01" in text
    silent = text.count("*not provided*")
    assert silent > 0
    if name == "minimal":
        # Only the provider, the model name and its version are known.
        assert silent == sum(len(i.recipients) for i in ITEMS) - 2 * 3


def test_eu_form_gives_downstream_providers_no_compute_or_energy_items() -> None:
    text = text_of("eu-mdf", example_dossier("full"), "agency")
    downstream = text.split("## For the Downstream providers")[1]
    assert "### 7." not in downstream and "### 8." not in downstream
    authority = text.split("## For the National competent authorities")[1].split("## For")[0]
    office = text.split("## For the AI Office")[1].split("## For")[0]
    assert "order of magnitude 10^24 FLOP" in authority
    assert "6.3x10^24 FLOP" in office


def test_eu_form_pdf_is_a_pdf_with_the_items() -> None:
    pdf = export(example_dossier("full"), fmt="eu-mdf-pdf", audience="agency", now=NOW).content
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")


def test_model_card_export_parses_with_huggingface_hub() -> None:
    from huggingface_hub import ModelCard

    card = ModelCard(text_of("hf-card", example_dossier("full"), "agency"))
    data = card.data.to_dict()
    assert data["model-index"][0]["name"] == "Atlas-70B"
    assert data["license"] == "other"
    assert data["license_name"] == "Northwind Open Model Licence 1.0"
    assert data["base_model"] == ["Atlas-70B-Base"]
    assert data["model-index"][0]["results"][0]["metrics"][0]["value"] == 0.71
    assert "### Out-of-Scope Use" in card.text


def test_sb53_export_lists_every_lettered_item() -> None:
    text = text_of("sb53", example_dossier("minimal"), "agency")
    assert re.findall(r"^- \*\*\(([A-G])\)", text.split("(c)(2)")[0], flags=re.M) == list("ABCDEFG")
    assert re.findall(r"^- \*\*\(([A-D])\)", text.split("(c)(2)")[1], flags=re.M) == list("ABCD")
    full = text_of("sb53", example_dossier("full"), "agency")
    assert "https://northwind.example" in full


# --- the public audience -----------------------------------------------------------------


def plant(doc: dict[str, Any], *, only_text: bool) -> tuple[dict[str, Any], list[str]]:
    """Put a distinct marker in every confidential field (text fields only, if asked)."""
    planted = copy.deepcopy(doc)
    markers: list[str] = []
    for path, entry in iter_fields(planted["sections"]):
        if entry["disclosure"] == "public":
            continue
        if only_text and not isinstance(entry["value"], str):
            continue
        marker = f"CONFIDENTIALMARKER{len(markers):03d}"
        value = entry["value"]
        if isinstance(value, str) and value.startswith("http"):
            entry["value"] = f"https://{marker.lower()}.example"
        elif isinstance(value, str) and "@" in value:
            entry["value"] = f"{marker.lower()}@northwind.example"
        else:
            entry["value"] = marker if not isinstance(value, list) else [marker]
        markers.append(
            marker.lower()
            if isinstance(value, str) and ("@" in value or value.startswith("http"))
            else marker
        )
        assert path
    return planted, markers


def every_field_confidential(doc: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    for index, (_, entry) in enumerate(iter_fields(out["sections"])):
        entry["disclosure"] = "reviewer" if index % 2 else "restricted"
    return out


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_public_export_carries_no_confidential_value(fmt: str) -> None:
    full = example_dossier("full")
    planted, markers = plant(full, only_text=False)
    assert len(markers) > 40
    text = text_of(fmt, planted, "public").lower()
    assert "confidentialmarker" not in text
    # A dossier with nothing public exports as a form with nothing filled in.
    hidden, hidden_markers = plant(every_field_confidential(full), only_text=False)
    assert "confidentialmarker" not in text_of(fmt, hidden, "public").lower()
    assert len(hidden_markers) == len(list(iter_fields(full["sections"])))


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_agency_export_does_carry_the_markers_the_public_one_drops(fmt: str) -> None:
    # The control for the test above: the markers are where an export would show them.
    planted, _ = plant(example_dossier("full"), only_text=True)
    assert "confidentialmarker" in text_of(fmt, planted, "agency").lower()


def test_unknown_format_and_audience_are_refused_by_name() -> None:
    with pytest.raises(InvalidInput, match=r"format: must be one of cyclonedx, spdx"):
        export(example_dossier("full"), fmt="docx", audience="public")
    with pytest.raises(InvalidInput, match="audience: must be one of public, agency"):
        export(example_dossier("full"), fmt="sb53", audience="everyone")  # type: ignore[arg-type]


def test_public_view_keeps_the_schema_version_current_and_only_public_fields() -> None:
    view = for_audience(example_dossier("full"), "public")
    assert view["schema_version"] == load_schema()["properties"]["schema_version"]["const"]
    assert {e["disclosure"] for _, e in iter_fields(view["sections"])} == {"public"}
