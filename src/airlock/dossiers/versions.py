"""Dossier schema versions and the migrations between them.

Every schema carries a semantic version in its `$id` (`urn:airlock:schema:dossier:1.1.0`)
and in the `schema_version` a dossier states. Dossiers stored under an earlier version are
upgraded one step at a time by the functions in `STEPS`; the editor and the API always write
`CURRENT`. Pure: no database, no web.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any, Final

from airlock.core.errors import InvalidInput

CURRENT: Final = "1.1.0"
# Oldest first; each has a schema file dossier-<version>.schema.json.
VERSIONS: Final = ("1.0.0", "1.1.0")
# Labels written before versions were semantic: 1.0.0 dossiers say "1.0".
ALIASES: Final[Mapping[str, str]] = {"1.0": "1.0.0"}
_SCHEMA_LABEL: Final[Mapping[str, str]] = {"1.0.0": "1.0", "1.1.0": "1.1.0"}

Dossier = dict[str, Any]


def normalise(label: object) -> str:
    """Return the semantic version a schema_version label names; InvalidInput if unknown."""
    if isinstance(label, str):
        version = ALIASES.get(label, label)
        if version in VERSIONS:
            return version
    shown = repr(label)[:40] if label is not None else "nothing"
    known = ", ".join(VERSIONS)
    raise InvalidInput(
        f"schema_version: no dossier schema version {shown} (known: {known})",
        errors=[
            {
                "path": "schema_version",
                "rule": "schema_version",
                "message": f"schema_version: must be one of {known} (got {shown})",
            }
        ],
    )


def label_of(version: str) -> str:
    """Return the schema_version value a dossier of this version states."""
    return _SCHEMA_LABEL[version]


def _to_1_1_0(doc: Dossier) -> Dossier:
    # 1.1.0 only widens 1.0.0 (provenance "imported", an optional source per field), so
    # every 1.0.0 field is valid as it is; the document only changes its label.
    doc["schema_version"] = "1.1.0"
    return doc


# version -> (next version, function upgrading a dossier of version to next)
STEPS: Final[Mapping[str, tuple[str, Callable[[Dossier], Dossier]]]] = {
    "1.0.0": ("1.1.0", _to_1_1_0),
}


def upgrade(doc: Mapping[str, Any], *, to: str = CURRENT) -> Dossier:
    """Return a copy of doc upgraded step by step to version `to` (the current by default)."""
    version = normalise(doc.get("schema_version"))
    target = normalise(to)
    if VERSIONS.index(target) < VERSIONS.index(version):
        raise InvalidInput(f"schema_version: cannot downgrade a {version} dossier to {target}")
    out: Dossier = copy.deepcopy(dict(doc))
    while version != target:
        version, step = STEPS[version]
        out = step(out)
    return out


def needs_upgrade(doc: Mapping[str, Any]) -> bool:
    """Tell whether doc is of an earlier version than the current one."""
    return normalise(doc.get("schema_version")) != CURRENT
