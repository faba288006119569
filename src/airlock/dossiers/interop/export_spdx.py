"""Export a dossier as an SPDX 3.0.1 JSON-LD document with the AI and Dataset profiles:
an `ai_AIPackage` for the model, a `dataset_DatasetPackage` per dataset linked by `trainedOn`,
`software_File`s with the artifacts' SHA-256 linked by `contains`, base models by
`descendantOf`. Built as plain dicts (tests check it with spdx-python-model). Pure."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from airlock.dossiers.interop.common import View, item_value
from airlock.dossiers.interop.spdx_map import CONTEXT, DATASET_TYPES, HYPERPARAMETERS, PERSONAL

_URL = re.compile(r"^https?://\S+$")
_LICENSE_ID = re.compile(r"^[A-Za-z0-9.+-]+( (AND|OR|WITH) [A-Za-z0-9.+-]+)*$")
_CI = "_:creationinfo"


def _date(value: object) -> str | None:
    return f"{value}T00:00:00Z" if isinstance(value, str) and len(value) == 10 else None


def _hash(digest: object) -> list[dict[str, str]]:
    if isinstance(digest, str) and digest.startswith("sha256:"):
        return [
            {"type": "Hash", "algorithm": "sha256", "hashValue": digest.removeprefix("sha256:")}
        ]
    return []


class _Graph:
    def __init__(self, base: str) -> None:
        self.base = base
        self.elements: list[dict[str, Any]] = []
        self.count = 0

    def add(self, kind: str, suffix: str, **props: Any) -> str:
        spdx_id = f"{self.base}/{suffix}"
        element = {"type": kind, "spdxId": spdx_id, "creationInfo": _CI}
        element.update({k: v for k, v in props.items() if v not in (None, [], "")})
        self.elements.append(element)
        return spdx_id

    def relate(self, source: str, kind: str, targets: list[str]) -> None:
        if targets:
            self.count += 1
            self.add(
                "Relationship",
                f"relationship-{self.count}",
                relationshipType=kind,
                to=targets,
                **{"from": source},
            )


def _entries(pairs: list[tuple[str, object]]) -> list[dict[str, str]]:
    return [
        {"type": "DictionaryEntry", "key": key, "value": str(value)}
        for key, value in pairs
        if value is not None
    ]


def export_spdx(doc: dict[str, Any], *, now: datetime | None = None) -> dict[str, Any]:
    """Return an audience-filtered dossier as an SPDX 3.0.1 JSON-LD document (a dict)."""
    view = View(doc)
    graph = _Graph(f"urn:airlock:spdx:{uuid.uuid4()}")
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    org = graph.add(
        "Organization", "developer", name=view.get("A.developer_name") or "not provided"
    )
    versions = view.items("B.versions")
    first = versions[0] if versions else {}
    release = item_value(first, "release_date") or item_value(first, "planned_release_date")
    metrics = [
        (f"{item_value(e, 'name')}: {item_value(e, 'metric') or 'score'}", item_value(e, "score"))
        for e in view.items("G.evaluations")
        if item_value(e, "name")
    ]
    hyper = [(key, view.get(path)) for key, (path, _) in HYPERPARAMETERS.items()]
    personal = [item_value(d, "personal_data") for d in view.items("E.datasets")]
    energy = view.get("D.energy_kwh")
    model = graph.add(
        "ai_AIPackage",
        "model",
        name=view.get("B.model_name") or "unnamed model",
        description=view.get("A.summary"),
        software_packageVersion=item_value(first, "version"),
        releaseTime=_date(release),
        suppliedBy=org,
        originatedBy=[org],
        software_primaryPurpose="model",
        software_downloadLocation=view.get("A.website"),
        ai_typeOfModel=[view.get("C.architecture")] if view.get("C.architecture") else None,
        ai_informationAboutApplication=view.get("F.downstream_integration"),
        ai_informationAboutTraining=view.get("E.summary"),
        ai_metric=_entries(metrics),
        ai_hyperparameter=_entries(hyper),
        ai_useSensitivePersonalInformation=(
            "yes" if {"present", "present_minimised"} & set(personal) else None
        ),
        ai_energyConsumption=(
            {
                "type": "ai_EnergyConsumption",
                "ai_trainingEnergyConsumption": [
                    {
                        "type": "ai_EnergyConsumptionDescription",
                        "ai_energyQuantity": float(energy),
                        "ai_energyUnit": "kilowattHour",
                    }
                ],
            }
            if energy is not None
            else None
        ),
    )
    licence = view.get("F.model_licence")
    if isinstance(licence, str) and _LICENSE_ID.match(licence):
        lic = graph.add(
            "simplelicensing_LicenseExpression",
            "licence",
            simplelicensing_licenseExpression=licence,
        )
        graph.relate(model, "hasDeclaredLicense", [lic])
    files = [
        graph.add(
            "software_File",
            f"artifact-{i}",
            name=item_value(h, "artifact") or f"artifact {i + 1}",
            verifiedUsing=_hash(item_value(h, "digest")),
        )
        for i, h in enumerate(first.get("authenticity_hashes", []) if first else [])
        if _hash(item_value(h, "digest"))
    ]
    graph.relate(model, "contains", files)
    datasets = []
    for i, item in enumerate(view.items("E.datasets")):
        modalities = item_value(item, "modalities") or []
        source = item_value(item, "source")
        datasets.append(
            graph.add(
                "dataset_DatasetPackage",
                f"dataset-{i}",
                name=item_value(item, "name") or f"dataset {i + 1}",
                description=item_value(item, "description"),
                software_primaryPurpose="data",
                software_downloadLocation=source
                if isinstance(source, str) and _URL.match(source)
                else None,
                dataset_datasetType=sorted({DATASET_TYPES[m] for m in modalities})
                or ["noAssertion"],
                dataset_datasetSize=item_value(item, "size_bytes"),
                dataset_dataCollectionProcess=item_value(item, "provenance"),
                dataset_dataPreprocessing=[item_value(item, "curation")]
                if item_value(item, "curation")
                else None,
                dataset_hasSensitivePersonalInformation=PERSONAL.get(
                    str(item_value(item, "personal_data"))
                ),
                dataset_anonymizationMethodUsed=(
                    [item_value(item, "personal_data_measures")]
                    if item_value(item, "personal_data_measures")
                    else None
                ),
            )
        )
    graph.relate(model, "trainedOn", datasets)
    bases = [
        graph.add(
            "ai_AIPackage",
            f"base-model-{i}",
            name=item_value(b, "name"),
            software_packageVersion=item_value(b, "version"),
            verifiedUsing=_hash(item_value(b, "digest")),
        )
        for i, b in enumerate(view.items("B.base_models"))
        if item_value(b, "name")
    ]
    graph.relate(model, "descendantOf", bases)
    ids = [e["spdxId"] for e in graph.elements]
    graph.add(
        "SpdxDocument",
        "document",
        name=f"Airlock dossier of {view.get('B.model_name') or 'a model'}",
        profileConformance=["core", "software", "ai", "dataset", "simpleLicensing"],
        rootElement=[model],
        element=ids,
    )
    creation = {
        "type": "CreationInfo",
        "@id": _CI,
        "specVersion": "3.0.1",
        "created": stamp,
        "createdBy": [org],
    }
    return {"@context": CONTEXT, "@graph": [creation, *graph.elements]}
