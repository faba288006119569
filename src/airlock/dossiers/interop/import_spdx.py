"""Import an SPDX 3.0.1 JSON-LD document with the AI and Dataset profiles.

The document's shape (context, profiles) is checked by hand so errors name a pointer, then
spdx-python-model decodes it (refusing unknown types and ill-typed properties) before values
are read from the JSON itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from airlock.dossiers.interop.common import Draft, Source, import_error, load_json
from airlock.dossiers.interop.import_cyclonedx import ARCHITECTURES, known_word
from airlock.dossiers.interop.spdx_map import (
    CONTEXT,
    FROM_DATASET_TYPE,
    FROM_PERSONAL,
    HYPERPARAMETERS,
    PROFILES,
)

PROVENANCES: Final[Mapping[str, str]] = {
    p: p
    for p in (
        "web_crawl",
        "licensed",
        "public_dataset",
        "user_data",
        "synthetic",
        "proprietary",
        "other",
    )
}


def _check(doc: Any, top: Source) -> list[dict[str, Any]]:
    if not isinstance(doc, dict) or doc.get("@context") != CONTEXT:
        got = doc.get("@context") if isinstance(doc, dict) else None
        detail = f"must be {CONTEXT!r} (got {str(got)[:80]!r}); only SPDX 3.0.1 is read"
        raise import_error(top.at("@context"), "version", detail)
    graph = doc.get("@graph")
    if not isinstance(graph, list) or not all(isinstance(e, dict) for e in graph):
        raise import_error(top.at("@graph"), "type", "must be a list of objects")
    for i, element in enumerate(graph):
        profiles = element.get("profileConformance") or []
        if not isinstance(profiles, list):
            detail = "must be a list of profile names"
            raise import_error(top.at("@graph", i, "profileConformance"), "type", detail)
        for k, profile in enumerate(profiles):
            if not isinstance(profile, str) or profile not in PROFILES:
                detail = f"{str(profile)[:40]!r} is not an SPDX 3.0.1 profile"
                raise import_error(top.at("@graph", i, "profileConformance", k), "profile", detail)
    from spdx_python_model import v3_0_1 as spdx

    try:
        spdx.JSONLDDeserializer().deserialize_data(doc, spdx.SHACLObjectSet())
    except Exception as exc:  # the decoder raises type, value and key errors alike
        detail = f"is not valid SPDX 3.0.1: {str(exc)[:300] or type(exc).__name__}"
        raise import_error(top.at("@graph"), "spdx", detail) from None
    return graph


def _objects(value: object) -> list[tuple[int, dict[str, Any]]]:
    """The inline objects of a property (with their index); references by id are skipped."""
    items = value if isinstance(value, list) else [value]
    return [(i, item) for i, item in enumerate(items) if isinstance(item, dict)]


def _strings(value: object) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, str)]


def _object(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _number(text: object) -> int | float | None:
    try:
        value = float(str(text))
    except ValueError:
        return None
    return (
        int(value)
        if value.is_integer() and "." not in str(text) and "e" not in str(text)
        else value
    )


def import_spdx(draft: Draft, raw: bytes, *, file: str) -> None:
    """Fill the draft from an SPDX 3.0.1 document's AI and dataset packages."""
    top = Source(file, "")
    graph = _check(load_json(raw, file=file), top)
    by_id = {e["spdxId"]: (i, e) for i, e in enumerate(graph) if isinstance(e.get("spdxId"), str)}
    roots = [
        r for e in graph if e.get("type") == "SpdxDocument" for r in e.get("rootElement") or []
    ]
    models = [(i, e) for i, e in enumerate(graph) if e.get("type") == "ai_AIPackage"]
    chosen = next((m for m in models if m[1].get("spdxId") in roots), models[0] if models else None)
    if chosen is None:
        raise import_error(top.at("@graph"), "ai_profile", "has no ai_AIPackage")
    index, model = chosen
    msrc = top.at("@graph", index)
    _model(draft, model, msrc, by_id, top)
    for i, rel in enumerate(graph):
        if rel.get("type") != "Relationship" or rel.get("from") != model.get("spdxId"):
            continue
        if not isinstance(rel.get("to"), list):
            continue
        for target in rel.get("to") or []:
            if not isinstance(target, str) or target not in by_id:
                detail = f"refers to {str(target)[:80]!r}, which the document does not hold"
                raise import_error(top.at("@graph", i, "to"), "ref", detail)
            at, element = by_id[target]
            esrc = top.at("@graph", at)
            kind = rel.get("relationshipType")
            if kind == "trainedOn" and element.get("type") == "dataset_DatasetPackage":
                _dataset(draft, element, esrc)
            elif kind == "contains" and element.get("type") == "software_File":
                _file(draft, element, esrc)
            elif kind == "descendantOf":
                _base(draft, element, esrc)
            elif kind == "hasDeclaredLicense":
                expr = element.get("simplelicensing_licenseExpression")
                draft.set(
                    ("F", "model_licence"), expr, esrc.at("simplelicensing_licenseExpression")
                )


