"""Validate dossiers against the versioned JSON Schema, with bounds on untrusted input.

Pure: no database, no web. `parse_dossier` is the entry point for raw bytes from a client;
`validate_dossier` checks an already-decoded document. Both report `DossierError`s that name
the field path, the rule and what was given.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Final, TypeGuard

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from airlock.core import safejson
from airlock.core.errors import InvalidInput, NotFound
from airlock.dossiers import versions

SCHEMA_VERSION: Final = versions.CURRENT
# Every label a stored dossier may state: semantic versions and the old "1.0".
SUPPORTED_VERSIONS: Final = (*versions.VERSIONS, *versions.ALIASES)

# Bounds on untrusted input, checked before jsonschema sees the document: the schema's own
# maxItems/maxLength only bite after the whole document has been decoded and walked.
MAX_BYTES: Final = 1_048_576
MAX_DEPTH: Final = 32
MAX_ITEMS: Final = 10_000
MAX_STRING_LENGTH: Final = 65_536
# A pathological document can break a rule at every one of thousands of items; past this
# many, further errors add nothing a person can act on.
MAX_ERRORS: Final = 100

PathPart = str | int


@dataclass(frozen=True, slots=True)
class DossierError:
    """One problem with a dossier: where it is, which rule it breaks, and a readable message."""

    path: str
    rule: str
    message: str

    def as_dict(self) -> dict[str, str]:
        """Return the error in the shape `InvalidInput(errors=...)` carries."""
        return {"path": self.path, "rule": self.rule, "message": self.message}

    def __str__(self) -> str:
        return self.message


def format_path(parts: Iterable[PathPart]) -> str:
    """Join path parts with dots: ("sections", "E", "datasets", 0) -> "sections.E.datasets.0"."""
    return ".".join(str(p) for p in parts)


def make_error(parts: Sequence[PathPart], rule: str, detail: str) -> DossierError:
    """Build a DossierError whose message starts with the path (or "dossier" at the root)."""
    path = format_path(parts)
    return DossierError(path=path, rule=rule, message=f"{path or 'dossier'}: {detail}")


def invalid_input(errors: Sequence[DossierError]) -> InvalidInput:
    """Wrap dossier errors in the InvalidInput the web layer answers with 422."""
    if not errors:
        raise ValueError("invalid_input needs at least one error")
    first = errors[0].message
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return InvalidInput(
        f"the dossier is invalid: {first}{more}", errors=[e.as_dict() for e in errors]
    )


# --- the schema ------------------------------------------------------------------------


@functools.cache
def _schema_text(version: str) -> str:
    if version not in SUPPORTED_VERSIONS:
        supported = ", ".join(SUPPORTED_VERSIONS)
        raise NotFound(f"no dossier schema version {version!r} (supported: {supported})")
    name = f"dossier-{versions.ALIASES.get(version, version)}.schema.json"
    return resources.files("airlock.dossiers").joinpath("schema", name).read_text("utf-8")


def load_schema(version: str = SCHEMA_VERSION) -> dict[str, Any]:
    """Return the dossier JSON Schema of a version, read from package data."""
    schema: dict[str, Any] = json.loads(_schema_text(version))
    return schema


@functools.cache
def _validator(version: str) -> Draft202012Validator:
    schema = load_schema(version)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


# --- decoding raw input ----------------------------------------------------------------


class _DuplicateKeys(dict[str, Any]):
    """A decoded JSON object that repeated a key; the limit walk reports where."""

    duplicates: list[str]


def _pairs_to_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    # Python keeps the last value of a repeated key; silently choosing one of two
    # disclosure levels is exactly the ambiguity a confidential document must not have.
    marked = _DuplicateKeys(obj)
    seen: set[str] = set()
    marked.duplicates = []
    for key, _ in pairs:
        if key in seen and key not in marked.duplicates:
            marked.duplicates.append(key)
        seen.add(key)
    return marked


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def parse_dossier(raw: bytes | str, *, max_bytes: int = MAX_BYTES) -> dict[str, Any]:
    """Decode and validate an untrusted dossier; raise InvalidInput naming every problem."""
    if isinstance(raw, str):
        try:
            data = raw.encode("utf-8")
        except UnicodeEncodeError as exc:
            detail = f"is not valid text ({exc.reason})"
            raise invalid_input([make_error([], "json", detail)]) from None
    else:
        data = raw
    if len(data) > max_bytes:
        detail = f"is {len(data):,} bytes, over the limit of {max_bytes:,} bytes"
        raise invalid_input([make_error([], "max_bytes", detail)])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        detail = f"is not UTF-8 (byte {exc.start}: {exc.reason})"
        raise invalid_input([make_error([], "json", detail)]) from None
    if safejson.nesting_exceeds(text, MAX_DEPTH):
        detail = f"nests deeper than the limit of {MAX_DEPTH} levels"
        raise invalid_input([make_error([], "max_depth", detail)])
    try:
        doc = json.loads(text, object_pairs_hook=_pairs_to_object, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        detail = f"is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        raise invalid_input([make_error([], "json", detail)]) from None
    except (ValueError, RecursionError) as exc:
        # ValueError: NaN/Infinity, or an integer longer than Python will convert.
        raise invalid_input([make_error([], "json", f"is not valid JSON: {exc}")]) from None
    errors = validate_dossier(doc, max_bytes=max_bytes)
    if errors:
        raise invalid_input(errors)
    assert isinstance(doc, dict)  # validate_dossier refuses anything else
    return doc


# --- bounds on a decoded document ------------------------------------------------------


def _check_limits(doc: object, max_bytes: int) -> list[DossierError]:
    """Walk the document once, iteratively, refusing what would make validation costly."""
    errors: list[DossierError] = []
    # A lower bound on the compact JSON size in bytes: once it passes max_bytes the document
    # is certainly too big, so the walk stops early however large (or shared) the input is.
    size = 0
    stack: list[tuple[object, tuple[PathPart, ...], int]] = [(doc, (), 1)]
    while stack and len(errors) < MAX_ERRORS:
        node, path, depth = stack.pop()
        if isinstance(node, dict | list) and depth > MAX_DEPTH:
            detail = f"nests deeper than the limit of {MAX_DEPTH} levels"
            errors.append(make_error(path, "max_depth", detail))
            continue
        if isinstance(node, dict):
            size += 1 + max(len(node), 1)
            if len(node) > MAX_ITEMS:
                detail = f"has {len(node):,} members, over the limit of {MAX_ITEMS:,}"
                errors.append(make_error(path, "max_items", detail))
                continue
            for key in getattr(node, "duplicates", ()):
                detail = "is repeated in the same object; each key may appear once"
                errors.append(make_error((*path, key), "duplicate_key", detail))
            for key, value in reversed(node.items()):
                if not isinstance(key, str):
                    detail = f"has a key that is not a string (got {key!r:.40})"
                    errors.append(make_error(path, "json_type", detail))
                    continue
                if len(key) > MAX_STRING_LENGTH:
                    detail = f"has a key of {len(key):,} characters, over the limit"
                    errors.append(make_error(path, "max_string_length", detail))
                    continue
                size += len(key) + 3
                stack.append((value, (*path, key), depth + 1))
        elif isinstance(node, list):
            size += 1 + max(len(node), 1)
            if len(node) > MAX_ITEMS:
                detail = f"has {len(node):,} items, over the limit of {MAX_ITEMS:,}"
                errors.append(make_error(path, "max_items", detail))
                continue
            for index in range(len(node) - 1, -1, -1):
                stack.append((node[index], (*path, index), depth + 1))
        elif isinstance(node, str):
            if len(node) > MAX_STRING_LENGTH:
                detail = (
                    f"is {len(node):,} characters long, over the limit of {MAX_STRING_LENGTH:,}"
                )
                errors.append(make_error(path, "max_string_length", detail))
                continue
            size += len(node) + 2
        elif isinstance(node, float):
            if not math.isfinite(node):
                errors.append(make_error(path, "finite_number", f"must be finite (got {node})"))
            size += 1
        elif node is None or isinstance(node, bool | int):
            size += 1 if isinstance(node, int) and not isinstance(node, bool) else 4
        else:
            detail = f"is not a JSON value (got a {type(node).__name__})"
            errors.append(make_error(path, "json_type", detail))
        if size > max_bytes:
            detail = f"is over the limit of {max_bytes:,} bytes"
            return [make_error([], "max_bytes", detail)]
    if errors:
        return errors
    compact = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if len(compact) > max_bytes:
        detail = f"is {len(compact):,} bytes, over the limit of {max_bytes:,} bytes"
        return [make_error([], "max_bytes", detail)]
    return []


# --- turning jsonschema errors into DossierErrors --------------------------------------


def _number(x: object) -> str:
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, int):
        return str(x)
    if isinstance(x, float):
        return str(int(x)) if x.is_integer() and abs(x) < 1e15 else repr(x)
    return repr(x)


def _given(instance: object) -> str:
    if isinstance(instance, dict):
        return "an object"
    if isinstance(instance, list):
        return f"a list of {len(instance)} item{'s' if len(instance) != 1 else ''}"
    if isinstance(instance, str):
        shown = json.dumps(instance[:60], ensure_ascii=False)
        return shown[:-1] + '..."' if len(instance) > 60 else shown
    if instance is None:
        return "null"
    return _number(instance)


def _bounds(schema: Mapping[str, Any]) -> str:
    parts: list[str] = []
    low, high = schema.get("minimum"), schema.get("maximum")
    ex_low, ex_high = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    if low is not None and high is not None:
        return f" from {_number(low)} to {_number(high)}"
    if ex_low is not None:
        parts.append(f"above {_number(ex_low)}")
    elif low is not None:
        parts.append(f"of at least {_number(low)}")
    if ex_high is not None:
        parts.append(f"below {_number(ex_high)}")
    elif high is not None:
        parts.append(f"at most {_number(high)}")
    return (" " + " and ".join(parts)) if parts else ""


_TYPE_NAMES: Final = {
    "integer": "a whole number",
    "number": "a number",
    "string": "text",
    "boolean": "true or false",
    "array": "a list",
    "object": "an object",
    "null": "null",
}


def _describe(schema: Mapping[str, Any]) -> str:
    """Say what a schema accepts, as a noun phrase: "a number above 0"."""
    if "const" in schema:
        return json.dumps(schema["const"])
    if "enum" in schema:
        return "one of " + ", ".join(json.dumps(v) for v in schema["enum"])
    if isinstance(schema.get("description"), str):
        return str(schema["description"])
    kind = schema.get("type")
    if isinstance(kind, str):
        text = _TYPE_NAMES.get(kind, kind)
        if kind in ("integer", "number"):
            text += _bounds(schema)
        elif kind == "string" and "maxLength" in schema:
            text += f" of at most {schema['maxLength']:,} characters"
        return text
    return "a valid value"


def _from_schema_error(err: ValidationError) -> Iterator[DossierError]:
    path: tuple[PathPart, ...] = tuple(err.absolute_path)
    rule = str(err.validator)
    schema: Mapping[str, Any] = err.schema if isinstance(err.schema, Mapping) else {}
    instance = err.instance
    if rule == "required" and isinstance(instance, dict):
        for name in schema.get("required", ()):
            if name not in instance:
                yield make_error((*path, name), rule, "is required")
    elif rule in ("additionalProperties", "unevaluatedProperties") and isinstance(instance, dict):
        allowed = sorted(schema.get("properties", {}))
        hint = f" (allowed: {', '.join(allowed)})" if allowed else ""
        for name in instance:
            if name not in allowed:
                yield make_error((*path, name), rule, f"is not an allowed field here{hint}")
    elif rule in ("type", "enum", "const", "pattern", "format") or rule in (
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
    ):
        yield make_error(path, rule, f"must be {_describe(schema)} (got {_given(instance)})")
    elif rule == "minItems":
        got = len(instance) if isinstance(instance, list) else 0
        yield make_error(path, rule, f"must have at least {err.validator_value} items (got {got})")
    elif rule == "maxItems":
        got = len(instance) if isinstance(instance, list) else 0
        yield make_error(path, rule, f"must have at most {err.validator_value} items (got {got})")
    elif rule == "uniqueItems":
        yield make_error(path, rule, "must not list the same item twice")
    elif rule == "minLength":
        yield make_error(path, rule, "must not be empty")
    elif rule == "maxLength":
        got = len(instance) if isinstance(instance, str) else 0
        detail = f"must be at most {err.validator_value:,} characters (got {got:,})"
        yield make_error(path, rule, detail)
    else:
        yield make_error(path, rule, err.message)


def _sort_key(error: DossierError) -> tuple[tuple[int, int | str], ...]:
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in error.path.split("."))


# --- rules the schema cannot say -------------------------------------------------------


def field_value(doc: object, *path: PathPart) -> object:
    """Return the value of the field at path (e.g. "sections", "D", "training_flop"), or None."""
    node: object = doc
    for part in path:
        if isinstance(part, int) and isinstance(node, list) and 0 <= part < len(node):
            node = node[part]
        elif isinstance(part, str) and isinstance(node, dict):
            node = node.get(part)
        else:
            return None
    return node.get("value") if isinstance(node, dict) else None


def _is_number(x: object) -> TypeGuard[int | float]:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _items(doc: object, *path: str) -> list[object]:
    node: object = doc
    for part in path:
        node = node.get(part) if isinstance(node, dict) else None
    return node if isinstance(node, list) else []


def _not_above(
    doc: object, section: str, part: str, whole: str, prefix: tuple[PathPart, ...] = ()
) -> Iterator[DossierError]:
    base = ("sections", section, *prefix)
    small, big = field_value(doc, *base, part), field_value(doc, *base, whole)
    if _is_number(small) and _is_number(big) and small > big:
        detail = f"must not exceed {whole} (got {_number(small)} > {_number(big)})"
        yield make_error((*base, part, "value"), "not_above_total", detail)


def _date_order(doc: object, section: str, items: str) -> Iterator[DossierError]:
    for index, _ in enumerate(_items(doc, "sections", section, items)):
        base = ("sections", section, items, index)
        start, end = field_value(doc, *base, "start_date"), field_value(doc, *base, "end_date")
        # ISO dates of one fixed shape compare correctly as strings.
        if isinstance(start, str) and isinstance(end, str) and end < start:
            detail = f"must not be before start_date (got {end} < {start})"
            yield make_error((*base, "end_date", "value"), "date_order", detail)


def _cross_field(doc: object) -> Iterator[DossierError]:
    yield from _not_above(doc, "C", "parameters_active", "parameters_total")
    yield from _not_above(doc, "C", "experts_active", "experts_total")
    for index, _ in enumerate(_items(doc, "sections", "G", "red_team_exercises")):
        yield from _not_above(doc, "G", "successes", "trials", ("red_team_exercises", index))
    flop = field_value(doc, "sections", "D", "training_flop")
    span = field_value(doc, "sections", "D", "training_flop_range")
    if isinstance(span, dict) and _is_number(span.get("low")) and _is_number(span.get("high")):
        low, high = span["low"], span["high"]
        if low > high:
            detail = f"low must not exceed high (got {_number(low)} > {_number(high)})"
            path = ("sections", "D", "training_flop_range", "value")
            yield make_error(path, "range_order", detail)
        elif _is_number(flop) and not low <= flop <= high:
            detail = (
                f"must lie within training_flop_range, {_number(low)} to {_number(high)} "
                f"(got {_number(flop)})"
            )
            yield make_error(("sections", "D", "training_flop", "value"), "within_range", detail)
    yield from _date_order(doc, "D", "stages")
    yield from _date_order(doc, "G", "red_team_exercises")


# --- entry point -----------------------------------------------------------------------


def _dedupe(errors: Iterable[DossierError]) -> list[DossierError]:
    seen: set[tuple[str, str]] = set()
    out: list[DossierError] = []
    for error in errors:
        if (error.path, error.rule) not in seen:
            seen.add((error.path, error.rule))
            out.append(error)
    return out


def _cap(errors: list[DossierError]) -> list[DossierError]:
    if len(errors) <= MAX_ERRORS:
        return errors
    hidden = len(errors) - MAX_ERRORS
    note = f"has {hidden:,} more errors not shown; fix these first"
    return [*errors[:MAX_ERRORS], make_error([], "max_errors", note)]


def validate_dossier(doc: object, *, max_bytes: int = MAX_BYTES) -> list[DossierError]:
    """Check a decoded dossier against bounds, the schema and cross-field rules; [] if valid."""
    errors = _check_limits(doc, max_bytes)
    if errors:
        return _cap(errors)
    version = doc.get("schema_version") if isinstance(doc, dict) else None
    # A dossier of an earlier version is checked against its own schema (then upgraded by
    # versions.upgrade); an unknown version against the current schema, whose const names it.
    known = version if isinstance(version, str) and version in SUPPORTED_VERSIONS else None
    validator = _validator(versions.ALIASES.get(known, known) if known else SCHEMA_VERSION)
    found: list[DossierError] = []
    for err in validator.iter_errors(doc):
        found.extend(_from_schema_error(err))
        if len(found) > MAX_ERRORS * 10:
            break
    found.extend(_cross_field(doc))
    return _cap(sorted(_dedupe(found), key=_sort_key))


__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_ITEMS",
    "MAX_STRING_LENGTH",
    "SCHEMA_VERSION",
    "SUPPORTED_VERSIONS",
    "DossierError",
    "field_value",
    "format_path",
    "invalid_input",
    "load_schema",
    "make_error",
    "parse_dossier",
    "validate_dossier",
]
