"""The dossier as a structured HTML form, generated from the JSON Schema, and the form back.

Every leaf of the schema (a field object with value, disclosure and provenance) becomes an
input of its kind: a date, a number with its unit, a choice among the enumeration, a web
address, lines of text or checkboxes. Arrays of objects (versions, base models, datasets,
controls, evaluations...) become repeatable groups that can be added, removed and reordered
with plain form buttons. Input names carry the path: `v:B.versions.0.version` is the value of
the first version's Version, `d:` and `p:` its disclosure and provenance.

Parsing keeps whatever was typed (a number that is not one stays text), so a draft saves as
typed and the schema names the problem at its field.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from typing import Any

from airlock.dossiers import rules as dossier_rules
from airlock.dossiers import validation
from airlock.web import labels

DISCLOSURES = tuple(dossier_rules.DISCLOSURE_LEVELS)
PROVENANCES = tuple(str(v) for v in validation.load_schema()["$defs"]["provenance"]["enum"])
EDITABLE_SECTIONS = tuple(
    s for s in dossier_rules.SECTIONS if s not in dossier_rules.AGENCY_SECTIONS
)
_META = ("value", "disclosure", "provenance", "source", "sealed", "low", "high")

# The unit a number is given in, by field name: shown beside the input.
UNITS = {
    "parameters_total": "parameters",
    "parameters_active": "parameters",
    "layers": "layers",
    "attention_heads": "heads",
    "experts_total": "experts",
    "experts_active": "experts",
    "context_length": "tokens",
    "vocabulary_size": "tokens",
    "tokens": "tokens",
    "training_tokens": "tokens",
    "size_tokens": "tokens",
    "flop": "FLOP",
    "training_flop": "FLOP",
    "training_flop_range": "FLOP",
    "peak_flop_per_second": "FLOP/s",
    "training_hours": "hours",
    "utilisation": "0 to 1",
    "energy_kwh": "kWh",
    "emissions_tco2e": "t CO2e",
    "size_bytes": "bytes",
    "size_examples": "examples",
    "expected_users": "users",
    "rate_limit_per_minute": "per minute",
    "trials": "trials",
    "successes": "successes",
    "people_with_weight_access": "people",
    "accelerator_count": "accelerators",
}
# Titles the field name does not spell well (the unit is shown beside the input).
TITLES = {
    "energy_kwh": "Energy used",
    "emissions_tco2e": "Emissions",
    "opt_outs_honoured": "Opt-outs honoured",
}
# How one item of a repeatable group is called.
ITEM_TITLES = {
    "versions": "Version",
    "authenticity_hashes": "Authenticity hash",
    "base_models": "Base model",
    "stages": "Training stage",
    "datasets": "Dataset",
    "evaluations": "Evaluation",
    "red_team_exercises": "Red-team exercise",
    "controls": "Control",
    "evidence": "Evidence",
    "third_party_audits": "Third-party audit",
    "incidents": "Incident",
}
# Lists shown with one blank item when empty: a submitted dossier must hold one.
START_WITH_ONE = frozenset({("B", "versions"), ("E", "datasets"), ("H", "controls")})

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Spec:
    """One node of the form, derived from the schema alone."""

    key: str
    title: str
    kind: str  # leaf, group (an object of leaves), list (an array of objects)
    input: str = ""  # text, textarea, integer, number, date, url, email, select, boolean,
    # checkboxes, lines, range
    choices: tuple[str, ...] = ()
    unit: str = ""
    hint: str = ""
    required: bool = False
    children: tuple[Spec, ...] = ()
    item_title: str = ""


@dataclass
class Node:
    """One node of the form for one dossier: a spec at a path, with its values and errors."""

    spec: Spec
    path: Path
    value: str = ""
    values: list[str] = field(default_factory=list)  # checkboxes
    low: str = ""
    high: str = ""
    disclosure: str = "reviewer"
    provenance: str = "self_reported"
    source: str = ""  # an imported value's source, kept as JSON
    errors: list[str] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)
    index: int = 0  # an item's place in its list
    count: int = 0  # a list's length / an item's list length

    @property
    def name(self) -> str:
        """The dotted path used in input names."""
        return ".".join(str(p) for p in self.path)

    @property
    def anchor(self) -> str:
        """The element id the problem list links to."""
        return anchor(self.path)


def anchor(path: Path) -> str:
    """The HTML id of the form element at a path."""
    return "f-" + "-".join(str(p) for p in path)


def _resolve(node: Any) -> dict[str, Any]:
    return labels._resolve(node)


def _is_field(node: dict[str, Any]) -> bool:
    return "disclosure" in node.get("required", ())


def _leaf(key: str, prop: dict[str, Any], required: bool) -> Spec:
    raw = prop.get("properties", {}).get("value", {})
    ref = str(raw.get("$ref", "")).removeprefix("#/$defs/")
    value = _resolve(raw)
    hint = str(value.get("description", ""))
    hint = hint[:1].upper() + hint[1:] if hint else ""
    title = TITLES.get(key) or labels.humanize(key)
    unit = UNITS.get(key, "")

    def make(
        kind: str, *, choices: tuple[str, ...] = (), text: str = "", with_unit: bool = False
    ) -> Spec:
        return Spec(
            key=key,
            title=title,
            kind="leaf",
            input=kind,
            choices=choices,
            unit=unit if with_unit else "",
            hint=text,
            required=required,
        )

    kind = value.get("type")
    if "enum" in value:
        return make("select", choices=tuple(str(v) for v in value["enum"]))
    if kind == "boolean":
        return make("boolean")
    if kind in ("integer", "number"):
        return make(str(kind), text=hint, with_unit=True)
    if kind == "object":  # the FLOP range
        return make("range", text="The lowest and highest estimate.", with_unit=True)
    if kind == "array":
        items = _resolve(value.get("items", {}))
        if "enum" in items:
            return make("checkboxes", choices=tuple(str(v) for v in items["enum"]))
        item_hint = str(items.get("description", ""))
        return make("lines", text="One per line." + (f" Each is {item_hint}." if item_hint else ""))
    if ref == "long_text":
        return make("textarea")
    if ref == "date":
        return make("date")  # the browser's date picker: no format to explain
    if ref in ("url", "email"):
        return make(ref, text=hint)
    return make("text", text=hint)


def _children(node: dict[str, Any], required: tuple[str, ...]) -> tuple[Spec, ...]:
    out = []
    for key, raw in node.get("properties", {}).items():
        prop = _resolve(raw)
        needed = key in required
        if _is_field(prop):
            out.append(_leaf(key, prop, needed))
        elif prop.get("type") == "array":
            items = _resolve(prop.get("items", {}))
            out.append(
                Spec(
                    key=key,
                    title=labels.humanize(key),
                    kind="list",
                    required=needed,
                    children=_children(items, tuple(items.get("required", ()))),
                    item_title=ITEM_TITLES.get(key, labels.humanize(key)),
                )
            )
        elif prop.get("type") == "object":
            out.append(
                Spec(
                    key=key,
                    title=labels.humanize(key),
                    kind="group",
                    children=_children(prop, tuple(prop.get("required", ()))),
                )
            )
    return tuple(out)


@functools.cache
def layout() -> tuple[Spec, ...]:
    """One spec per section a firm edits, from the schema (read once per process)."""
    schema = validation.load_schema()
    out = []
    for key in EDITABLE_SECTIONS:
        sec = _resolve(schema["properties"]["sections"]["properties"][key])
        needed = dossier_rules.REQUIRED_ON_SUBMIT.get(key, ())
        out.append(
            Spec(
                key=key,
                title=str(sec.get("title", key)),
                kind="section",
                children=_children(sec, needed),
            )
        )
    return tuple(out)


def section_spec(key: str) -> Spec | None:
    """The spec of one section, or None for a key that is not one."""
    return next((s for s in layout() if s.key == key), None)


def title_of(path: Path) -> str:
    """A path inside the sections as section and field titles: never the raw path."""
    if not path:
        return "Dossier"
    spec = section_spec(str(path[0]))
    if spec is None:
        return labels.field_title(".".join(str(p) for p in path))
    parts = [spec.title]
    node: Spec | None = spec
    for part in path[1:]:
        if node is None:
            break
        if isinstance(part, int):
            parts[-1] = f"{node.item_title} {part + 1}"
            continue
        if part in _META:
            break
        node = next((c for c in node.children if c.key == part), None)
        parts.append(node.title if node else labels.humanize(part))
    return labels.SEPARATOR.join(parts)


# --- building the form for a dossier ----------------------------------------------------


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def _fill_leaf(n: Node, current: Any) -> None:
    if not isinstance(current, dict):
        if current is not None:
            n.value = _shown(current)
        return
    n.disclosure = str(current.get("disclosure", n.disclosure))
    n.provenance = str(current.get("provenance", n.provenance))
    if isinstance(current.get("source"), dict):
        n.source = json.dumps(current["source"])
    value = current.get("value")
    if n.spec.input == "checkboxes" and isinstance(value, list):
        n.values = [str(v) for v in value]
    elif n.spec.input == "lines" and isinstance(value, list):
        n.value = "\n".join(_shown(v) for v in value)
    elif n.spec.input == "range" and isinstance(value, dict):
        n.low, n.high = _shown(value.get("low")), _shown(value.get("high"))
    else:
        n.value = _shown(value)


def _build(spec: Spec, path: Path, current: Any) -> Node:
    n = Node(spec=spec, path=path)
    if spec.kind == "leaf":
        _fill_leaf(n, current)
        return n
    if spec.kind == "list":
        items = current if isinstance(current, list) else []
        if not items and (path[0], spec.key) in START_WITH_ONE and len(path) == 2:
            items = [{}]
        n.count = len(items)
        for i, item in enumerate(items):
            child = Node(spec=spec, path=(*path, i), index=i, count=len(items))
            body = item if isinstance(item, dict) else {}
            child.children = [_build(c, (*path, i, c.key), body.get(c.key)) for c in spec.children]
            n.children.append(child)
        return n
    body = current if isinstance(current, dict) else {}
    n.children = [_build(c, (*path, c.key), body.get(c.key)) for c in spec.children]
    return n


def build_section(doc: dict[str, Any], key: str) -> Node:
    """The form of one section for a dossier (errors are placed by `place_errors`)."""
    spec = section_spec(key)
    if spec is None:
        raise KeyError(key)
    sections = doc.get("sections") if isinstance(doc, dict) else None
    body = sections.get(key) if isinstance(sections, dict) else None
    return _build(spec, (key,), body)


def _walk(node: Node) -> list[Node]:
    out = [node]
    for c in node.children:
        out.extend(_walk(c))
    return out


def place_errors(root: Node, problems: list[Problem]) -> None:
    """Show each problem of this section at its field (or the nearest group that exists)."""
    by_path = {n.path: n for n in _walk(root)}
    for p in problems:
        if p.path[:1] != root.path:
            continue
        target = p.path
        while target not in by_path and len(target) > 1:
            target = target[:-1]
        by_path.get(target, root).errors.append(p.message)


# --- problems: schema, scopes and completeness, with titles and anchors -----------------


@dataclass(frozen=True)
class Problem:
    """One thing to fix, where it is and what to do."""

    path: Path  # inside sections, e.g. ("B", "versions", 0, "version")
    title: str
    message: str
    missing: bool  # a required field left empty (shown at the field once a submit is tried)

    @property
    def section(self) -> str:
        """The section key the problem is in."""
        return str(self.path[0]) if self.path else ""

    @property
    def anchor(self) -> str:
        """The id of the field (or group) to link to."""
        return anchor(self.path)


def path_of(raw: str) -> Path:
    parts: list[str | int] = [int(p) if p.isdigit() else p for p in raw.split(".") if p]
    if parts[:1] == ["sections"]:
        parts = parts[1:]
    while parts and parts[-1] in _META:
        parts.pop()
    return tuple(parts)


def spec_at(path: Path) -> Spec | None:
    node = section_spec(str(path[0])) if path else None
    for part in path[1:]:
        if node is None or isinstance(part, int):
            continue
        node = next((c for c in node.children if c.key == part), None)
    return node


def _message(path: Path, rule: str, detail: str) -> str:
    spec = spec_at(path)
    if rule == "required" and len(path) == 1:
        return "Fill in this section to submit: it is required for what this submission carries."
    if rule in ("required", "minItems") and spec is not None and spec.kind == "list":
        return f"Add at least one {spec.item_title.lower()} to submit."
    if rule == "required":
        return "Fill in this field to submit."
    if rule == "scope":
        what = detail.removeprefix("is ")
        return f"This section {what}. Tick it under what the submission carries, or empty it."
    text = detail[:1].upper() + detail[1:]
    return text if text.endswith(".") else text + "."


def problems_of(errors: list[dict[str, str]]) -> list[Problem]:
    """Dossier errors (from the schema, the scopes and completeness) as problems to fix."""
    out = []
    seen = set()
    for err in errors:
        raw = err.get("path", "")
        path = path_of(raw)
        if not path:
            continue
        message = str(err.get("message", ""))
        prefix = f"{raw}: "
        detail = message[len(prefix) :] if message.startswith(prefix) else message
        rule = str(err.get("rule", ""))
        text = _message(path, rule, detail)
        if (path, text) in seen:
            continue
        seen.add((path, text))
        missing = rule in ("required", "minItems")
        out.append(Problem(path=path, title=title_of(path), message=text, missing=missing))
    return out