def _model(
    draft: Draft,
    model: Mapping[str, Any],
    msrc: Source,
    by_id: Mapping[Any, tuple[int, dict[str, Any]]],
    top: Source,
) -> None:
    draft.set(("B", "model_name"), model.get("name"), msrc.at("name"))
    draft.set(("A", "summary"), model.get("description"), msrc.at("description"))
    version = model.get("software_packageVersion")
    draft.set(("B", "versions", 0, "version"), version, msrc.at("software_packageVersion"))
    release = model.get("releaseTime")
    if version and isinstance(release, str):
        draft.set(("B", "versions", 0, "release_date"), release[:10], msrc.at("releaseTime"))
    supplied_by = model.get("suppliedBy")
    supplier = by_id.get(supplied_by) if isinstance(supplied_by, str) else None
    if supplier and supplier[1].get("name") != "not provided":
        at, org = supplier
        draft.set(("A", "developer_name"), org.get("name"), top.at("@graph", at, "name"))
    draft.set(
        ("A", "website"),
        model.get("software_downloadLocation"),
        msrc.at("software_downloadLocation"),
    )
    kinds = _strings(model.get("ai_typeOfModel"))
    if kinds:
        word = known_word(draft, ARCHITECTURES, kinds[0], msrc.at("ai_typeOfModel", 0))
        draft.set(("C", "architecture"), word, msrc.at("ai_typeOfModel", 0))
    draft.set(
        ("F", "downstream_integration"),
        model.get("ai_informationAboutApplication"),
        msrc.at("ai_informationAboutApplication"),
    )
    draft.set(
        ("E", "summary"),
        model.get("ai_informationAboutTraining"),
        msrc.at("ai_informationAboutTraining"),
    )
    for i, entry in _objects(model.get("ai_hyperparameter")):
        known = HYPERPARAMETERS.get(str(entry.get("key")))
        value = _number(entry.get("value"))
        if known and value is not None:
            path, kind = known
            typed = float(value) if kind == "float" else value
            draft.set(tuple(path.split(".")), typed, msrc.at("ai_hyperparameter", i, "value"))
    for i, entry in _objects(model.get("ai_metric")):
        key, value = str(entry.get("key", "")), _number(entry.get("value"))
        if value is None:
            continue
        name, _, metric = key.rpartition(": ")
        at = len(draft.sections.get("G", {}).get("evaluations", []))
        src = msrc.at("ai_metric", i)
        draft.set(("G", "evaluations", at, "name"), name or key, src.at("key"))
        draft.set(("G", "evaluations", at, "metric"), metric if name else None, src.at("key"))
        draft.set(("G", "evaluations", at, "score"), value, src.at("value"))
    energy = _object(model.get("ai_energyConsumption")).get("ai_trainingEnergyConsumption")
    for i, use in _objects(energy):
        if use.get("ai_energyUnit") == "kilowattHour":
            esrc = msrc.at("ai_energyConsumption", "ai_trainingEnergyConsumption", i)
            draft.set(
                ("D", "energy_kwh"), use.get("ai_energyQuantity"), esrc.at("ai_energyQuantity")
            )
            break


def _dataset(draft: Draft, element: Mapping[str, Any], src: Source) -> None:
    at = draft.index_of("E", "datasets", "name", element.get("name"))
    base = ("E", "datasets", at)
    draft.set((*base, "name"), element.get("name"), src.at("name"))
    draft.set((*base, "description"), element.get("description"), src.at("description"))
    draft.set(
        (*base, "source"),
        element.get("software_downloadLocation"),
        src.at("software_downloadLocation"),
    )
    types = [
        FROM_DATASET_TYPE[t]
        for t in _strings(element.get("dataset_datasetType"))
        if t in FROM_DATASET_TYPE
    ]
    draft.set((*base, "modalities"), list(dict.fromkeys(types)), src.at("dataset_datasetType"))
    draft.set(
        (*base, "size_bytes"), element.get("dataset_datasetSize"), src.at("dataset_datasetSize")
    )
    psrc = src.at("dataset_dataCollectionProcess")
    provenance = element.get("dataset_dataCollectionProcess")
    draft.set((*base, "provenance"), known_word(draft, PROVENANCES, provenance, psrc), psrc)
    steps = _strings(element.get("dataset_dataPreprocessing"))
    if steps:
        draft.set((*base, "curation"), "\n\n".join(steps), src.at("dataset_dataPreprocessing"))
    personal = FROM_PERSONAL.get(str(element.get("dataset_hasSensitivePersonalInformation")))
    draft.set((*base, "personal_data"), personal, src.at("dataset_hasSensitivePersonalInformation"))
    measures = _strings(element.get("dataset_anonymizationMethodUsed"))
    if measures:
        draft.set(
            (*base, "personal_data_measures"),
            measures[0],
            src.at("dataset_anonymizationMethodUsed", 0),
        )


def _file(draft: Draft, element: Mapping[str, Any], src: Source) -> None:
    if not draft.has("B", "versions", 0, "version"):
        draft.notes.append(f"{src}: an artifact hash needs a model version; left out")
        return
    for h, digest in _objects(element.get("verifiedUsing")):
        if digest.get("algorithm") == "sha256":
            versions = draft.sections.get("B", {}).get("versions", [{}])
            at = len(versions[0].get("authenticity_hashes", []))
            base = ("B", "versions", 0, "authenticity_hashes", at)
            draft.set((*base, "artifact"), element.get("name"), src.at("name"))
            value = f"sha256:{str(digest.get('hashValue')).lower()}"
            draft.set((*base, "digest"), value, src.at("verifiedUsing", h, "hashValue"))


def _base(draft: Draft, element: Mapping[str, Any], src: Source) -> None:
    at = draft.index_of("B", "base_models", "name", element.get("name"))
    draft.set(("B", "base_models", at, "name"), element.get("name"), src.at("name"))
    draft.set(
        ("B", "base_models", at, "version"),
        element.get("software_packageVersion"),
        src.at("software_packageVersion"),
    )
    for h, digest in _objects(element.get("verifiedUsing")):
        if digest.get("algorithm") == "sha256":
            value = f"sha256:{str(digest.get('hashValue')).lower()}"
            draft.set(("B", "base_models", at, "digest"), value, src.at("verifiedUsing", h))
