"""A published report as CSV and as PDF (with the same SVG charts as the page).

The PDF library (fpdf2, in the `interop` extra) is imported only when a PDF is asked for, so
serving the site and its CSV never loads it, and a server without it answers that PDFs are
unavailable instead of failing to start.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from typing import Any

from airlock.core.errors import AirlockError
from airlock.publishing.report_charts import charts

Label = Callable[[Any, str], str]
WITHHELD = "withheld"


class PdfUnavailable(AirlockError):
    """The server was installed without the PDF library."""

    status_code = 501


TIME_ROWS = ("participation", "submissions")


def _row(table: str, row: str, label: Label) -> str:
    # Rows over time are periods (2026-07, 2026Q3), shown as written.
    return row if table in TIME_ROWS else label(row, "report")


def _vocabulary(table: str, axis: str) -> str:
    if table == "participation" and axis == "column":
        return "participation"
    if table == "findings" and axis == "column":
        return "severity"
    return "report"


_FIGURE_KEY = re.compile(r"^(\w+)\[([^\]]*)\]\[([^\]]*)\]$")


def figure_words(content: dict[str, Any], key: str, label: Label) -> str:
    """A figure's key (`table[row][column]`) in words: its table's title, row and column."""
    m = _FIGURE_KEY.match(key)
    if m is None:
        return label(key, "report")
    name, row, column = m.groups()
    title = next((t["title"] for t in content["tables"] if t["name"] == name), name)
    row_words = "Total" if row == "total" else _row(name, row, label)
    column_words = "Total" if column == "total" else label(column, _vocabulary(name, "column"))
    return f"{title}: {row_words}, {column_words}"


def rows(content: dict[str, Any], label: Label) -> list[list[str]]:
    """Every figure of the report as (table, row, column, value) rows; withheld ones say so."""
    out = [["table", "row", "column", "value"]]
    for t in content["tables"]:
        columns = [label(c, _vocabulary(t["name"], "column")) for c in t["columns"]]
        for r in t["rows"]:
            row = _row(t["name"], r["row"], label)
            for name, value in zip(columns, r["cells"], strict=True):
                out.append([t["title"], row, name, WITHHELD if value is None else str(value)])
            if t["row_totals"]:
                total = r["total"]
                out.append([t["title"], row, "Total", WITHHELD if total is None else str(total)])
        if t["totals"] is not None:
            names = [*columns, "Total"] if t["row_totals"] else columns
            for name, value in zip(names, t["totals"], strict=False):
                out.append([t["title"], "Total", name, WITHHELD if value is None else str(value)])
    for kind, stats in content["response_times"].items():
        for stat in ("median_hours", "p90_hours"):
            value = stats[stat]
            out.append(
                [
                    "Response times (hours)",
                    label(kind, "report"),
                    stat.replace("_hours", ""),
                    WITHHELD if value is None else str(value),
                ]
            )
    share = content["critical_fixed_before_release_share"]
    out.append(
        [
            "Critical findings fixed before release",
            "Share",
            "",
            WITHHELD if share is None else str(share),
        ]
    )
    return out


def to_csv(content: dict[str, Any], label: Label) -> str:
    """The report as CSV text."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        [f"# Transparency report {content['period']}, version {content.get('version')}"]
    )
    writer.writerows(rows(content, label))
    return buffer.getvalue()


def to_pdf(content: dict[str, Any], label: Label, *, title: str) -> bytes:
    """The report as a PDF with its charts and every table."""
    try:
        from fpdf import FPDF
    except ImportError as exc:
        raise PdfUnavailable(
            "PDF downloads need the interop extra on the server (pip install 'airlock[interop]'); "
            "the CSV download has the same figures"
        ) from exc
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_title(title)
    pdf.set_font("Helvetica", "B", 16)
    pdf.multi_cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    intro = (
        f"Period {content['start']} to {content['end']} (end exclusive). Figures counting fewer "
        f"than {content['min_cell']} are withheld, and so are figures from which a withheld "
        "one could be worked out."
    )
    if content.get("change"):
        intro += f" This version corrects an earlier one: {content['change']}"
    if content["empty"]:
        intro += " Nothing happened in this period that the report counts."
    pdf.multi_cell(0, 5, _latin(intro), new_x="LMARGIN", new_y="NEXT")
    for chart in charts(content, label):
        pdf.ln(3)
        pdf.image(io.BytesIO(chart.svg.encode()), w=180)
    for t in content["tables"]:
        _table(pdf, t, label)
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 7, "Response times and critical fixes", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    for line in rows(content, label)[-5:]:
        pdf.cell(0, 5, _latin(f"{line[1]} {line[2]}: {line[3]}"), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _latin(text: str) -> str:
    # The core PDF fonts are Latin-1; anything else is replaced rather than failing the download.
    return text.encode("latin-1", "replace").decode("latin-1")


def _table(pdf: Any, table: dict[str, Any], label: Label) -> None:
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 11)
    pdf.multi_cell(0, 6, _latin(table["title"]), new_x="LMARGIN", new_y="NEXT")
    columns = [label(c, _vocabulary(table["name"], "column")) for c in table["columns"]]
    if table["row_totals"]:
        columns.append("Total")
    head = ["", *columns]
    width = 180 / len(head)
    pdf.set_font("Helvetica", "B", 7)
    for h in head:
        pdf.cell(width, 6, _latin(h)[:28], border=1)
    pdf.ln()
    pdf.set_font("Helvetica", "", 8)

    def shown(v: int | None) -> str:
        return WITHHELD if v is None else str(v)

    body = [
        [_row(table["name"], r["row"], label), *map(shown, r["cells"])]
        + ([shown(r["total"])] if table["row_totals"] else [])
        for r in table["rows"]
    ]
    if table["totals"] is not None:
        body.append(["Total", *map(shown, table["totals"])])
    if not body:
        body = [["(no rows)", *[""] * len(columns)]]
    for line in body:
        for cell in line:
            pdf.cell(width, 6, _latin(cell)[:30], border=1)
        pdf.ln()
