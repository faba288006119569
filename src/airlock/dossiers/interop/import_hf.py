"""Import a Hugging Face model folder's documentation: the model card (YAML front matter and
Markdown sections, parsed by `huggingface_hub`), `config.json`, `generation_config.json`, and
safetensors headers (parameter count and SHA-256, read from bytes, never loaded).

Pointers: front-matter keys as in the YAML (`/language`, `/model-index/0/results/0`), Markdown
sections as `/markdown/<heading>`, config keys as in the JSON.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import struct
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Final

from airlock.dossiers.interop.common import (
    MAX_FILE_BYTES,
    Draft,
    Source,
    import_error,
    load_json,
    pointer,
)

MAX_FRONT_MATTER_BYTES: Final = 256 * 1024
MAX_SAFETENSORS_HEADER: Final = 16 * 1024 * 1024
MAX_TENSORS: Final = 1_000_000
_PLACEHOLDER: Final = "[more information needed]"
_LANGUAGE: Final = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_EMAIL: Final = re.compile(r"[^@\s<>()\[\]]+@[^@\s<>()\[\]]+\.[A-Za-z]{2,}")
_BULLET: Final = re.compile(r"^\s*[-*]\s+\*\*(?P<key>[^*]+?):?\*\*:?\s*(?P<value>.*)$")
_HEADING: Final = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")

# pipeline_tag -> (input modalities, output modalities)
PIPELINE_MODALITIES: Final[Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "text-generation": (("text",), ("text",)),
    "text2text-generation": (("text",), ("text",)),
    "translation": (("text",), ("text",)),
    "summarization": (("text",), ("text",)),
    "question-answering": (("text",), ("text",)),
    "fill-mask": (("text",), ("text",)),
    "text-classification": (("text",), ("structured_data",)),
    "token-classification": (("text",), ("structured_data",)),
    "feature-extraction": (("text",), ("structured_data",)),
    "image-text-to-text": (("text", "image"), ("text",)),
    "image-to-text": (("image",), ("text",)),
    "text-to-image": (("text",), ("image",)),
    "image-classification": (("image",), ("structured_data",)),
    "automatic-speech-recognition": (("audio",), ("text",)),
    "text-to-speech": (("text",), ("audio",)),
    "text-to-audio": (("text",), ("audio",)),
    "text-to-video": (("text",), ("video",)),
    "video-text-to-text": (("text", "video"), ("text",)),
}
BASE_RELATIONS: Final[Mapping[str, str]] = {
    "finetune": "fine_tune",
    "adapter": "adapter",
    "merge": "merge",
    "quantized": "quantization",
}
# config.json keys, in order of preference, for each dossier field of section C.
CONFIG_KEYS: Final[Mapping[str, tuple[str, ...]]] = {
    "layers": ("num_hidden_layers", "n_layer", "num_layers"),
    "hidden_size": ("hidden_size", "n_embd", "d_model"),
    "attention_heads": ("num_attention_heads", "n_head", "num_heads"),
    "context_length": ("max_position_embeddings", "n_positions", "max_seq_len", "seq_length"),
    "vocabulary_size": ("vocab_size",),
    "experts_total": ("num_local_experts", "n_routed_experts", "num_experts"),
    "experts_active": ("num_experts_per_tok", "moe_topk", "num_selected_experts"),
}
_STATE_SPACE: Final = frozenset({"mamba", "mamba2", "rwkv", "rwkv5", "rwkv6", "xlstm"})
_HYBRID: Final = frozenset({"jamba", "zamba", "zamba2", "falcon_h1", "bamba", "nemotron_h"})


def _text(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    return None if not value or value.lower() == _PLACEHOLDER else value


def _short(value: object) -> str | None:
    text = _text(value)
    return text if text is not None and len(text) <= 500 else None


def _as_list(value: object) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


# --- the model card --------------------------------------------------------------------


def _check_yaml(block: str, src: Source) -> None:
    """Refuse front matter whose aliases could expand without bound, before it is parsed."""
    import yaml

    if len(block.encode("utf-8")) > MAX_FRONT_MATTER_BYTES:
        detail = f"front matter is over the limit of {MAX_FRONT_MATTER_BYTES:,} bytes"
        raise import_error(src, "max_bytes", detail)
    try:
        for token in yaml.scan(block):
            if isinstance(token, yaml.AliasToken | yaml.AnchorToken):
                line = token.start_mark.line + 2  # the block starts after the opening ---
                detail = f"front matter uses a YAML anchor or alias (line {line}), not allowed"
                raise import_error(src, "yaml_alias", detail)
        # Parsed here as well as by the card parser, so an error can name its line.
        yaml.safe_load(block)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 2} column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise import_error(
            src, "yaml", f"front matter is not valid YAML{where}: {problem}"
        ) from None


def _markdown_sections(body: str) -> dict[str, str]:
    """Map each heading's title to the text under it (up to the next heading)."""
    sections: dict[str, str] = {}
    title = ""
    lines: list[str] = []
    in_code = False
    for line in body.splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
        match = None if in_code else _HEADING.match(line)
        if match:
            if title and title not in sections:
                sections[title] = "\n".join(lines).strip()
            title, lines = match.group(2).strip(), []
        else:
            lines.append(line)
    if title and title not in sections:
        sections[title] = "\n".join(lines).strip()
    return sections


