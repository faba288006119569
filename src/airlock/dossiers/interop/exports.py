"""One entry point for every export: filter the dossier for its audience, then render it."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from airlock.core.errors import InvalidInput
from airlock.dossiers.interop.common import AUDIENCES, Audience, for_audience


@dataclass(frozen=True)
class Exported:
    """An export's bytes, media type and a file name to save it under."""

    content: bytes
    media_type: str
    filename: str


def _json(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _cyclonedx(doc: dict[str, Any], now: datetime | None) -> bytes:
    from airlock.dossiers.interop.export_cyclonedx import export_cyclonedx

    return _json(export_cyclonedx(doc, now=now))


def _spdx(doc: dict[str, Any], now: datetime | None) -> bytes:
    from airlock.dossiers.interop.export_spdx import export_spdx

    return _json(export_spdx(doc, now=now))


def _eu_mdf(doc: dict[str, Any], now: datetime | None) -> bytes:
    from airlock.dossiers.interop.export_eu_mdf import export_eu_mdf

    return export_eu_mdf(doc, now=now).encode("utf-8")


def _eu_mdf_pdf(doc: dict[str, Any], now: datetime | None) -> bytes:
    from airlock.dossiers.interop.export_eu_mdf import export_eu_mdf, to_pdf

    return to_pdf(export_eu_mdf(doc, now=now))


def _hf_card(doc: dict[str, Any], now: datetime | None) -> bytes:
    from airlock.dossiers.interop.export_hf import export_hf_card

    return export_hf_card(doc).encode("utf-8")


def _sb53(doc: dict[str, Any], now: datetime | None) -> bytes:
    from airlock.dossiers.interop.export_sb53 import export_sb53

    return export_sb53(doc, now=now).encode("utf-8")


_Render = Callable[[dict[str, Any], datetime | None], bytes]
# format -> (renderer, media type, file name suffix)
FORMATS: Final[Mapping[str, tuple[_Render, str, str]]] = {
    "cyclonedx": (_cyclonedx, "application/vnd.cyclonedx+json", "cdx.json"),
    "spdx": (_spdx, "application/ld+json", "spdx3.jsonld"),
    "eu-mdf": (_eu_mdf, "text/markdown; charset=utf-8", "eu-mdf.md"),
    "eu-mdf-pdf": (_eu_mdf_pdf, "application/pdf", "eu-mdf.pdf"),
    "hf-card": (_hf_card, "text/markdown; charset=utf-8", "README.md"),
    "sb53": (_sb53, "text/markdown; charset=utf-8", "sb53.md"),
}
# The PDF needs fpdf2, which only the `interop` extra installs; the server offers the rest.
SERVER_FORMATS: Final = tuple(f for f in FORMATS if f != "eu-mdf-pdf")


def _slug(name: object) -> str:
    text = re.sub(r"[^A-Za-z0-9._-]+", "-", str(name or "model")).strip("-.")
    return text[:80] or "model"


def export(
    doc: Mapping[str, Any],
    *,
    fmt: str,
    audience: Audience,
    now: datetime | None = None,
    formats: tuple[str, ...] = tuple(FORMATS),
) -> Exported:
    """Render the dossier in a format for an audience (public carries only public fields)."""
    if fmt not in formats:
        raise InvalidInput(f"format: must be one of {', '.join(formats)} (got {fmt[:40]!r})")
    if audience not in AUDIENCES:
        raise InvalidInput(
            f"audience: must be one of {', '.join(AUDIENCES)} (got {str(audience)[:40]!r})"
        )
    filtered = for_audience(doc, audience)
    render, media_type, suffix = FORMATS[fmt]
    name = filtered["sections"].get("B", {}).get("model_name", {}).get("value")
    filename = f"{_slug(name)}.{audience}.{suffix}" if fmt != "hf-card" else suffix
    return Exported(render(filtered, now), media_type, filename)
