"""Pure rules of the transparency report: periods, the tables and their atoms, percentiles.

A report's figures are sums of *atoms*, the finest counts the program keeps (a month's
confirmed critical findings of one category, the firms active at one month's end). A
quarterly table cell adds three monthly atoms, a yearly one twelve, so the suppression audit
sees how the figures of every report tie together.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, Final

from airlock.core.errors import InvalidInput
from airlock.publishing.suppression import Figure

_PERIOD = re.compile(r"^(\d{4})(?:-?Q([1-4]))?$")
PARTICIPATION_STATES: Final = ("enrolled", "active", "suspended", "withdrawn")
SUBMISSION_COLUMNS: Final = ("received", "reviewed_before_release", "reviewed_other")
SEVERITIES: Final = ("critical", "high", "medium", "low", "info")
UNCLASSIFIED: Final = "unclassified"


class SnapshotState(StrEnum):
    """A report snapshot is previewed as a draft, then published once and never changed."""

    DRAFT = "draft"
    PUBLISHED = "published"


@dataclass(frozen=True)
class Period:
    """A calendar quarter or year; end is exclusive."""

    label: str
    start: date
    end: date

    @property
    def months(self) -> list[str]:
        """The months of the period as YYYY-MM."""
        out = []
        y, m = self.start.year, self.start.month
        while (y, m) < (self.end.year, self.end.month):
            out.append(f"{y:04d}-{m:02d}")
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out

    @property
    def is_year(self) -> bool:
        """Whether the period is a whole year (its rows are quarters, not months)."""
        return "Q" not in self.label

    def buckets(self) -> list[tuple[str, list[str]]]:
        """The rows of the over-time tables: months of a quarter, quarters of a year."""
        months = self.months
        if not self.is_year:
            return [(m, [m]) for m in months]
        return [(f"{self.start.year}Q{q + 1}", months[3 * q : 3 * q + 3]) for q in range(4)]


def parse_period(text: str, *, now: datetime | None = None) -> Period:
    """A period written 2026Q3 or 2026; refused when it does not parse or has not ended."""
    raw = (text or "").strip().upper()
    m = _PERIOD.match(raw)
    if m is None:
        raise InvalidInput(
            f"period: {text!r} is not a period; write a quarter like 2026Q3 or a year like 2026"
        )
    year = int(m.group(1))
    if year < 2000:
        raise InvalidInput(f"period: {text!r} is before the program could have existed")
    if m.group(2):
        q = int(m.group(2))
        start = date(year, 3 * q - 2, 1)
        end = date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)
        label = f"{year}Q{q}"
    else:
        start, end, label = date(year, 1, 1), date(year + 1, 1, 1), str(year)
    today = (now or datetime.now(UTC)).date()
    if end > today:
        raise InvalidInput(
            f"period: {label} has not ended yet (it ends {end.isoformat()}); "
            "a report covers a period that is over, so its figures cannot change"
        )
    return Period(label, start, end)


def month_of(at: datetime) -> str:
    """The YYYY-MM an instant falls in (UTC)."""
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    at = at.astimezone(UTC)
    return f"{at.year:04d}-{at.month:02d}"


def month_end(month: str) -> datetime:
    """The first instant after a YYYY-MM month, in UTC."""
    y, m = (int(p) for p in month.split("-"))
    y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return datetime(y, m, 1, tzinfo=UTC)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) by linear interpolation between closest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


@dataclass
class Table:
    """A table of the report: cells, the monthly atoms each adds, and which margins it has."""

    name: str
    title: str
    rows: list[str]
    columns: list[str]
    cells: dict[tuple[str, str], int] = field(default_factory=dict)
    atoms: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict)
    row_totals: bool = True
    column_totals: bool = True

    def figures(self) -> list[Figure]:
        """Every cell and margin as a figure of atoms."""
        out = [
            Figure(f"{self.name}[{r}][{c}]", self.atoms[(r, c)], self.cells[(r, c)])
            for r in self.rows
            for c in self.columns
        ]
        if self.row_totals:
            for r in self.rows:
                out.append(self._total(f"{self.name}[{r}][total]", [(r, c) for c in self.columns]))
        if self.column_totals:
            for c in self.columns:
                out.append(self._total(f"{self.name}[total][{c}]", [(r, c) for r in self.rows]))
        if self.row_totals and self.column_totals and self.rows:
            every = [(r, c) for r in self.rows for c in self.columns]
            out.append(self._total(f"{self.name}[total][total]", every))
        return out

    def _total(self, key: str, members: list[tuple[str, str]]) -> Figure:
        atoms = frozenset().union(*(self.atoms[m] for m in members))
        return Figure(key, atoms, sum(self.cells[m] for m in members))


def count_table(
    name: str,
    title: str,
    *,
    rows: Sequence[str],
    columns: Sequence[str],
    atom_counts: Mapping[str, int],
    atoms_of: Mapping[tuple[str, str], Iterable[str]],
    row_totals: bool = True,
    column_totals: bool = True,
) -> Table:
    """A table whose cells add up the given atoms' counts."""
    table = Table(name, title, list(rows), list(columns), row_totals=row_totals)
    table.column_totals = column_totals
    for r in rows:
        for c in columns:
            atoms = frozenset(atoms_of[(r, c)])
            table.atoms[(r, c)] = atoms
            table.cells[(r, c)] = sum(atom_counts.get(a, 0) for a in atoms)
    return table


def render_table(table: Table, suppressed: set[str]) -> dict[str, Any]:
    """A table as readers see it: each figure's value, or None where it is withheld."""

    def value(key: str, true: int) -> int | None:
        return None if key in suppressed else true

    by_key = {f.key: f for f in table.figures()}
    body = [
        {
            "row": r,
            "cells": [value(f"{table.name}[{r}][{c}]", table.cells[(r, c)]) for c in table.columns],
            "total": value(f"{table.name}[{r}][total]", by_key[f"{table.name}[{r}][total]"].value)
            if table.row_totals
            else None,
        }
        for r in table.rows
    ]
    totals = None
    if table.column_totals:
        totals = [
            value(f"{table.name}[total][{c}]", by_key[f"{table.name}[total][{c}]"].value)
            for c in table.columns
        ]
        if table.row_totals and table.rows:
            key = f"{table.name}[total][total]"
            totals.append(value(key, by_key[key].value))
    return {
        "name": table.name,
        "title": table.title,
        "columns": table.columns,
        "rows": body,
        "totals": totals,
        "row_totals": table.row_totals,
    }


def shown_changes(
    before: Sequence[Mapping[str, Any]], after: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The figures whose published value differs between two versions of a report (None where
    withheld), from the stored figures; only values readers of both versions already see."""

    def shown(figures: Sequence[Mapping[str, Any]]) -> dict[str, int | None]:
        return {f["key"]: None if f["suppressed"] else int(f["value"]) for f in figures}

    old, new = shown(before), shown(after)
    return [
        {"figure": key, "before": old.get(key), "after": new.get(key)}
        for key in sorted(old.keys() | new.keys())
        if old.get(key) != new.get(key)
    ]
