"""What importers and exporters share: sources and pointers, a draft dossier being filled,
bounded JSON decoding, and the disclosure filter every export goes through. Pure."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from airlock.core import safejson
from airlock.core.errors import InvalidInput
from airlock.dossiers import validation, versions

Audience = Literal["public", "agency"]
AUDIENCES: Final[tuple[Audience, ...]] = ("public", "agency")
Level = Literal["public", "reviewer", "restricted"]
PathPart = str | int

# Bounds on an imported file, before any parser sees it.
MAX_FILE_BYTES: Final = 4 * 1024 * 1024
MAX_JSON_DEPTH: Final = 64


@dataclass(frozen=True, slots=True)
class Source:
    """Where an imported value was read: a file name and a JSON pointer into it."""

    file: str
    pointer: str

    def at(self, *parts: PathPart) -> Source:
        """Return the source of a value below this one."""
        return Source(self.file, self.pointer + pointer(*parts))

    def __str__(self) -> str:
        return f"{self.file}#{self.pointer or '/'}"


def pointer(*parts: PathPart) -> str:
    """Join parts into an RFC 6901 JSON pointer: ("a/b", 0) -> "/a~1b/0"."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def import_error(src: Source, rule: str, detail: str) -> InvalidInput:
    """An InvalidInput that names the file and pointer of an imported value."""
    message = f"{src}: {detail}"
    return InvalidInput(
        f"cannot import: {message}", errors=[{"path": str(src), "rule": rule, "message": message}]
    )


