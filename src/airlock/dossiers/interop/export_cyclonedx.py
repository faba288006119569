"""Export a dossier as a CycloneDX 1.6 ML-BOM (JSON): a `machine-learning-model` component
with its `modelCard`, datasets as `data` components, artifact hashes as `file` components.

Built as plain dicts: cyclonedx-python-lib does not model `modelCard` or `data` yet (its
schema-support page lists them as unsupported), so tests validate the output against the
CycloneDX 1.6 JSON schema instead. Pure.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from airlock import __version__
from airlock.dossiers.interop.common import View, item_value
from airlock.dossiers.interop.cyclonedx_map import (
    BASE_MODEL_PROPERTIES,
    DATASET_LIST_PROPERTIES,
    DATASET_PROPERTIES,
    MODEL_LIST_PROPERTIES,
    MODEL_PROPERTIES,
    PROPERTY_PREFIX,
    format_property,
)

_URL = re.compile(r"^https?://\S+$")


def _hashes(digest: object) -> list[dict[str, str]]:
    if isinstance(digest, str) and digest.startswith("sha256:"):
        return [{"alg": "SHA-256", "content": digest.removeprefix("sha256:")}]
    return []


def _props(pairs: list[tuple[str, object]]) -> list[dict[str, str]]:
    return [
        {"name": PROPERTY_PREFIX + name, "value": format_property(value)}
        for name, value in pairs
        if value is not None
    ]


def _supplier(view: View) -> dict[str, Any] | None:
    supplier: dict[str, Any] = {}
    if view.get("A.developer_name"):
        supplier["name"] = view.get("A.developer_name")
    if view.get("A.website"):
        supplier["url"] = [view.get("A.website")]
    contact = {
        k: v
        for k, v in (("name", view.get("A.contact_name")), ("email", view.get("A.contact_email")))
        if v
    }
    if contact:
        supplier["contact"] = [contact]
    return supplier or None


def _dataset(index: int, item: dict[str, Any]) -> dict[str, Any]:
    ref = f"dataset-{index}"
    name = item_value(item, "name") or f"dataset {index + 1}"
    data: dict[str, Any] = {"type": "dataset", "name": name}
    if item_value(item, "description"):
        data["description"] = item_value(item, "description")
    source = item_value(item, "source")
    if isinstance(source, str) and _URL.match(source):
        data["contents"] = {"url": source}
    if item_value(item, "personal_data") in ("present", "present_minimised"):
        data["sensitiveData"] = [item_value(item, "personal_data_measures") or "personal data"]
    pairs: list[tuple[str, object]] = [(k, item_value(item, k)) for k in DATASET_PROPERTIES]
    pairs += [(k, v) for k in DATASET_LIST_PROPERTIES for v in item_value(item, k) or []]
    component: dict[str, Any] = {"type": "data", "bom-ref": ref, "name": name, "data": [data]}
    if item_value(item, "licence"):
        component["licenses"] = [{"license": {"name": item_value(item, "licence")}}]
    properties = _props(pairs)
    if properties:
        component["properties"] = properties
    return component


def _model_card(view: View, dataset_refs: list[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if view.get("C.architecture"):
        params["architectureFamily"] = view.get("C.architecture")
    if view.get("C.architecture_description"):
        params["modelArchitecture"] = view.get("C.architecture_description")
    if dataset_refs:
        params["datasets"] = [{"ref": ref} for ref in dataset_refs]
    for key, path in (("inputs", "C.input_modalities"), ("outputs", "C.output_modalities")):
        if view.get(path):
            params[key] = [{"format": m} for m in view.get(path)]
    card: dict[str, Any] = {"bom-ref": "model-card"}
    if params:
        card["modelParameters"] = params
    metrics = [
        {
            "type": item_value(e, "metric") or "score",
            "value": format_property(item_value(e, "score")),
            "slice": item_value(e, "name"),
        }
        for e in view.items("G.evaluations")
        if item_value(e, "score") is not None and item_value(e, "name")
    ]
    if metrics:
        card["quantitativeAnalysis"] = {"performanceMetrics": metrics}
    considerations: dict[str, Any] = {}
    if view.get("F.intended_uses"):
        considerations["useCases"] = list(view.get("F.intended_uses"))
    energy = view.get("D.energy_kwh")
    if energy is not None:
        use: dict[str, Any] = {
            "activity": "training",
            "energyProviders": [],
            "activityEnergyCost": {"value": energy, "unit": "kWh"},
        }
        if view.get("D.emissions_tco2e") is not None:
            use["co2CostEquivalent"] = {"value": view.get("D.emissions_tco2e"), "unit": "tCO2eq"}
        considerations["environmentalConsiderations"] = {"energyConsumptions": [use]}
    if considerations:
        card["considerations"] = considerations
    return card


def export_cyclonedx(doc: dict[str, Any], *, now: datetime | None = None) -> dict[str, Any]:
    """Return an audience-filtered dossier as a CycloneDX 1.6 BOM (a JSON-ready dict)."""
    view = View(doc)
    versions = view.items("B.versions")
    first = versions[0] if versions else {}
    datasets = [_dataset(i, item) for i, item in enumerate(view.items("E.datasets"))]
    files = [
        {
            "type": "file",
            "bom-ref": f"artifact-{i}",
            "name": item_value(h, "artifact") or f"artifact {i + 1}",
            "hashes": _hashes(item_value(h, "digest")),
        }
        for i, h in enumerate(first.get("authenticity_hashes", []) if first else [])
        if _hashes(item_value(h, "digest"))
    ]
    model: dict[str, Any] = {
        "type": "machine-learning-model",
        "bom-ref": "model",
        "name": view.get("B.model_name") or "unnamed model",
    }
    if item_value(first, "version"):
        model["version"] = item_value(first, "version")
    if view.get("B.model_family"):
        model["group"] = view.get("B.model_family")
    if view.get("A.summary"):
        model["description"] = view.get("A.summary")
    supplier = _supplier(view)
    if supplier:
        model["supplier"] = supplier
    if view.get("F.model_licence"):
        model["licenses"] = [{"license": {"name": view.get("F.model_licence")}}]
    ancestors = []
    for i, base in enumerate(view.items("B.base_models")):
        if not item_value(base, "name"):
            continue
        ancestor: dict[str, Any] = {
            "type": "machine-learning-model",
            "bom-ref": f"base-model-{i}",
            "name": item_value(base, "name"),
        }
        if item_value(base, "version"):
            ancestor["version"] = item_value(base, "version")
        if item_value(base, "developer"):
            ancestor["supplier"] = {"name": item_value(base, "developer")}
        if _hashes(item_value(base, "digest")):
            ancestor["hashes"] = _hashes(item_value(base, "digest"))
        props = _props([(k, item_value(base, k)) for k in BASE_MODEL_PROPERTIES])
        if props:
            ancestor["properties"] = props
        ancestors.append(ancestor)
    if ancestors:
        model["pedigree"] = {"ancestors": ancestors}
    model["modelCard"] = _model_card(view, [d["bom-ref"] for d in datasets])
    pairs: list[tuple[str, object]] = [(path, view.get(path)) for path in MODEL_PROPERTIES]
    pairs += [(path, v) for path in MODEL_LIST_PROPERTIES for v in view.get(path) or []]
    props = _props(pairs)
    if props:
        model["properties"] = props
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    bom: dict[str, Any] = {
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": f"urn:uuid:{uuid.uuid4()}",
        "version": 1,
        "metadata": {
            "timestamp": stamp,
            "tools": {
                "components": [{"type": "application", "name": "airlock", "version": __version__}]
            },
            "component": model,
        },
        "components": [*datasets, *files],
    }
    children = [d["bom-ref"] for d in datasets] + [f["bom-ref"] for f in files]
    bom["dependencies"] = [{"ref": "model", "dependsOn": children}] + [
        {"ref": ref} for ref in children
    ]
    return bom
