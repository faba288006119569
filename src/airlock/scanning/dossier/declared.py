"""Declared versus actual: parameter count and architecture from the files, against the dossier.

Counts come from tensor headers (`formats`), never from loading weights; architecture fields
come from `config.json`, with the parameter count they imply for common families (llama,
mistral, qwen2, mixtral, gpt2, gpt-neox). Each mismatch beyond the tolerance becomes a result
naming both values and where each came from.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from . import formats
from .results import CheckReport, CheckResult, DossierView, Severity

CHECK: Final = "declared"
VERSION: Final = "1.0.0"
DEFAULT_TOLERANCE: Final = 0.05  # a count given to 2 significant figures is within 5%
MAX_CONFIG_BYTES: Final = 4 * 1024 * 1024
MAX_FILES: Final = 10_000

# config.json key aliases across families, first present wins.
CONFIG_KEYS: Final[Mapping[str, tuple[str, ...]]] = {
    "layers": ("num_hidden_layers", "n_layer", "num_layers"),
    "hidden_size": ("hidden_size", "n_embd", "d_model"),
    "attention_heads": ("num_attention_heads", "n_head"),
    "kv_heads": ("num_key_value_heads",),
    "intermediate_size": ("intermediate_size", "n_inner"),
    "vocabulary_size": ("vocab_size",),
    "experts_total": ("num_local_experts", "num_experts", "n_routed_experts"),
    "experts_active": ("num_experts_per_tok", "num_experts_per_token"),
    "max_positions": ("max_position_embeddings", "n_positions"),
    "head_dim": ("head_dim",),
}
# Absurd beyond these: a config that claims more is not a model anyone trained.
CONFIG_BOUNDS: Final[Mapping[str, int]] = {
    "layers": 100_000,
    "hidden_size": 10_000_000,
    "attention_heads": 100_000,
    "kv_heads": 100_000,
    "intermediate_size": 100_000_000,
    "vocabulary_size": 100_000_000,
    "experts_total": 1_000_000,
    "experts_active": 1_000_000,
    "max_positions": 1_000_000_000,
    "head_dim": 1_000_000,
}
# dossier section C field -> config key
DOSSIER_ARCH_FIELDS: Final[Mapping[str, str]] = {
    "layers": "layers",
    "hidden_size": "hidden_size",
    "attention_heads": "attention_heads",
    "vocabulary_size": "vocabulary_size",
    "experts_total": "experts_total",
    "experts_active": "experts_active",
}
LLAMA_LIKE: Final = frozenset({"llama", "mistral", "qwen2", "mixtral", "qwen2_moe"})


@dataclass(frozen=True, slots=True)
class Implied:
    """Parameter counts a config implies: total and active (equal for dense models)."""

    total: int
    active: int
    family: str


def _result(
    rule: str, sev: Severity, title: str, msg: str, where: str, key: str, **d: Any
) -> CheckResult:
    return CheckResult(rule, CHECK, sev, title, msg, where, key, d)


def read_config(path: Path) -> tuple[dict[str, Any] | None, list[str]]:
    """config.json as a dict, bounded in size; problems instead of exceptions."""
    try:
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            return None, [f"config.json is {size} bytes, more than {MAX_CONFIG_BYTES}"]
        doc = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        return None, [f"config.json is not readable JSON: {str(exc)[:120]}"]
    if not isinstance(doc, dict):
        return None, ["config.json is not a JSON object"]
    return doc, []


def architecture(config: Mapping[str, Any]) -> tuple[dict[str, int], list[str]]:
    """The architecture fields a config states, and a sentence for each absurd one."""
    out: dict[str, int] = {}
    problems: list[str] = []
    sub = config.get("text_config")
    sources = [config, sub] if isinstance(sub, Mapping) else [config]
    for name, keys in CONFIG_KEYS.items():
        for src in sources:
            key = next((k for k in keys if k in src and src[k] is not None), None)
            if key is None:
                continue
            value = src[key]
            if isinstance(value, bool) or not isinstance(value, int):
                problems.append(f"config.json {key}: must be an integer (got {str(value)[:40]!r})")
            elif not 1 <= value <= CONFIG_BOUNDS[name]:
                problems.append(f"config.json {key}: {value} is outside 1-{CONFIG_BOUNDS[name]}")
            else:
                out[name] = value
            break
    return out, problems


def implied_parameters(config: Mapping[str, Any], arch: Mapping[str, int]) -> Implied | None:
    """The parameter count a config implies for known families; None for other families."""
    family = str(config.get("model_type", ""))
    need = ("layers", "hidden_size", "vocabulary_size")
    if any(k not in arch for k in need):
        return None
    n_layer, h, vocab = arch["layers"], arch["hidden_size"], arch["vocabulary_size"]
    tied = bool(config.get("tie_word_embeddings", family == "gpt2"))
    if family in LLAMA_LIKE:
        heads = arch.get("attention_heads")
        if heads is None or "intermediate_size" not in arch:
            return None
        head_dim = arch.get("head_dim", h // heads)
        kv = arch.get("kv_heads", heads) * head_dim
        q = heads * head_dim
        attn = h * q + 2 * h * kv + q * h
        if config.get("attention_bias") or family in ("qwen2", "qwen2_moe"):
            attn += q + 2 * kv + (h if config.get("attention_bias") else 0)
        inter = arch["intermediate_size"]
        mlp = 3 * h * inter + (2 * inter + h if config.get("mlp_bias") else 0)
        experts, active = arch.get("experts_total", 1), arch.get("experts_active", 1)
        moe = family in ("mixtral", "qwen2_moe") and experts > 1
        router = h * experts if moe else 0
        per_layer_total = attn + (mlp * experts if moe else mlp) + router + 2 * h
        per_layer_active = attn + (mlp * min(active, experts) if moe else mlp) + router + 2 * h
        embed = vocab * h * (1 if tied else 2) + h
        return Implied(
            n_layer * per_layer_total + embed, n_layer * per_layer_active + embed, family
        )
    if family == "gpt2":
        inter = arch.get("intermediate_size", 4 * h)
        per_layer = (
            4 * h + (3 * h * h + 3 * h) + (h * h + h) + (h * inter + inter) + (inter * h + h)
        )
        total = n_layer * per_layer + vocab * h + arch.get("max_positions", 1024) * h + 2 * h
        total += 0 if tied else vocab * h
        return Implied(total, total, family)
    if family == "gpt_neox":
        inter = arch.get("intermediate_size", 4 * h)
        per_layer = (
            4 * h + (3 * h * h + 3 * h) + (h * h + h) + (h * inter + inter) + (inter * h + h)
        )
        total = n_layer * per_layer + vocab * h * (1 if tied else 2) + 2 * h
        return Implied(total, total, family)
    return None


# GGUF metadata keys (prefixed with general.architecture) for the fields a dossier states.
GGUF_KEYS: Final[Mapping[str, str]] = {
    "layers": "block_count",
    "hidden_size": "embedding_length",
    "attention_heads": "attention.head_count",
    "experts_total": "expert_count",
    "experts_active": "expert_used_count",
}


def gguf_architecture(metadata: Mapping[str, Any]) -> dict[str, int]:
    """Architecture fields from GGUF metadata; the vocabulary is the tokenizer's token count."""
    prefix = metadata.get("general.architecture")
    out: dict[str, int] = {}
    if not isinstance(prefix, str):
        return out
    for name, key in GGUF_KEYS.items():
        value = metadata.get(f"{prefix}.{key}")
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            out[name] = value
    tokens = metadata.get("tokenizer.ggml.tokens")
    if isinstance(tokens, int) and tokens > 0:
        out["vocabulary_size"] = tokens
    return out