def load_json(raw: bytes, *, file: str, limit: int = MAX_FILE_BYTES) -> Any:
    """Decode an untrusted JSON file with bounds on size and nesting."""
    top = Source(file, "")
    if len(raw) > limit:
        raise import_error(top, "max_bytes", f"is {len(raw):,} bytes, over the limit of {limit:,}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise import_error(top, "encoding", f"is not UTF-8 (byte {exc.start})") from None
    if safejson.nesting_exceeds(text, MAX_JSON_DEPTH):
        raise import_error(top, "max_depth", f"nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        detail = f"is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        raise import_error(top, "json", detail) from None
    except ValueError as exc:
        raise import_error(top, "json", f"is not valid JSON: {exc}") from None


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


# --- a dossier being filled ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Filled:
    """One field an import filled: its dossier path and where its value came from."""

    path: str
    source: Source | None


@dataclass
class Draft:
    """A dossier being filled from imported files; the first file to give a field wins."""

    disclosure: Level = "reviewer"
    sections: dict[str, Any] = field(default_factory=dict)
    filled: list[Filled] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def has(self, *path: PathPart) -> bool:
        """Tell whether the field at path already holds a value."""
        return validation.field_value({"sections": self.sections}, "sections", *path) is not None

    def set(self, path: Sequence[PathPart], value: Any, src: Source | None) -> bool:
        """Fill the field at path unless it is already filled; return whether it was set."""
        if value is None or value == "" or value == []:
            return False
        node: Any = self.sections
        for part, nxt in itertools.pairwise(path):
            if isinstance(node, list):
                assert isinstance(part, int)
                while len(node) <= part:
                    node.append({})
                node = node[part]
                continue
            node = node.setdefault(part, [] if isinstance(nxt, int) else {})
        last = path[-1]
        existing = node.get(last) if isinstance(node, dict) else None
        label = validation.format_path(path)
        if isinstance(existing, dict) and "value" in existing:
            if existing["value"] != value:
                where = f" from {src}" if src else ""
                self.notes.append(f"{label}: kept the first value; ignored {value!r:.80}{where}")
            return False
        entry: dict[str, Any] = {
            "value": value,
            "disclosure": self.disclosure,
            # A value the firm typed on the command line has no source file.
            "provenance": "imported" if src else "self_reported",
        }
        if src is not None:
            entry["source"] = {"file": src.file[:500], "pointer": src.pointer[:2000]}
        node[last] = entry
        self.filled.append(Filled(label, src))
        return True

    def index_of(self, section: str, items: str, key: str, value: object) -> int:
        """The index of the list item whose key field holds value, or the next free index."""
        body = self.sections.get(section, {})
        existing = body.get(items, []) if isinstance(body, dict) else []
        for i, item in enumerate(existing):
            if isinstance(item, dict) and (item.get(key) or {}).get("value") == value:
                return i
        return len(existing)

    def index_of_hash(self, digest: str) -> int:
        """The index of the first version's hash entry holding digest, or the next free one."""
        versions = self.sections.get("B", {}).get("versions") or [{}]
        hashes = versions[0].get("authenticity_hashes", [])
        for i, item in enumerate(hashes):
            if (item.get("digest") or {}).get("value") == digest:
                return i
        return len(hashes)

    def dossier(self) -> dict[str, Any]:
        """The draft as a dossier of the current schema version."""
        return {"schema_version": versions.CURRENT, "sections": self.sections}


# --- reading a dossier for export ------------------------------------------------------

_RANK: Final[Mapping[str, int]] = {"public": 0, "reviewer": 1, "restricted": 2}


def _is_field(node: object) -> bool:
    return isinstance(node, dict) and "value" in node and "disclosure" in node


def _filter(node: object, limit: int) -> object:
    """Copy node keeping only fields up to limit; drop markers, empty objects and items."""
    if _is_field(node):
        assert isinstance(node, dict)
        level = node.get("disclosure")
        rank = _RANK.get(level, 2) if isinstance(level, str) else 2  # unknown: fail closed
        return json.loads(json.dumps(node)) if rank <= limit else None
    if isinstance(node, dict):
        out = {k: v for k, c in node.items() if (v := _filter(c, limit)) not in (None, {}, [])}
        return out or None
    if isinstance(node, list):
        kept = [v for c in node if (v := _filter(c, limit)) not in (None, {}, [])]
        return kept or None
    return None  # a bare value or a redaction marker carries nothing an export may show


def for_audience(doc: Mapping[str, Any], audience: Audience) -> dict[str, Any]:
    """The dossier as an audience may receive it: public carries only public fields."""
    if audience not in AUDIENCES:
        raise InvalidInput(f"audience: must be one of {', '.join(AUDIENCES)} (got {audience!r})")
    current = versions.upgrade(doc)
    limit = 0 if audience == "public" else 2
    sections = _filter(current.get("sections"), limit)
    return {
        "schema_version": current["schema_version"],
        "sections": sections if isinstance(sections, dict) else {},
    }


class View:
    """Read-only access to a filtered dossier's values by dotted path."""

    def __init__(self, doc: Mapping[str, Any]) -> None:
        self.doc = doc

    def get(self, path: str) -> Any:
        """The value at "C.layers" (or "D.hardware.accelerator"), or None."""
        return validation.field_value(self.doc, "sections", *path.split("."))

    def items(self, path: str) -> list[dict[str, Any]]:
        """The list items at "E.datasets" (each a dict of fields)."""
        node: Any = self.doc.get("sections")
        for part in path.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        return [i for i in node if isinstance(i, dict)] if isinstance(node, list) else []

    def sections(self) -> Mapping[str, Any]:
        """The dossier's sections."""
        body = self.doc.get("sections")
        return body if isinstance(body, dict) else {}


def item_value(item: Mapping[str, Any], name: str) -> Any:
    """The value of a field of a list item, or None."""
    node = item.get(name)
    return node.get("value") if isinstance(node, dict) else None


def iter_fields(node: object, path: tuple[PathPart, ...] = ()) -> Iterator[tuple[str, Any]]:
    """Every (dotted path, field) of a dossier's sections."""
    if _is_field(node):
        yield validation.format_path(path), node
    elif isinstance(node, dict):
        for key, child in node.items():
            yield from iter_fields(child, (*path, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from iter_fields(child, (*path, index))
