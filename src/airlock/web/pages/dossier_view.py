"""The dossier as readable rows (section, field, value, disclosure, provenance) for pages."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

from airlock.dossiers import validation


@dataclass(frozen=True)
class Row:
    """One field as shown: its dotted name inside the section and how it may be seen."""

    name: str
    value: str
    disclosure: str
    provenance: str
    redacted: bool


@dataclass(frozen=True)
class Section:
    """A lettered section with its rows."""

    key: str
    title: str
    rows: list[Row]


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _rows(node: Any, prefix: str) -> list[Row]:
    if isinstance(node, dict):
        if node.get("redacted"):
            level = str(node.get("disclosure") or node.get("reason") or "confidential")
            return [Row(prefix, "", level, "", True)]
        if "value" in node and "disclosure" in node:
            return [
                Row(
                    prefix,
                    _text(node["value"]),
                    str(node["disclosure"]),
                    str(node.get("provenance", "")),
                    False,
                )
            ]
        out: list[Row] = []
        for key, child in node.items():
            out += _rows(child, f"{prefix}.{key}" if prefix else str(key))
        return out
    if isinstance(node, list):
        out = []
        for i, child in enumerate(node):
            out += _rows(child, f"{prefix}[{i + 1}]")
        return out
    return [Row(prefix, _text(node), "", "", False)]


@functools.cache
def _titles() -> dict[str, str]:
    schema = validation.load_schema()
    return {
        key: str(schema["$defs"].get(f"section_{key}", {}).get("title", key))
        for key in schema["properties"]["sections"]["properties"]
    }


def sections(doc: dict[str, Any]) -> list[Section]:
    """The sections present in a (possibly redacted) dossier, in schema order."""
    titles = _titles()
    body = doc.get("sections", {}) if isinstance(doc, dict) else {}
    return [
        Section(key, str(titles[key]), _rows(body[key], ""))
        for key in titles
        if isinstance(body, dict) and body.get(key)
    ]
