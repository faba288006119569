"""The dossier as an HTML form, built from the JSON Schema, and the form back into a dossier.

A leaf field becomes a value input with disclosure and provenance selects; a list (datasets,
controls, versions) is edited as a JSON array, since its items have fields of their own.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass, field
from typing import Any

from airlock.core import safejson
from airlock.dossiers import validation

DISCLOSURES = ("public", "reviewer", "restricted")
PROVENANCES = ("self_reported", "third_party", "estimated", "measured")


@dataclass
class FormField:
    """One input of the form."""

    name: str  # e.g. B.model_name
    label: str
    kind: str  # text, number, textarea, select, list (a JSON value), array (raw list), note
    choices: tuple[str, ...] = ()
    value: str = ""
    disclosure: str = "reviewer"
    provenance: str = "self_reported"
    errors: list[str] = field(default_factory=list)


@dataclass
class FormSection:
    """One lettered section of the dossier."""

    key: str
    title: str
    fields: list[FormField]

    @property
    def has_errors(self) -> bool:
        """Whether any field of the section has an error."""
        return any(f.errors for f in self.fields)


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        merged = dict(schema["$defs"][ref.removeprefix("#/$defs/")])
        merged.update({k: v for k, v in node.items() if k != "$ref"})
        return merged
    return node


def _value_kind(schema: dict[str, Any], prop: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    value = _resolve(schema, prop.get("properties", {}).get("value", {}))
    if "enum" in value:
        return "select", tuple(str(v) for v in value["enum"])
    kind = value.get("type")
    if kind in ("number", "integer"):
        return "number", ()
    if kind == "boolean":
        return "select", ("true", "false")
    if kind == "array" or kind == "object":
        return "list", ()
    if value.get("format") in ("uri", "email", "date", "date-time"):
        return "text", ()
    if (value.get("maxLength") or 0) > 500:
        return "textarea", ()
    return "text", ()


def _label(name: str) -> str:
    return name.replace("_", " ").capitalize()


@dataclass(frozen=True)
class _Slot:
    """Where one input goes, derived from the schema alone."""

    name: str  # e.g. B.model_name
    label: str
    kind: str
    choices: tuple[str, ...] = ()


@functools.cache
def _layout() -> tuple[tuple[str, str, tuple[_Slot, ...]], ...]:
    """(section key, title, slots) for every section; the schema is read once per process."""
    schema = validation.load_schema()
    out = []
    for key, ref in schema["properties"]["sections"]["properties"].items():
        sec = _resolve(schema, ref)
        slots = []
        for name, prop_ref in sec.get("properties", {}).items():
            prop = _resolve(schema, prop_ref)
            if prop.get("type") == "array" or "value" not in prop.get("properties", {}):
                slots.append(_Slot(f"{key}.{name}", _label(name), "array"))
            else:
                kind, choices = _value_kind(schema, prop)
                slots.append(_Slot(f"{key}.{name}", _label(name), kind, choices))
        out.append((key, str(sec.get("title", key)), tuple(slots)))
    return tuple(out)


def _shown(kind: str, value: Any) -> str:
    if kind == "list":
        return json.dumps(value)
    if value is None:
        return ""
    return str(value).lower() if isinstance(value, bool) else str(value)


def build_form(
    doc: dict[str, Any], errors: list[dict[str, str]] | None = None
) -> list[FormSection]:
    """The form for a dossier, with its values and the errors placed at their fields."""
    sections_doc = doc.get("sections", {}) if isinstance(doc, dict) else {}
    by_field: dict[str, list[str]] = {}
    for err in errors or []:
        parts = err.get("path", "").split(".")
        key = ".".join(parts[1:3]) if len(parts) >= 3 and parts[0] == "sections" else "_"
        if len(parts) == 2 and parts[0] == "sections":
            key = parts[1] + "._section"
        by_field.setdefault(key, []).append(err.get("message", ""))
    out = []
    for key, title, slots in _layout():
        body = sections_doc.get(key, {}) if isinstance(sections_doc.get(key), dict) else {}
        fields: list[FormField] = []
        if by_field.get(f"{key}._section"):
            fields.append(
                FormField(
                    name=f"{key}._section",
                    label="Section",
                    kind="note",
                    errors=by_field[f"{key}._section"],
                )
            )
        for slot in slots:
            current = body.get(slot.name.split(".", 1)[1])
            f = FormField(
                name=slot.name,
                label=slot.label,
                kind=slot.kind,
                choices=slot.choices,
                errors=by_field.get(slot.name, []),
            )
            if slot.kind == "array":
                f.value = json.dumps(current, indent=2) if current is not None else ""
            elif isinstance(current, dict):
                f.value = _shown(slot.kind, current.get("value"))
                f.disclosure = str(current.get("disclosure", f.disclosure))
                f.provenance = str(current.get("provenance", f.provenance))
            fields.append(f)
        out.append(FormSection(key=key, title=title, fields=fields))
    return out


def _coerce(kind: str, raw: str) -> Any:
    raw = raw.strip()
    if kind == "number":
        try:
            number = float(raw)
        except ValueError:
            return raw  # the schema names the problem, with what was given
        if not math.isfinite(number) or len(raw) > 40:
            return raw  # 1e999 or 5,000 digits: not a number the dossier can hold
        return (
            int(number)
            if number.is_integer() and "e" not in raw.lower() and "." not in raw
            else number
        )
    if kind == "list":
        try:
            return safejson.loads(raw, where="list")
        except safejson.JSONRefused:
            return raw  # the schema names the problem, with what was given
    if raw in ("true", "false") and kind == "select":
        return raw == "true"
    return raw


def parse_form(data: dict[str, str]) -> dict[str, Any]:
    """The dossier posted by the form; blank fields are left out."""
    sections: dict[str, Any] = {}
    for key, _, slots in _layout():
        body: dict[str, Any] = {}
        for f in slots:
            raw = data.get(f"v:{f.name}", "")
            if not raw.strip():
                continue
            _, name = f.name.split(".", 1)
            if f.kind == "array":
                body[name] = _coerce("list", raw)
                continue
            body[name] = {
                "value": _coerce(f.kind, raw),
                "disclosure": data.get(f"d:{f.name}", "reviewer"),
                "provenance": data.get(f"p:{f.name}", "self_reported"),
            }
        if body:
            sections[key] = body
    return {"schema_version": validation.SCHEMA_VERSION, "sections": sections}
