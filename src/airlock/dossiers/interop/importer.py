"""Fill one dossier from the files a lab already keeps: recognise each file, import it into a
shared draft, then validate the whole; nothing is returned unless everything imported is
valid, and every error names the file and pointer the bad value came from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from airlock.core.errors import InvalidInput
from airlock.dossiers import rules, validation
from airlock.dossiers.interop.common import (
    MAX_FILE_BYTES,
    Draft,
    Filled,
    Level,
    Source,
    import_error,
    load_json,
)
from airlock.dossiers.validation import DossierError

MAX_FILES: Final = 200
FOLDER_FILES: Final = ("README.md", "config.json", "generation_config.json")


@dataclass(frozen=True)
class ImportResult:
    """A dossier filled from files, what it filled, and what a submission still needs."""

    dossier: dict[str, Any]
    filled: list[Filled]
    missing: list[DossierError]
    notes: list[str]


def expand(paths: Sequence[Path]) -> list[Path]:
    """The files to import: files as given, and a model folder's known files."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            from airlock.dossiers.interop.import_hf import iter_weight_files

            out += [path / n for n in FOLDER_FILES if (path / n).is_file()]
            out += list(iter_weight_files(path))
        else:
            out.append(path)
    if len(out) > MAX_FILES:
        raise InvalidInput(f"files: at most {MAX_FILES} files per import (got {len(out)})")
    return out


def _kind(path: Path, raw: bytes) -> tuple[str, Any]:
    """Recognise a file: model card, config, generation config, CycloneDX or SPDX."""
    name = path.name.lower()
    if name.endswith(".md"):
        return "model_card", None
    doc = load_json(raw, file=path.name)
    if isinstance(doc, dict):
        if "bomFormat" in doc or ("specVersion" in doc and "components" in doc):
            return "cyclonedx", doc
        context = doc.get("@context")
        if isinstance(context, str) and "spdx" in context.lower():
            return "spdx", doc
        if name == "generation_config.json":
            return "generation_config", doc
        if name == "config.json" or "model_type" in doc or "architectures" in doc:
            return "config", doc
    detail = (
        "is not a file Airlock imports (a model card .md, a transformers config.json or "
        "generation_config.json, a CycloneDX 1.6 BOM or an SPDX 3.0.1 JSON-LD document)"
    )
    raise import_error(Source(path.name, ""), "format", detail)


def _read(path: Path) -> bytes:
    src = Source(path.name, "")
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            detail = f"is {size:,} bytes, over the limit of {MAX_FILE_BYTES:,}"
            raise import_error(src, "max_bytes", detail)
        return path.read_bytes()
    except OSError as exc:
        raise import_error(src, "read", f"cannot be read ({exc.strerror})") from None


def _located(errors: list[DossierError], draft: Draft) -> list[dict[str, str]]:
    """Name, for each dossier error, the imported file and pointer its value came from."""
    sources = {f.path: f.source for f in draft.filled}
    out: list[dict[str, str]] = []
    for error in errors:
        # The field whose value holds the error: the longest filled path above it.
        path = error.path.removeprefix("sections.")
        above = [p for p in sources if path == p or path.startswith(p + ".")]
        src = sources[max(above, key=len)] if above else None
        message = f"{src}: {error.message}" if src else error.message
        out.append(
            {"path": str(src) if src else error.path, "rule": error.rule, "message": message}
        )
    return out


def import_files(
    paths: Sequence[Path], *, disclosure: Level = "reviewer", model_version: str | None = None
) -> ImportResult:
    """Import the files into one dossier of the current schema version, or raise InvalidInput."""
    from airlock.dossiers.interop import import_cyclonedx, import_hf, import_spdx

    draft = Draft(disclosure=disclosure)
    if model_version:
        draft.set(("B", "versions", 0, "version"), model_version.strip()[:500], None)
    files = expand(paths)
    if not files:
        raise InvalidInput("files: nothing to import")
    weights = [p for p in files if p.suffix == ".safetensors"]
    for path in files:
        if path.suffix == ".safetensors":
            continue
        raw = _read(path)
        kind, _ = _kind(path, raw)
        if kind == "model_card":
            import_hf.import_model_card(draft, raw, file=path.name)
        elif kind == "config":
            import_hf.import_config(draft, raw, file=path.name)
        elif kind == "generation_config":
            import_hf.import_generation_config(draft, raw, file=path.name)
        elif kind == "cyclonedx":
            import_cyclonedx.import_cyclonedx(draft, raw, file=path.name)
        else:
            import_spdx.import_spdx(draft, raw, file=path.name)
    if weights:
        import_hf.import_weights(draft, weights)
    doc = draft.dossier()
    errors = validation.validate_dossier(doc)
    if errors:
        located = _located(errors, draft)
        first = located[0]["message"]
        more = f" (and {len(located) - 1} more)" if len(located) > 1 else ""
        raise InvalidInput(f"cannot import: {first}{more}", errors=located)
    return ImportResult(doc, draft.filled, rules.check_complete(doc), draft.notes)
