"""How dossier fields sit in a CycloneDX 1.6 ML-BOM, shared by the exporter and the importer.

What CycloneDX has a place for goes there (component name, version, supplier, licence,
pedigree, modelCard, data components, file hashes); a fixed list of scalar dossier fields that
reviewers compare with the artifacts goes into `properties` named `airlock:<path>`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

PROPERTY_PREFIX: Final = "airlock:"
# dossier path -> JSON type of its value, carried as component properties.
MODEL_PROPERTIES: Final[Mapping[str, str]] = {
    "B.identifier": "str",
    "C.parameters_total": "int",
    "C.parameters_active": "int",
    "C.layers": "int",
    "C.hidden_size": "int",
    "C.attention_heads": "int",
    "C.experts_total": "int",
    "C.experts_active": "int",
    "C.context_length": "int",
    "C.vocabulary_size": "int",
    "D.training_flop": "float",
    "D.training_flop_method": "str",
    "D.training_tokens": "int",
    # Also in modelCard's energy considerations, but only beside an energy figure.
    "D.emissions_tco2e": "float",
    "I.weights_release": "str",
}
# dossier paths whose list values are carried one property per item.
MODEL_LIST_PROPERTIES: Final = ("C.languages", "F.prohibited_uses")
DATASET_PROPERTIES: Final[Mapping[str, str]] = {
    "provenance": "str",
    "source": "str",
    "size_tokens": "int",
    "size_bytes": "int",
    "size_examples": "int",
    "personal_data": "str",
    "collection_end_date": "str",
    "curation": "str",
    "personal_data_measures": "str",
}
DATASET_LIST_PROPERTIES: Final = ("modalities",)
BASE_MODEL_PROPERTIES: Final[Mapping[str, str]] = {"relation": "str"}


def parse_property(kind: str, text: str) -> int | float | str | None:
    """Turn a property's text back into the dossier's value type; None if it does not parse."""
    try:
        if kind == "int":
            return int(text)
        if kind == "float":
            return float(text)
    except ValueError:
        return None
    return text


def format_property(value: object) -> str:
    """Write a dossier value as a property's text."""
    if isinstance(value, float) and value.is_integer() and abs(value) >= 1e16:
        return repr(value)
    return str(value)
