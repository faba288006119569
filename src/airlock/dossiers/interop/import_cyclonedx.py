"""Import a CycloneDX 1.6 ML-BOM (JSON): the `machine-learning-model` component, its
`modelCard`, the `data` components it references and `file` components' hashes.

The BOM is checked first against CycloneDX 1.6 with cyclonedx-python-lib's strict JSON
validator (its bundled schema), so a document of another format or version is refused before
any value is read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from airlock.dossiers.interop.common import Draft, Source, import_error, load_json
from airlock.dossiers.interop.cyclonedx_map import (
    BASE_MODEL_PROPERTIES,
    DATASET_LIST_PROPERTIES,
    DATASET_PROPERTIES,
    MODEL_LIST_PROPERTIES,
    MODEL_PROPERTIES,
    PROPERTY_PREFIX,
    parse_property,
)

MODALITIES: Final = ("text", "code", "image", "audio", "video", "structured_data", "actions")
# CycloneDX leaves these words free; other tools' common words mapped to the dossier's.
FORMATS: Final[Mapping[str, str]] = {
    **{m: m for m in MODALITIES},
    "string": "text",
    "tabular": "structured_data",
    "time-series": "structured_data",
}
ARCHITECTURES: Final[Mapping[str, str]] = {
    **{
        a: a
        for a in (
            "dense_transformer",
            "mixture_of_experts_transformer",
            "state_space",
            "hybrid",
            "diffusion",
            "other",
        )
    },
    "transformer": "dense_transformer",
    "mixture-of-experts": "mixture_of_experts_transformer",
    "moe": "mixture_of_experts_transformer",
    "state-space": "state_space",
}


def known_word(draft: Draft, table: Mapping[str, str], value: object, src: Source) -> str | None:
    """The dossier's word for a free-text value, or None (with a note) when there is none."""
    if value is None:
        return None
    word = table.get(str(value).strip().lower())
    if word is None:
        draft.notes.append(f"{src}: {str(value)[:60]!r} has no dossier equivalent; left out")
    return word


def _check(bom: Any, raw: bytes, top: Source) -> None:
    if not isinstance(bom, dict) or bom.get("bomFormat") != "CycloneDX":
        got = bom.get("bomFormat") if isinstance(bom, dict) else type(bom).__name__
        detail = f'must be "CycloneDX" (got {str(got)[:40]!r}); this is not a CycloneDX BOM'
        raise import_error(top.at("bomFormat"), "format", detail)
    if bom.get("specVersion") != "1.6":
        detail = f'must be "1.6" (got {str(bom.get("specVersion"))[:20]!r}); only 1.6 is read'
        raise import_error(top.at("specVersion"), "version", detail)
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    problem = JsonStrictValidator(SchemaVersion.V1_6).validate_str(raw.decode("utf-8-sig"))
    if problem is not None:
        data = getattr(problem, "data", None)
        where = "/" + "/".join(str(p) for p in getattr(data, "absolute_path", ()))
        message = getattr(data, "message", str(problem))
        detail = f"is not valid CycloneDX 1.6: {str(message)[:300]}"
        raise import_error(Source(top.file, "" if where == "/" else where), "schema", detail)


def _model(bom: Mapping[str, Any], top: Source) -> tuple[dict[str, Any], Source]:
    meta = bom.get("metadata") or {}
    component = meta.get("component")
    if isinstance(component, dict) and component.get("type") == "machine-learning-model":
        return component, top.at("metadata", "component")
    for i, comp in enumerate(bom.get("components") or []):
        if comp.get("type") == "machine-learning-model":
            return comp, top.at("components", i)
    detail = "has no component of type machine-learning-model"
    raise import_error(top.at("components"), "ml_bom", detail)


def _properties(
    holder: Mapping[str, Any],
    src: Source,
    scalars: Mapping[str, str],
    lists: tuple[str, ...],
) -> tuple[dict[str, tuple[object, Source]], dict[str, tuple[list[object], Source]]]:
    one: dict[str, tuple[object, Source]] = {}
    many: dict[str, tuple[list[object], Source]] = {}
    for i, prop in enumerate(holder.get("properties") or []):
        name = str(prop.get("name", ""))
        if not name.startswith(PROPERTY_PREFIX):
            continue
        key, text, at = (
            name.removeprefix(PROPERTY_PREFIX),
            str(prop.get("value", "")),
            src.at("properties", i, "value"),
        )
        if key in scalars and key not in one:
            value = parse_property(scalars[key], text)
            if value is None:
                raise import_error(at, "type", f"must be a {scalars[key]} (got {text[:40]!r})")
            one[key] = (value, at)
        elif key in lists:
            many.setdefault(key, ([], at))[0].append(text)
    return one, many


