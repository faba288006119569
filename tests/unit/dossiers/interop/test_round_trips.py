"""Import, export, import again: nothing both formats can carry is lost.

Each format's CARRIES lists the dossier fields it holds; everything else of the dossier is
what it cannot carry (stated below per format), and the tests check both the statement
(a field listed comes back equal from that format alone) and each pair of formats.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Final

import pytest

from airlock.demo import example_dossier
from airlock.dossiers.interop.common import iter_fields
from airlock.dossiers.interop.cyclonedx_map import MODEL_PROPERTIES
from airlock.dossiers.interop.exports import export
from airlock.dossiers.interop.importer import import_files
from airlock.dossiers.interop.spdx_map import HYPERPARAMETERS

# A Hugging Face card cannot carry: legal entity, jurisdiction, website, contact name,
# submission data, identifier, family, versions and hashes, base model versions and digests,
# architecture, sizes (C), modalities unless they match a pipeline tag, training stages,
# compute and energy, dataset details beyond names, distribution, evaluation category, dates
# and evaluators, red-teaming, safeguards (H), weights security (I), governance (J),
# incidents (K). Only the first paragraph of the summary comes back.
HF: Final = frozenset(
    {
        "A.developer_name",
        "A.summary",
        "A.contact_email",
        "B.model_name",
        "B.base_models.*.name",
        "C.languages",
        "D.emissions_tco2e",
        "D.hardware.accelerator",
        "D.hardware.training_hours",
        "D.hardware.compute_provider",
        "E.summary",
        "E.datasets.*.name",
        "F.model_licence",
        "F.intended_uses",
        "F.prohibited_uses",
        "F.downstream_integration",
        "G.evaluations.*.name",
        "G.evaluations.*.metric",
        "G.evaluations.*.score",
    }
)
# CycloneDX cannot carry: legal entity, jurisdiction, submission data, versions after the
# first and their dates and signatures, training stages, hardware, E's summary, cut-off,
# opt-outs and copyright policy, distribution channels, regions, acceptable use policy,
# evaluation category, dates, evaluators and summaries, red-teaming, the evaluation
# endpoint, H, most of I, J, K.
CYCLONEDX: Final = frozenset(
    {
        "A.developer_name",
        "A.summary",
        "A.website",
        "A.contact_name",
        "A.contact_email",
        "B.model_name",
        "B.model_family",
        "B.versions.*.version",
        "B.versions.*.authenticity_hashes.*.artifact",
        "B.versions.*.authenticity_hashes.*.digest",
        "B.base_models.*.name",
        "B.base_models.*.version",
        "B.base_models.*.relation",
        "B.base_models.*.developer",
        "B.base_models.*.digest",
        "C.architecture",
        "C.architecture_description",
        "C.input_modalities",
        "C.output_modalities",
        "C.languages",
        "D.energy_kwh",
        "D.emissions_tco2e",
        "E.datasets.*.name",
        "E.datasets.*.description",
        "E.datasets.*.modalities",
        "E.datasets.*.provenance",
        "E.datasets.*.source",
        "E.datasets.*.size_tokens",
        "E.datasets.*.size_bytes",
        "E.datasets.*.size_examples",
        "E.datasets.*.collection_end_date",
        "E.datasets.*.curation",
        "E.datasets.*.personal_data",
        "E.datasets.*.personal_data_measures",
        "E.datasets.*.licence",
        "F.intended_uses",
        "F.prohibited_uses",
        "F.model_licence",
        "G.evaluations.*.name",
        "G.evaluations.*.metric",
        "G.evaluations.*.score",
        *MODEL_PROPERTIES,
    }
)
# SPDX cannot carry: contact, legal entity, jurisdiction, submission data, family,
# identifier, languages, modalities of the model, intended and prohibited uses, a licence
# that is not an SPDX expression, base model relation and developer, dataset modalities
# "code" and "actions" (SPDX has no such dataset type; they become "other"), personal data
# "present_minimised" (only yes/no), dataset licences, token and example counts, emissions,
# hardware, stages, H, I, J, K. A planned release date comes back as the release date.
SPDX: Final = frozenset(
    {
        "A.developer_name",
        "A.summary",
        "A.website",
        "B.model_name",
        "B.versions.*.version",
        "B.versions.*.release_date",
        "B.versions.*.authenticity_hashes.*.artifact",
        "B.versions.*.authenticity_hashes.*.digest",
        "B.base_models.*.name",
        "B.base_models.*.version",
        "B.base_models.*.digest",
        "C.architecture",
        "D.energy_kwh",
        "E.summary",
        "E.datasets.*.name",
        "E.datasets.*.description",
        "E.datasets.*.size_bytes",
        "E.datasets.*.provenance",
        "E.datasets.*.curation",
        "E.datasets.*.personal_data_measures",
        "F.downstream_integration",
        "G.evaluations.*.name",
        "G.evaluations.*.metric",
        "G.evaluations.*.score",
        *(path for path, _ in HYPERPARAMETERS.values()),
    }
)
CARRIES: Final = {"hf-card": HF, "cyclonedx": CYCLONEDX, "spdx": SPDX}
# Fields that come back with only some of their values (stated above), so not compared.
PARTLY: Final = {
    # An import calls every Hub result a capability benchmark; a base model's relation
    # comes back when all base models share one the Hub names (finetune, adapter, ...).
    "hf-card": frozenset({"G.evaluations.*.category", "B.base_models.*.relation"}),
    "cyclonedx": frozenset(),
    "spdx": frozenset({"E.datasets.*.modalities", "E.datasets.*.personal_data"}),
}
FILE_NAMES: Final = {"hf-card": "README.md", "cyclonedx": "bom.cdx.json", "spdx": "doc.spdx.json"}


def pattern(path: str) -> str:
    return re.sub(r"\.\d+(?=\.|$)", ".*", path)


def values(doc: dict[str, Any]) -> dict[str, Any]:
    return {path: entry["value"] for path, entry in iter_fields(doc["sections"])}


def through(doc: dict[str, Any], fmt: str, folder: Path) -> dict[str, Any]:
    """Export doc in fmt (for the agency) and import the file again."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / FILE_NAMES[fmt]
    path.write_bytes(export(doc, fmt=fmt, audience="agency").content)
    return import_files([path]).dossier


