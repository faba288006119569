"""Value types every dossier check returns: one result per problem, one report per check."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from airlock.scanning.engine import Severity

__all__ = ["CheckReport", "CheckResult", "DossierView", "Severity", "jsonable"]


def jsonable(value: Any) -> Any:
    """Turn tuples, mappings and non-finite floats into plain JSON values."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [jsonable(v) for v in items]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One problem a dossier check found: what rule, where, and the values on both sides."""

    rule_id: str
    check: str
    severity: Severity
    title: str
    message: str
    location: str
    key: str = ""  # what makes this result the same problem next time (technique, data type...)
    details: Mapping[str, Any] = field(default_factory=dict)
    atlas: tuple[str, ...] = ()

    def fingerprint(self) -> str:
        """A 32-hex-digit identity from rule, location and key; numbers are left out."""
        raw = "\x1f".join((self.rule_id, self.location, self.key))
        return hashlib.sha256(raw.encode()).hexdigest()[:32]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready mapping."""
        return {
            "rule_id": self.rule_id,
            "check": self.check,
            "severity": self.severity.value,
            "title": self.title,
            "message": self.message,
            "location": self.location,
            "details": jsonable(self.details),
            "atlas": list(self.atlas),
            "fingerprint": self.fingerprint(),
        }


@dataclass(frozen=True, slots=True)
class CheckReport:
    """What one check concluded: a summary to show and the results to turn into findings."""

    check: str
    version: str
    summary: Mapping[str, Any]
    results: tuple[CheckResult, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready mapping."""
        return {
            "check": self.check,
            "version": self.version,
            "summary": jsonable(self.summary),
            "results": [r.to_dict() for r in self.results],
        }


_MISSING = object()


class DossierView:
    """Tolerant read access to a dossier document that may not have passed the schema.

    Fields are written {"value": ..., "disclosure": ..., "provenance": ...}; a bare value is
    accepted too. Nothing here raises on a malformed document: missing means None.
    """

    def __init__(self, doc: Mapping[str, Any] | None) -> None:
        self.doc: Mapping[str, Any] = doc if isinstance(doc, Mapping) else {}
        sections = self.doc.get("sections")
        self.sections: Mapping[str, Any] = sections if isinstance(sections, Mapping) else {}

    def section(self, name: str) -> Mapping[str, Any]:
        """One section as a mapping ({} when absent or not an object)."""
        sec = self.sections.get(name)
        return sec if isinstance(sec, Mapping) else {}

    @staticmethod
    def unwrap(node: Any) -> Any:
        """The value of a field node, or the node itself when it is not a field wrapper."""
        if isinstance(node, Mapping) and "value" in node:
            return node["value"]
        return node

    @staticmethod
    def provenance(node: Any) -> str | None:
        """The provenance of a field node, if it states one."""
        if isinstance(node, Mapping) and isinstance(node.get("provenance"), str):
            return str(node["provenance"])
        return None

    def field(self, section: str, *path: str | int) -> Any:
        """The value at sections.<section>.<path...>, unwrapped; None when absent."""
        node: Any = self.section(section)
        for part in path:
            if isinstance(part, int):
                if not isinstance(node, Sequence) or isinstance(node, str) or part >= len(node):
                    return None
                node = node[part]
            else:
                node = self.unwrap(node) if not isinstance(node, Mapping) else node
                if not isinstance(node, Mapping):
                    return None
                node = node.get(part, _MISSING)
                if node is _MISSING:
                    return None
        return self.unwrap(node)

    def items(self, section: str, name: str) -> list[Mapping[str, Any]]:
        """The objects of an array in a section (stages, datasets, controls...)."""
        arr = self.section(section).get(name)
        if not isinstance(arr, list):
            return []
        return [x for x in arr if isinstance(x, Mapping)]


def number_or_problem(value: Any, *, where: str, unit: str) -> tuple[float | None, str | None]:
    """A finite positive number from a dossier value, or a sentence naming what was wrong."""
    if value is None:
        return None, None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None, f"{where}: must be a number in {unit} (got {str(value)[:60]!r})"
    num = float(value)
    if not math.isfinite(num) or num <= 0:
        return None, f"{where}: must be a finite number above 0 in {unit} (got {value!r})"
    return num, None