def import_cyclonedx(draft: Draft, raw: bytes, *, file: str) -> None:
    """Fill the draft from a CycloneDX 1.6 ML-BOM."""
    top = Source(file, "")
    bom = load_json(raw, file=file)
    _check(bom, raw, top)
    model, msrc = _model(bom, top)
    draft.set(("B", "model_name"), model.get("name"), msrc.at("name"))
    draft.set(("B", "model_family"), model.get("group"), msrc.at("group"))
    draft.set(("A", "summary"), model.get("description"), msrc.at("description"))
    supplier = model.get("supplier") or model.get("manufacturer") or {}
    ssrc = msrc.at("supplier" if model.get("supplier") else "manufacturer")
    draft.set(("A", "developer_name"), supplier.get("name"), ssrc.at("name"))
    if supplier.get("url"):
        draft.set(("A", "website"), supplier["url"][0], ssrc.at("url", 0))
    contacts = supplier.get("contact") or []
    if contacts:
        draft.set(("A", "contact_name"), contacts[0].get("name"), ssrc.at("contact", 0, "name"))
        draft.set(("A", "contact_email"), contacts[0].get("email"), ssrc.at("contact", 0, "email"))
    for i, lic in enumerate(model.get("licenses") or []):
        inner = lic.get("license") or {}
        name = inner.get("id") or inner.get("name") or lic.get("expression")
        key = "license" if "license" in lic else "expression"
        draft.set(("F", "model_licence"), name, msrc.at("licenses", i, key))
    version = model.get("version")
    if version:
        draft.set(("B", "versions", 0, "version"), version, msrc.at("version"))
    _files(draft, bom, top, has_version=draft.has("B", "versions", 0, "version"))
    ancestors = (model.get("pedigree") or {}).get("ancestors") or []
    for i, base in enumerate(ancestors):
        bsrc = msrc.at("pedigree", "ancestors", i)
        at = draft.index_of("B", "base_models", "name", base.get("name"))
        draft.set(("B", "base_models", at, "name"), base.get("name"), bsrc.at("name"))
        draft.set(("B", "base_models", at, "version"), base.get("version"), bsrc.at("version"))
        developer = (base.get("supplier") or {}).get("name")
        draft.set(("B", "base_models", at, "developer"), developer, bsrc.at("supplier", "name"))
        for h, digest in enumerate(base.get("hashes") or []):
            if digest.get("alg") == "SHA-256":
                hexed = f"sha256:{digest['content'].lower()}"
                draft.set(("B", "base_models", at, "digest"), hexed, bsrc.at("hashes", h))
        extra, _ = _properties(base, bsrc, BASE_MODEL_PROPERTIES, ())
        for key, (found, src) in extra.items():
            draft.set(("B", "base_models", at, key), found, src)
    card = model.get("modelCard") or {}
    _model_card(draft, bom, card, msrc.at("modelCard"), top)
    one, many = _properties(model, msrc, MODEL_PROPERTIES, MODEL_LIST_PROPERTIES)
    for path, (found, src) in one.items():
        draft.set(tuple(path.split(".")), found, src)
    for path, (values, src) in many.items():
        draft.set(tuple(path.split(".")), list(dict.fromkeys(values)), src)


def _files(draft: Draft, bom: Mapping[str, Any], top: Source, *, has_version: bool) -> None:
    found = 0
    for i, comp in enumerate(bom.get("components") or []):
        if comp.get("type") != "file":
            continue
        for h, digest in enumerate(comp.get("hashes") or []):
            if digest.get("alg") != "SHA-256":
                continue
            if not has_version:
                draft.notes.append(f"{top.at('components', i)}: a hash needs a model version")
                return
            src = top.at("components", i)
            base = ("B", "versions", 0, "authenticity_hashes", found)
            draft.set((*base, "artifact"), comp.get("name"), src.at("name"))
            draft.set((*base, "digest"), f"sha256:{digest['content'].lower()}", src.at("hashes", h))
            found += 1