def census(folder: Path) -> tuple[list[formats.TensorCensus], list[str]]:
    """Read every weight file under folder (not following links), by content."""
    out: list[formats.TensorCensus] = []
    problems: list[str] = []
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
    if len(files) > MAX_FILES:
        problems.append(f"folder has {len(files)} files; only the first {MAX_FILES} were read")
        files = files[:MAX_FILES]
    for path in files:
        kind = formats.sniff(path)
        if kind is None:
            continue
        try:
            out.append(formats.READERS[kind](path))
        except OSError as exc:
            problems.append(f"{path.name}: cannot be read: {exc}")
    return out, problems


def _rel(path: str, folder: Path) -> str:
    try:
        return Path(path).relative_to(folder).as_posix()
    except ValueError:
        return path


def _within(a: float, b: float, tolerance: float) -> bool:
    return abs(a - b) <= tolerance * max(abs(a), abs(b), 1)


def _relative(declared: int, found: int) -> str:
    # Weights that hold no parameters at all (empty tensors) have no relative difference.
    return f" ({(declared - found) / found:+.1%})" if found else ""


def check_declared(
    folder: Path, doc: Mapping[str, Any] | None, *, tolerance: float = DEFAULT_TOLERANCE
) -> CheckReport:
    """Compare parameter counts and architecture in the files with the dossier's section C."""
    view = DossierView(doc)
    results: list[CheckResult] = []
    files, folder_problems = census(folder)
    for msg in folder_problems:
        results.append(
            _result("DOS-DEC-004", Severity.LOW, "Weight file could not be read", msg, ".", msg)
        )
    by_format: dict[str, int] = {}
    dtypes: dict[str, int] = {}
    for f in files:
        rel = _rel(f.path, folder)
        by_format[f.format] = by_format.get(f.format, 0) + f.parameters
        for k, v in f.dtypes().items():
            dtypes[k] = dtypes.get(k, 0) + v
        for problem in f.problems[:20]:
            results.append(
                _result(
                    "DOS-DEC-004",
                    Severity.MEDIUM,
                    "Tensor header is inconsistent",
                    f"{rel}: {problem}",
                    rel,
                    problem.split(":")[0],
                    format=f.format,
                )
            )
    # One format stands for the weights: safetensors first, then the others.
    order = ("safetensors", "pytorch", "gguf", "onnx")
    primary = next((k for k in order if k in by_format), None)
    actual = by_format.get(primary) if primary else None
    actual_source = (
        f"{primary} headers ({sum(1 for f in files if f.format == primary)} file(s))"
        if primary
        else None
    )
    config_path = folder / "config.json"
    config, cfg_problems = read_config(config_path) if config_path.is_file() else (None, [])
    arch: dict[str, int] = {}
    implied: Implied | None = None
    arch_source = "config.json"
    if config is not None:
        arch, more = architecture(config)
        cfg_problems += more
        if not more:
            implied = implied_parameters(config, arch)
    else:
        gguf = next((f for f in files if f.format == "gguf"), None)
        if gguf is not None:
            arch = gguf_architecture(gguf.metadata)
            arch_source = f"GGUF metadata ({_rel(gguf.path, folder)})"
    for msg in cfg_problems:
        results.append(
            _result(
                "DOS-DEC-005",
                Severity.MEDIUM,
                "config.json is not usable",
                msg,
                "config.json",
                msg.split(":")[0],
            )
        )
    summary: dict[str, Any] = {
        "files": [
            {
                "path": _rel(f.path, folder),
                "format": f.format,
                "tensors": len(f.tensors),
                "parameters": f.parameters,
                "dtypes": f.dtypes(),
                "problems": len(f.problems),
            }
            for f in files
        ],
        "parameters": {"actual": actual, "source": actual_source, "by_format": by_format},
        "dtypes": dtypes,
        "config": {"architecture": arch, "model_type": (config or {}).get("model_type")},
        "implied": None
        if implied is None
        else {"total": implied.total, "active": implied.active, "family": implied.family},
        "tolerance": tolerance,
    }
    if actual is not None and implied is not None and not _within(actual, implied.total, tolerance):
        results.append(
            _result(
                "DOS-DEC-003",
                Severity.MEDIUM,
                "Weights do not match the architecture in config.json",
                f"the {actual_source} hold {actual:,} parameters; config.json "
                f"({implied.family}) implies {implied.total:,}",
                "config.json",
                "implied-vs-headers",
                actual=actual,
                actual_source=actual_source,
                implied=implied.total,
                implied_source=f"config.json ({implied.family})",
            )
        )
    results.extend(
        _compare_dossier(view, actual, actual_source, implied, arch, tolerance, arch_source)
    )
    return CheckReport(CHECK, VERSION, summary, tuple(results))


