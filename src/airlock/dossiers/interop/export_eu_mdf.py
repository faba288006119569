"""Export a dossier as the EU GPAI Code of Practice's Model Documentation Form (Transparency
chapter, Measure 1.1), in Markdown, following the form's numbering and split by recipient:
the AI Office (AIO), national competent authorities (NCA) and downstream providers (DP).

Every numbered item appears in every part it is addressed to; an item the dossier is silent
on reads "not provided". The numbering follows a transcription of the form (see
docs/dossier.md); check it against the official document before relying on it. Pure.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from airlock.dossiers.interop.common import View, item_value

NOT_PROVIDED: Final = "not provided"
AIO, NCA, DP = "AIO", "NCA", "DP"
RECIPIENTS: Final = {
    AIO: "AI Office",
    NCA: "National competent authorities",
    DP: "Downstream providers",
}
ALL: Final = frozenset({AIO, NCA, DP})
AUTHORITIES: Final = frozenset({AIO, NCA})

Render = Callable[[View, str], str | None]


@dataclass(frozen=True)
class Item:
    """One numbered item of the form: its number, title, recipients and how it is filled."""

    number: str
    title: str
    recipients: frozenset[str]
    render: Render


def _sig(value: float, digits: int = 2) -> str:
    if value == 0:
        return "0"
    exponent = math.floor(math.log10(abs(value)))
    mantissa = round(value / 10**exponent, digits - 1)
    if mantissa >= 10:
        mantissa, exponent = mantissa / 10, exponent + 1
    return f"{mantissa:.{digits - 1}f}x10^{exponent}"


def _text(path: str) -> Render:
    def render(view: View, recipient: str) -> str | None:
        value = view.get(path)
        if isinstance(value, list):
            return "; ".join(map(str, value)) or None
        return None if value is None else str(value)

    return render


def _labelled(*pairs: tuple[str, str]) -> Render:
    def render(view: View, recipient: str) -> str | None:
        lines = [
            f"{label}: {'; '.join(map(str, v)) if isinstance(v, list) else v}"
            for label, path in pairs
            if (v := view.get(path)) not in (None, [])
        ]
        return "; ".join(lines) or None

    return render


def _model_name(view: View, recipient: str) -> str | None:
    name = view.get("B.model_name")
    versions = [item_value(v, "version") for v in view.items("B.versions")]
    parts = [f"name: {name}"] if name else []
    if view.get("B.identifier"):
        parts.append(f"identifier: {view.get('B.identifier')}")
    if view.get("B.model_family"):
        parts.append(f"collection: {view.get('B.model_family')}")
    if any(versions):
        parts.append("versions covered: " + ", ".join(v for v in versions if v))
    return "; ".join(parts) or None


def _authenticity(view: View, recipient: str) -> str | None:
    lines = [
        f"{item_value(h, 'artifact') or 'artifact'} {item_value(h, 'digest')}"
        for v in view.items("B.versions")
        for h in v.get("authenticity_hashes", [])
        if item_value(h, "digest")
    ]
    endpoint = view.get("G.eval_endpoint.base_url")
    if endpoint:
        lines.append(f"endpoint: {endpoint}")
    return "; ".join(lines) or None


def _release(view: View, recipient: str) -> str | None:
    dates = []
    for v in view.items("B.versions"):
        if item_value(v, "release_date"):
            dates.append(f"{item_value(v, 'version')}: {item_value(v, 'release_date')}")
        elif item_value(v, "planned_release_date"):
            planned = item_value(v, "planned_release_date")
            dates.append(f"{item_value(v, 'version')}: planned {planned}")
    return "; ".join(dates) or None


def _dependencies(view: View, recipient: str) -> str | None:
    bases = [
        " ".join(
            str(x)
            for x in (item_value(b, "name"), item_value(b, "version"), item_value(b, "relation"))
            if x
        )
        for b in view.items("B.base_models")
    ]
    return "; ".join(b for b in bases if b) or None


def _modalities(path: str, size: str | None) -> Render:
    def render(view: View, recipient: str) -> str | None:
        kinds = view.get(path)
        if not kinds:
            return None
        limit = view.get(size) if size else None
        suffix = f" (maximum input: {limit:,} tokens)" if limit else ""
        return ", ".join(kinds) + suffix

    return render


_SIZE_RANGES: Final = (
    (5e8, "1-500M"),
    (5e9, "500M-5B"),
    (1.5e10, "5-15B"),
    (5e10, "15-50B"),
    (1e11, "50-100B"),
    (5e11, "100-500B"),
    (1e12, "500B-1T"),
)


def _size(view: View, recipient: str) -> str | None:
    total = view.get("C.parameters_total")
    if not isinstance(total, int):
        return None
    band = next((label for limit, label in _SIZE_RANGES if total <= limit), ">1T")
    active = view.get("C.parameters_active")
    extra = f"; active per token: {_sig(active)}" if isinstance(active, int) else ""
    return f"{_sig(total)} parameters (range {band}){extra}"


def _stages(view: View, recipient: str) -> str | None:
    stages = [
        ": ".join(
            str(x) for x in (item_value(s, "name"), item_value(s, "description")) if x is not None
        )
        for s in view.items("D.stages")
    ]
    return "; ".join(s for s in stages if s) or None


def _data_modalities(view: View, recipient: str) -> str | None:
    kinds = sorted({m for d in view.items("E.datasets") for m in item_value(d, "modalities") or []})
    return ", ".join(kinds) or None


_PROVENANCE_BOXES: Final = (
    ("Web crawling", {"web_crawl"}),
    ("Private non-publicly available datasets obtained from third parties", {"licensed"}),
    ("User data", {"user_data"}),
    ("Publicly available datasets", {"public_dataset"}),
    ("Synthetic data not publicly accessible", {"synthetic"}),
    ("Other", {"proprietary", "other"}),
)


def _provenance(view: View, recipient: str) -> str | None:
    found = {item_value(d, "provenance") for d in view.items("E.datasets")} - {None}
    if not found:
        return None
    return "; ".join(
        f"[{'x' if kinds & found else ' '}] {label}" for label, kinds in _PROVENANCE_BOXES
    )


def _per_dataset(key: str) -> Render:
    def render(view: View, recipient: str) -> str | None:
        lines = [
            f"{item_value(d, 'name') or 'dataset'}: {item_value(d, key)}"
            for d in view.items("E.datasets")
            if item_value(d, key)
        ]
        return "; ".join(lines) or None

    return render


def _data_points(view: View, recipient: str) -> str | None:
    tokens = [item_value(d, "size_tokens") for d in view.items("E.datasets")]
    examples = [item_value(d, "size_examples") for d in view.items("E.datasets")]
    tokens_total = sum(t for t in tokens if isinstance(t, int)) or view.get("D.training_tokens")
    examples_total = sum(e for e in examples if isinstance(e, int))
    parts = []
    for total, unit in ((tokens_total, "tokens"), (examples_total, "examples")):
        if total:
            # Authorities other than the AI Office get an order of magnitude only.
            shown = _sig(total) if recipient == AIO else f"~10^{round(math.log10(total))}"
            parts.append(f"{shown} {unit}")
    return "; ".join(parts) or None


def _obtained(view: View, recipient: str) -> str | None:
    sources = _per_dataset("source")(view, recipient)
    summary = view.get("E.summary")
    return "; ".join(p for p in (summary, sources and f"sources: {sources}") if p) or None


def _training_time(view: View, recipient: str) -> str | None:
    hours = view.get("D.hardware.training_hours")
    chips = view.get("D.hardware.accelerator_count")
    if not isinstance(hours, int | float):
        return None
    days = hours / 24
    if recipient != AIO:
        months = days / 30.4
        band = next(
            (label for limit, label in ((1, "<1"), (3, "1-3"), (6, "3-6")) if months < limit), ">6"
        )
        return f"{band} months"
    text = f"{days:.1f} days wall-clock"
    if isinstance(chips, int):
        text += f"; {_sig(days * chips)} hardware-days ({chips:,} accelerators)"
    return text


def _compute(view: View, recipient: str) -> str | None:
    flop = view.get("D.training_flop")
    if not isinstance(flop, int | float):
        return None
    if recipient != AIO:
        return f"order of magnitude 10^{math.floor(math.log10(flop))} FLOP"
    span = view.get("D.training_flop_range")
    extra = (
        f" (range {_sig(span['low'])} to {_sig(span['high'])})" if isinstance(span, dict) else ""
    )
    return f"{_sig(flop)} FLOP{extra}"


def _energy(view: View, recipient: str) -> str | None:
    kwh = view.get("D.energy_kwh")
    return f"{_sig(kwh / 1000)} MWh" if isinstance(kwh, int | float) and kwh > 0 else None


def _none(view: View, recipient: str) -> str | None:
    return None  # the dossier has no field for this item


ITEMS: Final[Sequence[Item]] = (
    Item(
        "1.1",
        "Legal name of the model provider",
        ALL,
        _labelled(("legal entity", "A.legal_entity"), ("developer", "A.developer_name")),
    ),
    Item("1.2", "Model name", ALL, _model_name),
    Item("1.3", "Model authenticity", ALL, _authenticity),
    Item("1.4", "Release date", ALL, _release),
    Item("1.5", "Union market release date", AUTHORITIES, _none),
    Item("1.6", "Model dependencies", ALL, _dependencies),
    Item("2.1", "Model architecture", ALL, _text("C.architecture")),
    Item("2.2", "Design specifications of the model", ALL, _text("C.architecture_description")),
    Item("2.3", "Input modalities", ALL, _modalities("C.input_modalities", "C.context_length")),
    Item("2.4", "Output modalities", ALL, _modalities("C.output_modalities", None)),
    Item("2.5", "Total model size", ALL, _size),
    Item("3.1", "Methods of distribution", ALL, _text("F.distribution_channels")),
    Item("3.2", "Licence", ALL, _text("F.model_licence")),
    Item("4.1", "Acceptable use policy", ALL, _text("F.acceptable_use_policy")),
    Item(
        "4.2",
        "Intended uses, or restricted or prohibited uses",
        ALL,
        _labelled(("intended", "F.intended_uses"), ("prohibited", "F.prohibited_uses")),
    ),
    Item(
        "4.3",
        "Type and nature of AI systems the model can be integrated into",
        ALL,
        _text("F.downstream_integration"),
    ),
    Item("4.4", "Technical means for integration", ALL, _none),
    Item("4.5", "Required hardware", ALL, _none),
    Item("4.6", "Required software", ALL, _none),
    Item("5.1", "Design specifications of the training process", ALL, _stages),
    Item("5.2", "Decision rationale", AUTHORITIES, _none),
    Item("6.1", "Data type and modality", ALL, _data_modalities),
    Item("6.2", "Data provenance", ALL, _provenance),
    Item("6.3", "How the data was obtained and selected", ALL, _obtained),
    Item("6.4", "Number of data points", AUTHORITIES, _data_points),
    Item("6.5", "Scope and main characteristics", ALL, _per_dataset("description")),
    Item("6.6", "Data curation methodologies", AUTHORITIES, _per_dataset("curation")),
    Item(
        "6.7",
        "Measures to detect unsuitability of data sources",
        AUTHORITIES,
        _per_dataset("personal_data_measures"),
    ),
    Item("6.8", "Measures to detect identifiable biases", AUTHORITIES, _none),
    Item("7.1", "Training time", AUTHORITIES, _training_time),
    Item("7.2", "Amount of computation used for training", AUTHORITIES, _compute),
    Item("7.3", "Measurement methodology", AUTHORITIES, _text("D.training_flop_method")),
    Item("8.1", "Energy used for training", AUTHORITIES, _energy),
    Item("8.2", "Energy measurement methodology", AUTHORITIES, _text("D.energy_method")),
    Item("8.3", "Benchmarked amount of computation used for inference", AUTHORITIES, _none),
    Item("8.4", "Methodology for the inference benchmark", AUTHORITIES, _none),
)
SECTION_TITLES: Final = {
    "1": "General information",
    "2": "Model properties",
    "3": "Methods of distribution and licences",
    "4": "Use",
    "5": "Training process",
    "6": "Data used for training, testing and validation",
    "7": "Computational resources (training)",
    "8": "Energy consumption",
}


def _one_line(text: str) -> str:
    return " ".join(text.split())


def export_eu_mdf(doc: dict[str, Any], *, now: datetime | None = None) -> str:
    """Return an audience-filtered dossier as the Model Documentation Form, in Markdown."""
    view = View(doc)
    today = (now or datetime.now(UTC)).date().isoformat()
    versions = view.items("B.versions")
    doc_version = item_value(versions[0], "version") if versions else None
    name = view.get("B.model_name") or "the model"
    lines = [
        f"# Model Documentation Form: {name}",
        "",
        f"- Date last updated: {today}",
        f"- Document version number: {doc_version or NOT_PROVIDED}",
        "",
        "EU GPAI Code of Practice, Transparency chapter (AI Act Art. 53(1)(a)-(b), "
        "Annexes XI and XII). Items for the AI Office and national competent authorities "
        "are disclosed on request only, under Art. 78 confidentiality.",
    ]
    for code, recipient in RECIPIENTS.items():
        lines += ["", f"## For the {recipient} ({code})"]
        section = ""
        for item in ITEMS:
            if code not in item.recipients:
                continue
            head = item.number.split(".")[0]
            if head != section:
                section = head
                lines += ["", f"### {head}. {SECTION_TITLES[head]}", ""]
            value = item.render(view, code)
            shown = _one_line(value) if value else f"*{NOT_PROVIDED}*"
            lines.append(f"- **{item.number} {item.title}:** {shown}")
    return "\n".join(lines) + "\n"


def to_pdf(markdown: str) -> bytes:
    """Render the form's Markdown as a plain PDF with fpdf2 (pure Python, core fonts)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    for line in markdown.splitlines():
        # Core fonts are Latin-1; anything else is replaced so the text stays readable.
        text = line.replace("*", "")
        text = text.encode("latin-1", "replace").decode("latin-1")
        size, style = 10, ""
        if text.startswith("#"):
            level = len(text) - len(text.lstrip("#"))
            size, style = {1: 16, 2: 14}.get(level, 12), "B"
            text = text.lstrip("# ")
        pdf.set_font("Helvetica", style=style, size=size)
        pdf.multi_cell(0, size * 0.5, text or " ", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
