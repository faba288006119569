"""The dossier editor's posts: a section's form back into the dossier (kept as typed), and
the buttons that add, remove and reorder the items of a repeatable group."""

from __future__ import annotations

import contextlib
import math
import re
from typing import Any

from airlock.core import safejson
from airlock.dossiers import validation
from airlock.web.pages.dossier_form import (
    START_WITH_ONE,
    Path,
    Spec,
    layout,
    path_of,
    section_spec,
    spec_at,
)

_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def _number(kind: str, raw: str) -> Any:
    text = raw.strip().replace(",", "").replace("_", "").replace(" ", "")
    if len(text) > 40 or not _NUMBER.match(text):
        return raw.strip()  # kept as typed; the schema names the problem
    number = float(text)
    if not math.isfinite(number):
        return raw.strip()  # 1e999: not a number the dossier can hold
    if kind == "integer" or (number.is_integer() and not re.search(r"[.eE]", text)):
        return int(number) if number.is_integer() else number
    return number


def _leaf_value(spec: Spec, name: str, data: dict[str, list[str]]) -> Any:
    def one(key: str) -> str:
        return (data.get(key) or [""])[0]

    raw = one(f"v:{name}")
    if spec.input == "checkboxes":
        return [v for v in data.get(f"v:{name}", []) if v] or None
    if spec.input == "lines":
        lines = [line.strip() for line in raw.splitlines() if line.strip()]
        return lines or None
    if spec.input == "range":
        low, high = one(f"v:{name}.low").strip(), one(f"v:{name}.high").strip()
        if not low and not high:
            return None
        out: dict[str, Any] = {}
        if low:
            out["low"] = _number("number", low)
        if high:
            out["high"] = _number("number", high)
        return out
    if not raw.strip():
        return None
    if spec.input in ("integer", "number"):
        return _number(spec.input, raw)
    if spec.input == "boolean" and raw in ("true", "false"):
        return raw == "true"
    return raw.strip() if spec.input != "textarea" else raw.strip().replace("\r\n", "\n")


def _indices(prefix: str, names: set[str]) -> list[int]:
    found = set()
    for n in names:
        if n.startswith(prefix):
            head = n[len(prefix) :].split(".", 1)[0]
            if head.isdigit():
                found.add(int(head))
    return sorted(found)


def _parse(spec: Spec, path: str, data: dict[str, list[str]], names: set[str]) -> Any:
    if spec.kind == "leaf":
        value = _leaf_value(spec, path, data)
        if value is None:
            return None
        leaf: dict[str, Any] = {
            "value": value,
            "disclosure": (data.get(f"d:{path}") or ["reviewer"])[0],
            "provenance": (data.get(f"p:{path}") or ["self_reported"])[0],
        }
        source = (data.get(f"s:{path}") or [""])[0]
        if source:
            with contextlib.suppress(safejson.JSONRefused):
                leaf["source"] = safejson.loads(source, where=f"{path} source")
        return leaf
    if spec.kind == "list":
        raw = (data.get(f"v:{path}") or [""])[0]
        if raw.strip():  # a list posted as JSON (the earlier form, and API-like clients)
            try:
                return safejson.loads(raw, where=path)
            except safejson.JSONRefused:
                return raw
        items = []
        for i in _indices(f"{path}.", names):
            item = {}
            for c in spec.children:
                v = _parse(c, f"{path}.{i}.{c.key}", data, names)
                if v is not None:
                    item[c.key] = v
            if item:  # a blank item is dropped
                items.append(item)
        return items or None
    body = {}
    for c in spec.children:
        v = _parse(c, f"{path}.{c.key}", data, names)
        if v is not None:
            body[c.key] = v
    return body or None


def _names(data: dict[str, list[str]]) -> set[str]:
    return {k.split(":", 1)[1] for k in data if ":" in k}


def parse_section(key: str, data: dict[str, list[str]]) -> dict[str, Any] | None:
    """One section as posted by its form; None when nothing was filled in."""
    spec = section_spec(key)
    if spec is None:
        return None
    parsed = _parse(spec, key, data, _names(data))
    return parsed if isinstance(parsed, dict) else None


def parse_form(data: dict[str, str] | dict[str, list[str]]) -> dict[str, Any]:
    """The dossier posted by a form holding every section; blank fields are left out."""
    lists = {k: (v if isinstance(v, list) else [v]) for k, v in data.items()}
    sections = {}
    for spec in layout():
        body = parse_section(spec.key, lists)
        if body:
            sections[spec.key] = body
    return {"schema_version": validation.SCHEMA_VERSION, "sections": sections}


def merge_section(doc: dict[str, Any], key: str, body: dict[str, Any] | None) -> dict[str, Any]:
    """The dossier with one section replaced by what its page posted."""
    out = dict(doc) if isinstance(doc, dict) else {}
    out.setdefault("schema_version", validation.SCHEMA_VERSION)
    sections = dict(out.get("sections") or {}) if isinstance(out.get("sections"), dict) else {}
    if body:
        sections[key] = body
    else:
        sections.pop(key, None)
    out["sections"] = sections
    return out


# --- add, remove and reorder the items of a repeatable group ----------------------------


def _container(doc: dict[str, Any], path: Path, create: bool) -> Any:
    node: Any = doc.setdefault("sections", {})
    for part in path:
        if isinstance(part, int):
            if not isinstance(node, list) or part >= len(node):
                return None
            node = node[part]
            continue
        if not isinstance(node, dict):
            return None
        if part not in node:
            if not create:
                return None
            node[part] = {}
        node = node[part]
    return node


def apply_op(doc: dict[str, Any], op: str) -> Path | None:
    """Apply `add:B.versions`, `remove:B.versions.1`, `up:...` or `down:...` in place;
    the path to show afterwards (None if the operation names nothing)."""
    verb, _, raw = op.partition(":")
    path = path_of(raw)
    spec = spec_at(path)
    if verb == "add":
        if spec is None or spec.kind != "list":
            return None
        parent = _container(doc, path[:-1], create=True)
        if not isinstance(parent, dict):
            return None
        items = parent.get(path[-1])
        if not isinstance(items, list):
            items = []
            parent[path[-1]] = items
        if not items and (path[0], path[-1]) in START_WITH_ONE and len(path) == 2:
            items.append({})  # the page showed one blank item already
        items.append({})
        return (*path, len(items) - 1)
    if not path or not isinstance(path[-1], int):
        return None
    items = _container(doc, path[:-1], create=False)
    i = path[-1]
    if not isinstance(items, list) or i >= len(items):
        return None
    if verb == "remove":
        del items[i]
        return path[:-1]
    j = i - 1 if verb == "up" else i + 1 if verb == "down" else -1
    if not 0 <= j < len(items):
        return path
    items[i], items[j] = items[j], items[i]
    return (*path[:-1], j)
