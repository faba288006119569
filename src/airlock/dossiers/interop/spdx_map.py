"""How dossier fields sit in an SPDX 3.0.1 document with the AI and Dataset profiles,
shared by the exporter and the importer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

CONTEXT: Final = "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"
# SPDX 3.0.1 profile identifiers (ProfileIdentifierType); anything else is refused on import.
PROFILES: Final = frozenset(
    {
        "core",
        "software",
        "security",
        "licensing",
        "simpleLicensing",
        "expandedLicensing",
        "dataset",
        "ai",
        "build",
        "lite",
        "extension",
    }
)
# C and D scalars carried as ai_hyperparameter entries: key -> (dossier path, value type).
HYPERPARAMETERS: Final[Mapping[str, tuple[str, str]]] = {
    "parameters_total": ("C.parameters_total", "int"),
    "parameters_active": ("C.parameters_active", "int"),
    "layers": ("C.layers", "int"),
    "hidden_size": ("C.hidden_size", "int"),
    "attention_heads": ("C.attention_heads", "int"),
    "experts_total": ("C.experts_total", "int"),
    "experts_active": ("C.experts_active", "int"),
    "context_length": ("C.context_length", "int"),
    "vocabulary_size": ("C.vocabulary_size", "int"),
    "training_flop": ("D.training_flop", "float"),
    "training_tokens": ("D.training_tokens", "int"),
}
# dossier modality -> SPDX DatasetType; the reverse drops "code" (SPDX has no such type).
DATASET_TYPES: Final[Mapping[str, str]] = {
    "text": "text",
    "image": "image",
    "audio": "audio",
    "video": "video",
    "structured_data": "structured",
    "code": "other",
    "actions": "other",
}
FROM_DATASET_TYPE: Final[Mapping[str, str]] = {
    "text": "text",
    "image": "image",
    "audio": "audio",
    "video": "video",
    "structured": "structured_data",
    "numeric": "structured_data",
    "categorical": "structured_data",
    "timeseries": "structured_data",
}
# dossier personal_data -> SPDX PresenceType
PERSONAL: Final[Mapping[str, str]] = {
    "present": "yes",
    "present_minimised": "yes",
    "none_known": "no",
    "unknown": "noAssertion",
}
FROM_PERSONAL: Final[Mapping[str, str]] = {"yes": "present", "no": "none_known"}
