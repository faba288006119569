"""Pure dossier rules: what a firm's agreed scopes let it share, what a submission must hold,
and the redacted views each kind of viewer gets. No database, no web."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any, Final, Literal

from airlock.dossiers.validation import DossierError, make_error
from airlock.enrollment.rules import Scope

Disclosure = Literal["public", "reviewer", "restricted"]

SCOPES: Final = tuple(s.value for s in Scope)  # the agreement's scopes, as dossier keys
SECTIONS: Final = tuple("ABCDEFGHIJKL")
DISCLOSURE_LEVELS: Final[tuple[Disclosure, ...]] = ("public", "reviewer", "restricted")
_RANK: Final[Mapping[str, int]] = {level: rank for rank, level in enumerate(DISCLOSURE_LEVELS)}

# The scope a firm must have agreed to before a section may carry anything; None means
# every participating firm may fill it in.
SECTION_SCOPES: Final[Mapping[str, str | None]] = {
    "A": None,
    "B": None,
    "C": "architecture",
    "D": "training_data_docs",
    "E": "training_data_docs",
    "F": None,
    # The firm's own evaluation and red-team results are documentation any firm may share;
    # only handing the agency a live endpoint to probe (G.eval_endpoint) needs its own scope.
    "G": None,
    "H": "safeguards",
    "I": "weights",
    "J": None,
    "K": None,
}
# Parts of a section that need a scope of their own, checked in addition to the section's.
FIELD_SCOPES: Final[Mapping[tuple[str, str], str]] = {("G", "eval_endpoint"): "eval_endpoint"}
# The agency's review record: never accepted from a firm, whatever its scopes.
AGENCY_SECTIONS: Final = frozenset({"L"})

# What a submitted dossier must hold, per section: the fields a reviewer cannot start without.
# A and B are always required; a section the firm agreed to share is required when the
# caller passes the scopes, and any section present must hold its own key fields.
ALWAYS_REQUIRED: Final = ("A", "B")
REQUIRED_ON_SUBMIT: Final[Mapping[str, tuple[str, ...]]] = {
    "A": ("developer_name", "contact_email"),
    "B": ("model_name", "versions"),
    "C": ("architecture", "parameters_total"),
    "D": ("training_flop", "training_flop_method"),
    "E": ("datasets",),
    "H": ("controls",),
    "I": ("weights_release",),
}
# Lists named in REQUIRED_ON_SUBMIT that must hold at least one item.
_NON_EMPTY: Final = frozenset({"versions", "datasets", "controls"})


def _sections(doc: object) -> dict[str, Any]:
    sections = doc.get("sections") if isinstance(doc, dict) else None
    return sections if isinstance(sections, dict) else {}


def _check_known(scopes: frozenset[str]) -> None:
    unknown = sorted(scopes - frozenset(SCOPES))
    if unknown:
        raise ValueError(f"unknown scopes {unknown}; known: {', '.join(SCOPES)}")


def _carries(node: object) -> bool:
    """Tell whether a section or part of one holds anything (an empty object holds nothing)."""
    return bool(node) if isinstance(node, dict | list) else node is not None


def check_scopes(doc: object, scopes: frozenset[str]) -> list[DossierError]:
    """List the sections (and fields) a firm with these scopes may not submit; [] if none."""
    _check_known(scopes)
    agreed = ", ".join(s for s in SCOPES if s in scopes) or "none"
    errors: list[DossierError] = []
    for name, body in _sections(doc).items():
        if not _carries(body):
            continue
        if name in AGENCY_SECTIONS:
            detail = "is the agency's review record; a firm cannot submit it"
            errors.append(make_error(("sections", name), "agency_only", detail))
            continue
        if name not in SECTION_SCOPES:
            # The schema refuses unknown sections too; this keeps the rule closed by itself.
            detail = "is not a dossier section, so no scope allows it"
            errors.append(make_error(("sections", name), "scope", detail))
            continue
        needed = SECTION_SCOPES[name]
        if needed is not None and needed not in scopes:
            detail = (
                f'needs the "{needed}" scope, which the participation agreement does '
                f"not include (agreed: {agreed})"
            )
            errors.append(make_error(("sections", name), "scope", detail))
            continue
        for (section, field), field_scope in FIELD_SCOPES.items():
            if section != name or field_scope in scopes or not isinstance(body, dict):
                continue
            if _carries(body.get(field)):
                detail = (
                    f'needs the "{field_scope}" scope, which the participation agreement '
                    f"does not include (agreed: {agreed})"
                )
                errors.append(make_error(("sections", name, field), "scope", detail))
    return errors


def required_sections(scopes: frozenset[str] | None = None) -> tuple[str, ...]:
    """Return the sections a submitted dossier must contain for a firm with these scopes."""
    wanted = set(ALWAYS_REQUIRED)
    if scopes is not None:
        _check_known(scopes)
        wanted |= {s for s, scope in SECTION_SCOPES.items() if scope in scopes and scope}
    return tuple(s for s in SECTIONS if s in wanted)


def check_complete(doc: object, *, scopes: frozenset[str] | None = None) -> list[DossierError]:
    """List what a schema-valid dossier still lacks before it may be submitted; [] if none."""
    # A and B always; with scopes, each section they cover; and any section present, required
    # or not, must hold its key fields (REQUIRED_ON_SUBMIT).
    sections = _sections(doc)
    errors: list[DossierError] = []
    must = required_sections(scopes)
    for name in SECTIONS:
        body = sections.get(name)
        if name in must and not _carries(body):
            errors.append(make_error(("sections", name), "required", "is required to submit"))
            continue
        if not isinstance(body, dict) or not body:
            continue
        for field in REQUIRED_ON_SUBMIT.get(name, ()):
            value = body.get(field)
            if value is None:
                detail = "is required to submit"
                errors.append(make_error(("sections", name, field), "required", detail))
            elif field in _NON_EMPTY and isinstance(value, list) and not value:
                detail = "must list at least one item to submit"
                errors.append(make_error(("sections", name, field), "minItems", detail))
    return errors


# --- redaction -------------------------------------------------------------------------


def _is_field(node: object) -> bool:
    # A sealed field (see submissions.sealed) carries "sealed" in place of "value".
    return isinstance(node, dict) and ("value" in node or "sealed" in node)


_MapField = Callable[[tuple[str, ...], dict[str, Any]], dict[str, Any]]


def _map_fields(node: object, path: tuple[str, ...], fn: _MapField) -> object:
    if _is_field(node):
        assert isinstance(node, dict)
        return fn(path, node) if _level(node) != "public" else copy.deepcopy(node)
    if isinstance(node, dict):
        return {key: _map_fields(child, (*path, str(key)), fn) for key, child in node.items()}
    if isinstance(node, list):
        return [_map_fields(child, (*path, str(i)), fn) for i, child in enumerate(node)]
    return copy.deepcopy(node)


def map_confidential_fields(doc: Mapping[str, Any], fn: _MapField) -> dict[str, Any]:
    """A copy of the dossier with every non-public field replaced by fn(path, field)."""
    out = dict(doc)
    if "sections" in doc:
        out["sections"] = _map_fields(doc["sections"], ("sections",), fn)
    return out


_Keep = Callable[[Mapping[str, Any]], "dict[str, Any] | None"]


def _redact(node: object, keep: _Keep) -> object:
    """Copy node, replacing each field for which keep(field) returns a marker instead."""
    if _is_field(node):
        assert isinstance(node, dict)
        marker = keep(node)
        return copy.deepcopy(node) if marker is None else marker
    if isinstance(node, dict):
        return {key: _redact(child, keep) for key, child in node.items()}
    if isinstance(node, list):
        return [_redact(child, keep) for child in node]
    # A bare value outside a field wrapper has no disclosure level; fail closed.
    return {"redacted": True, "disclosure": "restricted"}


def _version(doc: Mapping[str, Any]) -> str | None:
    # Copied outside any field, so only a plausible version string passes through.
    version = doc.get("schema_version")
    return version if isinstance(version, str) and len(version) <= 16 else None


def _level(field: Mapping[str, Any]) -> str:
    # An unknown or missing level is treated as the most confidential: fail closed.
    level = field.get("disclosure")
    return level if isinstance(level, str) and level in _RANK else "restricted"


def redacted_view(doc: Mapping[str, Any], max_level: Disclosure) -> dict[str, Any]:
    """Return a copy showing fields up to max_level; others become {"redacted", "disclosure"}."""
    if max_level not in _RANK:
        raise ValueError(f"unknown disclosure level {max_level!r}")
    limit = _RANK[max_level]

    def keep(field: Mapping[str, Any]) -> dict[str, Any] | None:
        level = _level(field)
        return None if _RANK[level] <= limit else {"redacted": True, "disclosure": level}

    return {"schema_version": _version(doc), "sections": _redact(_sections(doc), keep)}


def public_view(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Return what anyone may see: only fields whose disclosure is public."""
    return redacted_view(doc, "public")


def confidential_view(doc: Mapping[str, Any], max_level: Disclosure = "reviewer") -> dict[str, Any]:
    """Return what an assigned reviewer sees: up to `reviewer` unless restricted is granted."""
    return redacted_view(doc, max_level)


def redact_all_confidential(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy with every reviewer/restricted field replaced by a withdrawal marker."""

    def keep(field: Mapping[str, Any]) -> dict[str, Any] | None:
        if _level(field) == "public":
            return None
        return {"redacted": True, "reason": "withdrawn"}

    return {"schema_version": _version(doc), "sections": _redact(_sections(doc), keep)}