def _compare_dossier(
    view: DossierView,
    actual: int | None,
    actual_source: str | None,
    implied: Implied | None,
    arch: Mapping[str, int],
    tolerance: float,
    arch_source: str = "config.json",
) -> list[CheckResult]:
    results: list[CheckResult] = []
    total = view.field("C", "parameters_total")
    active = view.field("C", "parameters_active")
    total_src = actual if actual is not None else (implied.total if implied else None)
    total_from = actual_source if actual is not None else "config.json (implied)"
    if (
        isinstance(total, int)
        and not isinstance(total, bool)
        and total_src is not None
        and not _within(total, total_src, tolerance)
    ):
        results.append(
            _result(
                "DOS-DEC-001",
                Severity.HIGH,
                "Declared parameter count does not match the weights",
                f"the dossier declares {total:,} parameters; {total_from} give "
                f"{total_src:,}{_relative(total, total_src)}",
                "sections.C.parameters_total",
                "parameters_total",
                declared=total,
                declared_source="sections.C.parameters_total",
                actual=total_src,
                actual_source=total_from,
                tolerance=tolerance,
            )
        )
    if (
        isinstance(active, int)
        and not isinstance(active, bool)
        and implied is not None
        and not _within(active, implied.active, tolerance)
    ):
        results.append(
            _result(
                "DOS-DEC-002",
                Severity.HIGH,
                "Declared active parameters do not match the architecture",
                f"the dossier declares {active:,} active parameters; config.json "
                f"({implied.family}) implies {implied.active:,}",
                "sections.C.parameters_active",
                "parameters_active",
                declared=active,
                declared_source="sections.C.parameters_active",
                actual=implied.active,
                actual_source=f"config.json ({implied.family})",
            )
        )
    for field_name, key in DOSSIER_ARCH_FIELDS.items():
        declared = view.field("C", field_name)
        if key not in arch or not isinstance(declared, int) or isinstance(declared, bool):
            continue
        if declared != arch[key]:
            results.append(
                _result(
                    "DOS-DEC-003",
                    Severity.MEDIUM,
                    "Declared architecture does not match config.json",
                    f"sections.C.{field_name} is {declared:,}; {arch_source} says {arch[key]:,}",
                    f"sections.C.{field_name}",
                    field_name,
                    declared=declared,
                    declared_source=f"sections.C.{field_name}",
                    actual=arch[key],
                    actual_source=arch_source,
                )
            )
    return results
