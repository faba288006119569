"""The report's charts as self-contained SVG: the page shows them inline (no script, nothing
from another host) and the PDF draws the same SVG, so both carry the same pictures.

Colours are written on the shapes rather than in a style sheet so that the PDF renderer,
which reads no CSS, draws them as the browser does. A withheld figure is never drawn as a
length: its bar segment is left out and the bar says that figures are withheld.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

# USWDS palette tokens with at least 3:1 contrast against white.
COLOURS = ("#005ea2", "#c05600", "#538200", "#8168b3", "#d83933", "#1a4480")
TEXT = "#1b1b1b"


@dataclass(frozen=True)
class Chart:
    """One chart: an id, a title, a description, and its SVG source."""

    id: str
    title: str
    description: str
    svg: str


def _attr(value: Any) -> str:
    return escape(str(value), {'"': "&quot;"})


def stacked_bars(
    chart_id: str,
    title: str,
    description: str,
    bars: Sequence[tuple[str, Sequence[tuple[str, int | None]]]],
    *,
    series: Sequence[str],
) -> Chart:
    """Horizontal stacked bars: bars are (label, [(series, value or None if withheld)])."""
    top = 34
    # Long series names get a legend line each, short ones share a line three at a time.
    per_line = 3 if max((len(n) for n in series), default=0) <= 22 else 1
    legend_y = top + 28 * len(bars) + 14
    height = legend_y + 18 * ((len(series) + per_line - 1) // per_line) + 4
    widest = max((sum(v or 0 for _, v in parts) for _, parts in bars), default=0) or 1
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 720 {height}" '
        f'width="720" height="{height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" font-family="Helvetica, Arial, '
        'sans-serif" font-size="13">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
        f'<text x="0" y="18" font-size="15" font-weight="bold" fill="{TEXT}">'
        f"{escape(title)}</text>",
    ]
    colour = {name: COLOURS[i % len(COLOURS)] for i, name in enumerate(series)}
    for row, (label, parts) in enumerate(bars):
        y = top + 28 * row
        out.append(
            f'<text x="170" y="{y + 15}" text-anchor="end" fill="{TEXT}">{escape(label)}</text>'
        )
        x = 180.0
        withheld = False
        for name, value in parts:
            if value is None:
                withheld = True
                continue
            width = round(320 * value / widest, 1)
            if width > 0:
                out.append(
                    f'<rect x="{x}" y="{y + 2}" width="{width}" height="18" '
                    f'fill="{colour[name]}"><title>{escape(name)}: {value}</title></rect>'
                )
            x += width
        total = sum(v or 0 for _, v in parts)
        note = f"{total} shown, some withheld" if withheld else str(total)
        out.append(f'<text x="{x + 6}" y="{y + 15}" fill="{TEXT}">{escape(note)}</text>')
    for i, name in enumerate(series):
        lx = 180 + 180 * (i % per_line)
        ly = legend_y + 18 * (i // per_line)
        out.append(f'<rect x="{lx}" y="{ly}" width="12" height="12" fill="{colour[name]}"/>')
        out.append(f'<text x="{lx + 18}" y="{ly + 11}" fill="{TEXT}">{escape(name)}</text>')
    out.append("</svg>")
    return Chart(chart_id, title, description, "\n".join(out))


def charts(content: dict[str, Any], label: Any) -> list[Chart]:
    """The charts of a report's public content; label(key, vocabulary) names rows and series."""
    tables = {t["name"]: t for t in content["tables"]}
    out = []
    part = tables["participation"]
    names = [label(c, "participation") for c in part["columns"]]
    out.append(
        stacked_bars(
            "chart-participation",
            "Firms taking part over time",
            "Firms enrolled, active, suspended and withdrawn at the end of each "
            "period; withheld figures are not drawn.",
            [(r["row"], list(zip(names, r["cells"], strict=True))) for r in part["rows"]],
            series=names,
        )
    )
    subs = tables["submissions"]
    names = [label(c, "report") for c in subs["columns"]]
    out.append(
        stacked_bars(
            "chart-submissions",
            "Submissions received and reviews completed",
            "For each period, submissions received and reviews completed before or after the "
            "model's declared release date.",
            [(r["row"], list(zip(names, r["cells"], strict=True))) for r in subs["rows"]],
            series=names,
        )
    )
    found = tables["findings"]
    severities = [label(c, "severity") for c in found["columns"]]
    totals = found["totals"] or [None] * (len(severities) + 1)
    out.append(
        stacked_bars(
            "chart-findings",
            "Confirmed findings by severity",
            "Findings confirmed in the period, by the severity reviewers gave them.",
            [(name, [(name, value)]) for name, value in zip(severities, totals, strict=False)],
            series=severities,
        )
    )
    return out