def _model_card(
    draft: Draft, bom: Mapping[str, Any], card: Mapping[str, Any], csrc: Source, top: Source
) -> None:
    params = card.get("modelParameters") or {}
    psrc = csrc.at("modelParameters")
    family = known_word(
        draft, ARCHITECTURES, params.get("architectureFamily"), psrc.at("architectureFamily")
    )
    draft.set(("C", "architecture"), family, psrc.at("architectureFamily"))
    draft.set(
        ("C", "architecture_description"),
        params.get("modelArchitecture"),
        psrc.at("modelArchitecture"),
    )
    for key, path in (("inputs", "input_modalities"), ("outputs", "output_modalities")):
        formats = [
            word
            for i, p in enumerate(params.get(key) or [])
            if (word := known_word(draft, FORMATS, p.get("format"), psrc.at(key, i, "format")))
        ]
        draft.set(("C", path), list(dict.fromkeys(formats)), psrc.at(key))
    by_ref = {
        c.get("bom-ref"): (i, c)
        for i, c in enumerate(bom.get("components") or [])
        if c.get("type") == "data" and c.get("bom-ref")
    }
    for i, entry in enumerate(params.get("datasets") or []):
        if "ref" in entry:
            found = by_ref.get(entry["ref"])
            if found is None:
                detail = f"refers to {str(entry['ref'])[:60]!r}, which no data component has"
                raise import_error(psrc.at("datasets", i, "ref"), "ref", detail)
            index, comp = found
            _dataset(draft, comp, top.at("components", index))
        else:
            _dataset(draft, {"name": entry.get("name"), "data": [entry]}, psrc.at("datasets", i))
    qsrc = csrc.at("quantitativeAnalysis", "performanceMetrics")
    metrics = (card.get("quantitativeAnalysis") or {}).get("performanceMetrics") or []
    for i, metric in enumerate(metrics):
        try:
            score = float(metric.get("value", ""))
        except ValueError:
            draft.notes.append(f"{qsrc.at(i, 'value')}: not a number; left out")
            continue
        at = len(draft.sections.get("G", {}).get("evaluations", []))
        name = metric.get("slice") or metric.get("type")
        draft.set(("G", "evaluations", at, "name"), name, qsrc.at(i, "slice"))
        draft.set(("G", "evaluations", at, "metric"), metric.get("type"), qsrc.at(i, "type"))
        value: int | float = (
            int(score) if score.is_integer() and "." not in metric["value"] else score
        )
        draft.set(("G", "evaluations", at, "score"), value, qsrc.at(i, "value"))
    considerations = card.get("considerations") or {}
    ksrc = csrc.at("considerations")
    uses = [u for u in considerations.get("useCases") or [] if isinstance(u, str)]
    draft.set(("F", "intended_uses"), list(dict.fromkeys(uses)), ksrc.at("useCases"))
    energy = (considerations.get("environmentalConsiderations") or {}).get("energyConsumptions")
    for i, use in enumerate(energy or []):
        if use.get("activity") != "training":
            continue
        esrc = ksrc.at("environmentalConsiderations", "energyConsumptions", i)
        cost = use.get("activityEnergyCost") or {}
        if cost.get("unit") == "kWh":
            draft.set(("D", "energy_kwh"), cost.get("value"), esrc.at("activityEnergyCost"))
        co2 = use.get("co2CostEquivalent") or {}
        if co2.get("unit") == "tCO2eq":
            draft.set(("D", "emissions_tco2e"), co2.get("value"), esrc.at("co2CostEquivalent"))


def _dataset(draft: Draft, comp: Mapping[str, Any], src: Source) -> None:
    name = comp.get("name")
    at = draft.index_of("E", "datasets", "name", name)
    base = ("E", "datasets", at)
    draft.set((*base, "name"), name, src.at("name"))
    data = (comp.get("data") or [{}])[0]
    dsrc = src.at("data", 0)
    draft.set((*base, "description"), data.get("description"), dsrc.at("description"))
    url = (data.get("contents") or {}).get("url")
    draft.set((*base, "source"), url, dsrc.at("contents", "url"))
    sensitive = data.get("sensitiveData") or []
    for i, lic in enumerate(comp.get("licenses") or []):
        inner = lic.get("license") or {}
        value = inner.get("id") or inner.get("name")
        draft.set((*base, "licence"), value, src.at("licenses", i, "license"))
    one, many = _properties(comp, src, DATASET_PROPERTIES, DATASET_LIST_PROPERTIES)
    for key, (value, psrc) in one.items():
        draft.set((*base, key), value, psrc)
    for key, (values, psrc) in many.items():
        draft.set((*base, key), list(dict.fromkeys(values)), psrc)
    if sensitive and "personal_data" not in one:
        draft.set((*base, "personal_data"), "present", dsrc.at("sensitiveData"))
    if sensitive and "personal_data_measures" not in one:
        draft.set((*base, "personal_data_measures"), sensitive[0], dsrc.at("sensitiveData", 0))
