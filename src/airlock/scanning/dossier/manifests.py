"""Dataset manifests shared with the samples: Croissant 1.0 JSON-LD without licence or provenance.

Croissant requires `license`; provenance is where the records came from: the `distribution`
files' `contentUrl`, or the RAI extension's `rai:dataCollection`. A manifest that states
neither becomes a result, as a dossier dataset without them does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from .results import CheckResult, Severity

MAX_MANIFEST_BYTES: Final = 8 * 1024 * 1024


def find_manifests(folder: Path) -> list[Path]:
    """JSON files under folder whose name says Croissant (croissant.json, x.croissant.json)."""
    return sorted(
        p
        for p in folder.rglob("*.json")
        if "croissant" in p.name.lower() and p.is_file() and not p.is_symlink()
    )


def _is_croissant(doc: Mapping[str, Any]) -> bool:
    conforms = doc.get("conformsTo") or doc.get("dct:conformsTo")
    return "croissant" in json.dumps(conforms).lower() or "cr" in (doc.get("@context") or {})


def _has(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, list | Mapping):
        return bool(value)
    return False


def check_manifests(paths: Sequence[Path], *, root: Path | None = None) -> list[CheckResult]:
    """A result per Croissant manifest without licence or provenance, or that cannot be read."""
    out: list[CheckResult] = []
    for path in paths:
        rel = path.relative_to(root).as_posix() if root and path.is_relative_to(root) else path.name
        try:
            if path.stat().st_size > MAX_MANIFEST_BYTES:
                raise ValueError(f"larger than {MAX_MANIFEST_BYTES} bytes")
            doc = json.loads(path.read_bytes().decode("utf-8"))
        except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
            out.append(
                CheckResult(
                    "DOS-DAT-005",
                    "datasamples",
                    Severity.LOW,
                    "Sample not fully scanned",
                    f"{rel}: dataset manifest is not readable JSON: {str(exc)[:120]}",
                    rel,
                    "manifest",
                )
            )
            continue
        if not isinstance(doc, Mapping) or not _is_croissant(doc):
            continue
        name = str(doc.get("name") or rel)[:80]
        dist = doc.get("distribution")
        urls = (
            [d.get("contentUrl") for d in dist if isinstance(d, Mapping)]
            if isinstance(dist, list)
            else []
        )
        checks = (
            ("DOS-DAT-003", "licence", _has(doc.get("license"))),
            (
                "DOS-DAT-004",
                "provenance",
                any(_has(u) for u in urls) or _has(doc.get("rai:dataCollection")),
            ),
        )
        for rule, what, ok in checks:
            if not ok:
                out.append(
                    CheckResult(
                        rule,
                        "datasamples",
                        Severity.LOW,
                        f"Dataset has no {what}",
                        f"{rel}: Croissant manifest for {name!r} states no {what}",
                        rel,
                        what,
                        {"dataset": name},
                    )
                )
    return out