def assert_kept(before: dict[str, Any], after: dict[str, Any], carried: frozenset[str]) -> int:
    old, new = values(before), values(after)
    compared = 0
    for path, value in old.items():
        if pattern(path) not in carried:
            continue
        if isinstance(value, float):
            assert new.get(path) == pytest.approx(value), path
        else:
            assert new.get(path) == value, path
        compared += 1
    return compared


def rich_dossier() -> dict[str, Any]:
    """The demo's full dossier, with one paragraph of summary and a released version."""
    doc = example_dossier("full")
    sections = doc["sections"]
    summary = sections["A"]["summary"]["value"]
    sections["A"]["summary"]["value"] = " ".join(summary.split())
    version = sections["B"]["versions"][0]
    version["release_date"] = {**version["version"], "value": "2026-12-15"}
    return doc


@pytest.mark.parametrize("fmt", list(CARRIES))
def test_each_format_carries_back_what_it_says_it_carries(fmt: str, tmp_path: Path) -> None:
    source = rich_dossier()
    again = through(source, fmt, tmp_path)
    compared = assert_kept(source, again, CARRIES[fmt])
    assert compared >= 8
    # Everything imported back is something the format claims to carry, fully or partly.
    extra = {pattern(p) for p in values(again)} - CARRIES[fmt] - PARTLY[fmt]
    assert extra == set()


@pytest.mark.parametrize(
    ("first", "second"),
    [(a, b) for a in CARRIES for b in CARRIES],
    ids=lambda f: str(f),
)
def test_import_export_import_keeps_what_both_formats_carry(
    first: str, second: str, tmp_path: Path
) -> None:
    imported = through(rich_dossier(), first, tmp_path / "one")
    again = through(imported, second, tmp_path / "two")
    both = CARRIES[first] & CARRIES[second]
    assert assert_kept(imported, again, both) >= 4