def _find(sections: Mapping[str, str], *names: str) -> tuple[str, str] | None:
    """The first section whose title starts with one of names (case-insensitive)."""
    for name in names:
        for title, text in sections.items():
            if title.lower().startswith(name.lower()) and _text(text):
                return title, text
    return None


def _bullets(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in text.splitlines():
        match = _BULLET.match(line)
        if match:
            value = _text(match.group("value"))
            if value:
                found.setdefault(match.group("key").strip().lower(), value)
    return found


def _list_items(text: str) -> list[str]:
    """Bullet items, or else paragraphs, of a section's text (placeholders and comments out)."""
    text = re.sub(r"<!--.*?-->", "", text, flags=re.DOTALL)
    items = [m.group(1).strip() for m in re.finditer(r"^\s*[-*]\s+(.+)$", text, re.MULTILINE)]
    if not items:
        items = [p.strip().replace("\n", " ") for p in re.split(r"\n\s*\n", text)]
    return [i for i in items if _text(i) and not i.startswith("#")]


def _card_data(text: str, file: str) -> tuple[dict[str, Any], str]:
    from huggingface_hub import ModelCard
    from huggingface_hub.repocard import REGEX_YAML_BLOCK

    src = Source(file, "")
    match = REGEX_YAML_BLOCK.search(text)
    if match:
        _check_yaml(match.group(2), src)
    try:
        card = ModelCard(text, ignore_metadata_errors=False)
        data: dict[str, Any] = card.data.to_dict()  # type: ignore[no-untyped-call]
    except Exception as exc:  # the parser raises yaml, value and type errors alike
        detail = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
        raise import_error(src, "model_card", f"is not a valid model card: {detail}") from None
    return data, str(card.text)


def import_model_card(draft: Draft, raw: bytes, *, file: str) -> None:
    """Fill the draft from a Hugging Face model card (README.md)."""
    top = Source(file, "")
    if len(raw) > MAX_FILE_BYTES:
        detail = f"is {len(raw):,} bytes, over the limit of {MAX_FILE_BYTES:,}"
        raise import_error(top, "max_bytes", detail)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise import_error(top, "encoding", f"is not UTF-8 (byte {exc.start})") from None
    data, body = _card_data(text, file)
    _front_matter(draft, data, top)
    _body(draft, _markdown_sections(body), body, top)


def _front_matter(draft: Draft, data: Mapping[str, Any], top: Source) -> None:
    index = data.get("model-index")
    name = _short(data.get("model_name"))
    name_src = top.at("model_name")
    if name is None and isinstance(index, list) and index and isinstance(index[0], dict):
        name, name_src = _short(index[0].get("name")), top.at("model-index", 0, "name")
    draft.set(("B", "model_name"), name, name_src)
    languages = [lang for lang in _as_list(data.get("language")) if isinstance(lang, str)]
    good = list(dict.fromkeys(lang for lang in languages if _LANGUAGE.match(lang)))
    for bad in sorted(set(languages) - set(good)):
        draft.notes.append(f"{top.at('language')}: {bad!r} is not a BCP 47 tag; left out")
    draft.set(("C", "languages"), good[:500], top.at("language"))
    licence, key = data.get("license"), "license"
    if licence == "other" and _short(data.get("license_name")):
        licence, key = data.get("license_name"), "license_name"
    draft.set(("F", "model_licence"), _short(licence), top.at(key))
    relation = BASE_RELATIONS.get(str(data.get("base_model_relation", "")), "")
    for i, base in enumerate(_as_list(data.get("base_model"))[:100]):
        if _short(base):
            at = draft.index_of("B", "base_models", "name", base)
            src = (
                top.at("base_model", i)
                if isinstance(data["base_model"], list)
                else top.at("base_model")
            )
            draft.set(("B", "base_models", at, "name"), base, src)
            if relation:
                draft.set(
                    ("B", "base_models", at, "relation"), relation, top.at("base_model_relation")
                )
    for i, ds in enumerate(_as_list(data.get("datasets"))[:1000]):
        if _short(ds):
            at = draft.index_of("E", "datasets", "name", ds)
            draft.set(("E", "datasets", at, "name"), ds, top.at("datasets", i))
    modalities = PIPELINE_MODALITIES.get(str(data.get("pipeline_tag", "")))
    if modalities:
        draft.set(("C", "input_modalities"), list(modalities[0]), top.at("pipeline_tag"))
        draft.set(("C", "output_modalities"), list(modalities[1]), top.at("pipeline_tag"))
    if isinstance(index, list):
        _model_index(draft, index, top)
    _emissions(draft, data.get("co2_eq_emissions"), top.at("co2_eq_emissions"))
    for key in ("library_name", "tags", "widget", "inference", "new_version", "metrics"):
        if data.get(key):
            draft.notes.append(f"{top.at(key)}: no dossier field carries {key}; not imported")


def _model_index(draft: Draft, index: list[Any], top: Source) -> None:
    for m, entry in enumerate(index[:100]):
        results = entry.get("results") if isinstance(entry, dict) else None
        for r, result in enumerate(_as_list(results)[:1000]):
            if not isinstance(result, dict):
                continue
            raw_dataset = result.get("dataset")
            dataset: dict[str, Any] = raw_dataset if isinstance(raw_dataset, dict) else {}
            bench = _short(dataset.get("name")) or _short(dataset.get("type"))
            for k, metric in enumerate(_as_list(result.get("metrics"))[:100]):
                if not isinstance(metric, dict) or bench is None:
                    continue
                src = top.at("model-index", m, "results", r, "metrics", k)
                score = metric.get("value")
                if not isinstance(score, int | float) or isinstance(score, bool):
                    draft.notes.append(f"{src}/value: not a number; left out")
                    continue
                at = len(draft.sections.get("G", {}).get("evaluations", []))
                bsrc = top.at("model-index", m, "results", r, "dataset", "name")
                draft.set(("G", "evaluations", at, "name"), bench, bsrc)
                metric_name = _short(metric.get("name")) or _short(metric.get("type"))
                draft.set(("G", "evaluations", at, "metric"), metric_name, src.at("type"))
                draft.set(("G", "evaluations", at, "score"), score, src.at("value"))
                draft.set(("G", "evaluations", at, "category"), "capability", src)
                revision = _short(dataset.get("revision"))
                dsrc = top.at("model-index", m, "results", r, "dataset", "revision")
                draft.set(("G", "evaluations", at, "benchmark_version"), revision, dsrc)


def _emissions(draft: Draft, raw: object, src: Source) -> None:
    grams: object = raw
    if isinstance(raw, dict):
        grams = raw.get("emissions")
        src_e = src.at("emissions")
        hardware = _short(raw.get("hardware_used"))
        draft.set(("D", "hardware", "accelerator"), hardware, src.at("hardware_used"))
    else:
        src_e = src
    if isinstance(grams, int | float) and not isinstance(grams, bool) and grams >= 0:
        # Hugging Face cards state grams of CO2; the dossier states tonnes.
        draft.set(("D", "emissions_tco2e"), grams / 1_000_000, src_e)


def _body(draft: Draft, sections: Mapping[str, str], body: str, top: Source) -> None:
    def at(title: str) -> Source:
        return top.at("markdown", title)

    for match in re.finditer(r"^#\s+(?:Model Card for\s+)?(.+?)\s*$", body, re.MULTILINE):
        title = match.group(1).strip()
        draft.set(("B", "model_name"), _short(title), at(match.group(0).lstrip("# ").strip()))
        break
    found = _find(sections, "Model Description")
    if found:
        title, text = found
        bullets = _bullets(text)
        draft.set(("A", "developer_name"), _short(bullets.get("developed by")), at(title))
        if "license" in bullets:
            draft.set(("F", "model_licence"), _short(bullets["license"]), at(title))
        base = _short(bullets.get("finetuned from model"))
        if base:
            i = draft.index_of("B", "base_models", "name", base)
            draft.set(("B", "base_models", i, "name"), base, at(title))
        prose = [p for p in _list_items(re.sub(r"^\s*[-*]\s+\*\*.*$", "", text, flags=re.M))]
        if prose and len(prose[0]) <= 20000:
            draft.set(("A", "summary"), prose[0], at(title))
    for names, path in (
        (("Direct Use",), ("F", "intended_uses")),
        (("Out-of-Scope Use", "Out of Scope Use"), ("F", "prohibited_uses")),
    ):
        found = _find(sections, *names)
        if found:
            items = _list_items(found[1])
            kept = list(dict.fromkeys(i for i in items if len(i) <= 500))[:200]
            if len(kept) < len(items):
                draft.notes.append(f"{at(found[0])}: items over 500 characters left out")
            draft.set(path, kept, at(found[0]))
    for names, path in (
        (("Downstream Use",), ("F", "downstream_integration")),
        (("Training Data",), ("E", "summary")),
    ):
        found = _find(sections, *names)
        if found and len(found[1]) <= 20000:
            draft.set(path, found[1], at(found[0]))
    found = _find(sections, "Environmental Impact")
    if found:
        bullets = _bullets(found[1])
        draft.set(
            ("D", "hardware", "accelerator"), _short(bullets.get("hardware type")), at(found[0])
        )
        hours = _number(bullets.get("hours used"))
        draft.set(("D", "hardware", "training_hours"), hours, at(found[0]))
        provider = _short(bullets.get("cloud provider"))
        draft.set(("D", "hardware", "compute_provider"), provider, at(found[0]))
    found = _find(sections, "Model Card Contact", "Contact")
    if found:
        email = _EMAIL.search(found[1])
        draft.set(("A", "contact_email"), email.group(0) if email else None, at(found[0]))


def _number(text: str | None) -> float | None:
    match = re.search(r"\d+(?:\.\d+)?", text or "")
    value = float(match.group(0)) if match else None
    return value if value is not None and 0 < value <= 1_000_000 else None


# --- config.json and generation_config.json --------------------------------------------


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def import_config(draft: Draft, raw: bytes, *, file: str) -> None:
    """Fill section C from a transformers `config.json`."""
    config = load_json(raw, file=file, limit=1024 * 1024)
    top = Source(file, "")
    if not isinstance(config, dict):
        raise import_error(top, "type", "must be a JSON object (a transformers config)")
    text = config.get("text_config")
    # Multimodal configs nest the language model's sizes; read them there if absent above.
    nested = text if isinstance(text, dict) else {}
    for name, keys in CONFIG_KEYS.items():
        for key in keys:
            holder, where = (config, (key,)) if key in config else (nested, ("text_config", key))
            if key not in holder:
                continue
            value = holder[key]
            if _int(value) is None or value < 1:
                detail = f"must be a whole number of at least 1 (got {json.dumps(value)[:40]})"
                raise import_error(top.at(*where), "type", detail)
            draft.set(("C", name), value, top.at(*where))
            break
    model_type = config.get("model_type")
    if isinstance(model_type, str):
        kind = _architecture(config, nested, model_type)
        draft.set(("C", "architecture"), kind, top.at("model_type"))
    archs = [a for a in _as_list(config.get("architectures")) if isinstance(a, str)]
    if archs and isinstance(model_type, str):
        description = f"{', '.join(archs[:5])} (transformers model_type {model_type!r})"
        draft.set(("C", "architecture_description"), description[:20000], top.at("architectures"))


def _architecture(config: Mapping[str, Any], nested: Mapping[str, Any], model_type: str) -> str:
    if model_type in _STATE_SPACE:
        return "state_space"
    if model_type in _HYBRID:
        return "hybrid"
    experts = any(k in c for c in (config, nested) for k in CONFIG_KEYS["experts_total"])
    if experts:
        return "mixture_of_experts_transformer"
    heads = any(k in c for c in (config, nested) for k in CONFIG_KEYS["attention_heads"])
    return "dense_transformer" if heads else "other"


def import_generation_config(draft: Draft, raw: bytes, *, file: str) -> None:
    """Check a `generation_config.json`; the dossier has no field for sampling defaults."""
    config = load_json(raw, file=file, limit=1024 * 1024)
    if not isinstance(config, dict):
        raise import_error(Source(file, ""), "type", "must be a JSON object")
    keys = sorted(k for k in config if not k.startswith("_") and k != "transformers_version")
    if keys:
        shown = ", ".join(keys[:8]) + (" ..." if len(keys) > 8 else "")
        draft.notes.append(f"{file}: no dossier field carries generation defaults ({shown})")


# --- safetensors -----------------------------------------------------------------------


def _header(path: Path) -> tuple[dict[str, Any], int]:
    src = Source(path.name, "")
    with path.open("rb") as fh:
        head = fh.read(8)
        if len(head) < 8:
            raise import_error(src, "safetensors", "is shorter than a safetensors header")
        (length,) = struct.unpack("<Q", head)
        if length > MAX_SAFETENSORS_HEADER:
            detail = f"declares a header of {length:,} bytes, over {MAX_SAFETENSORS_HEADER:,}"
            raise import_error(src, "max_bytes", detail)
        raw = fh.read(length)
    header = load_json(raw, file=path.name, limit=MAX_SAFETENSORS_HEADER)
    if not isinstance(header, dict) or len(header) > MAX_TENSORS:
        raise import_error(src, "safetensors", "header is not an object of tensors")
    return header, 8 + length


def parameter_count(path: Path) -> int:
    """Count the parameters a safetensors file holds, from its header alone."""
    header, _ = _header(path)
    total = 0
    for name, info in header.items():
        if name == "__metadata__":
            continue
        shape = info.get("shape") if isinstance(info, dict) else None
        if not isinstance(shape, list) or not all(_int(d) is not None and d >= 0 for d in shape):
            detail = "must be a list of whole numbers"
            raise import_error(Source(path.name, pointer(name, "shape")), "safetensors", detail)
        total += math.prod(shape)
    return total


def sha256_of(path: Path) -> str:
    """The file's SHA-256 as the dossier writes it (sha256:<hex>)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1024 * 1024), b""):
            digest.update(chunk)
    return f"sha256:{digest.hexdigest()}"


def import_weights(draft: Draft, paths: list[Path]) -> None:
    """Fill C.parameters_total from safetensors headers and, once a version is known, hashes."""
    total = sum(parameter_count(p) for p in paths)
    if total > 0:
        src = Source(paths[0].name if len(paths) == 1 else "*.safetensors", "")
        draft.set(("C", "parameters_total"), total, src)
    if not draft.has("B", "versions", 0, "version"):
        draft.notes.append("weights: give --model-version to record their SHA-256 under B")
        return
    for path in paths:
        src = Source(path.name, "")
        digest = sha256_of(path)
        # A BOM imported with the folder may already list this file: add it once.
        at = draft.index_of_hash(digest)
        base = ("B", "versions", 0, "authenticity_hashes", at)
        draft.set((*base, "artifact"), path.name, src)
        draft.set((*base, "digest"), digest, src)


def iter_weight_files(folder: Path) -> Iterator[Path]:
    """The safetensors files of a model folder, in name order."""
    yield from sorted(p for p in folder.glob("*.safetensors") if p.is_file())
