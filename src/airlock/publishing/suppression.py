"""Small-cell suppression for published figures, and its audit by linear programming.

Every published number is the sum of some *atoms*: the finest counts a report is built from
(for example "critical findings of category X acknowledged in 2026-Q3"). A figure counting
fewer than the minimum is suppressed (primary suppression); since totals, other tables and
earlier reports are linear equations over the same atoms, a suppressed figure may still be
worked out from what is published. The audit computes, for each suppressed figure, the range
of values it could take given every published equation (this release and all earlier ones)
and non-negative atoms, and requires that range to cover the figure's protection range.
Complementary suppression adds the fewest further suppressions the greedy rule finds until the
audit passes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


class SuppressionImpossible(Exception):
    """No further suppression protects a figure; the message names it."""


@dataclass(frozen=True)
class Figure:
    """One number of a report: a key people read, the atoms it adds up, its true value."""

    key: str
    atoms: frozenset[str]
    value: int


@dataclass
class Release:
    """The figures of one published report and which of them are withheld."""

    figures: list[Figure]
    suppressed: set[str] = field(default_factory=set)

    def published(self) -> list[Figure]:
        """The figures readers see."""
        return [f for f in self.figures if f.key not in self.suppressed]


@dataclass(frozen=True)
class Interval:
    """What a reader can tell of a suppressed figure: its smallest and largest possible value."""

    key: str
    value: int
    low: float
    high: float
    needed_low: float
    needed_high: float

    @property
    def protected(self) -> bool:
        """Whether the feasible range covers the protection range."""
        return self.low <= self.needed_low + 1e-6 and self.high >= self.needed_high - 1e-6


def primary_suppression(figures: Iterable[Figure], *, min_cell: int) -> set[str]:
    """Figures counting more than zero and fewer than min_cell."""
    return {f.key for f in figures if 0 < f.value < min_cell}


def protection_range(value: int, *, min_cell: int) -> tuple[float, float]:
    """The range a reader must not be able to narrow a withheld value below: the value plus
    or minus half the minimum count, never below zero."""
    half = min_cell / 2
    return max(0.0, value - half), value + half


def _bounds(
    target: frozenset[str],
    equations: Sequence[Figure],
    atoms: Sequence[str],
) -> tuple[float, float]:
    from scipy.optimize import linprog

    position = {atom: i for i, atom in enumerate(atoms)}
    cost = np.zeros(len(atoms))
    for atom in target:
        cost[position[atom]] = 1.0
    a_eq: np.ndarray[Any, Any] | None = None
    b_eq: np.ndarray[Any, Any] | None = None
    if equations:
        a_eq = np.zeros((len(equations), len(atoms)))
        for row, figure in enumerate(equations):
            for atom in figure.atoms:
                a_eq[row, position[atom]] = 1.0
        b_eq = np.array([float(f.value) for f in equations])
    low = linprog(cost, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
    high = linprog(-cost, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
    if low.status != 0:
        raise SuppressionImpossible(f"the published figures are inconsistent ({low.message})")
    upper = float("inf") if high.status == 3 else -float(high.fun)
    return float(low.fun), upper


def audit(release: Release, *, history: Sequence[Release] = (), min_cell: int) -> list[Interval]:
    """The feasible interval of every sensitive figure (counting more than zero and fewer than
    min_cell) of release and of every earlier release, given everything published in them
    all; check `.protected` on each. A sensitive figure that is published has a zero-width
    interval and fails. Complementary suppressions need no protection of their own."""
    releases = (*history, release)
    equations = [f for r in releases for f in r.published()]
    atoms = sorted({a for r in releases for f in r.figures for a in f.atoms})
    out = []
    sensitive = [f for r in releases for f in r.figures if 0 < f.value < min_cell]
    for figure in sensitive:
        low, high = _bounds(figure.atoms, equations, atoms)
        need_low, need_high = protection_range(figure.value, min_cell=min_cell)
        out.append(Interval(figure.key, figure.value, low, high, need_low, need_high))
    return out


def _complement(failing: Figure, release: Release, history: Sequence[Release]) -> Figure | None:
    """The published figure to withhold next so that failing can no longer be worked out:
    the smallest sibling of failing inside a published total that contains it, else that
    total itself."""
    containers = [g for r in (*history, release) for g in r.published() if failing.atoms < g.atoms]
    containers.sort(key=lambda g: len(g.atoms))
    current = release.published()
    for total in containers:
        siblings = [
            h
            for h in current
            if h.atoms < total.atoms and not (h.atoms & failing.atoms) and h.key != failing.key
        ]
        if siblings:
            return min(siblings, key=lambda h: (h.value, len(h.atoms), h.key))
    own_totals = [g for g in current if failing.atoms < g.atoms]
    if own_totals:
        return own_totals[0]
    overlapping = [h for h in current if h.atoms & failing.atoms]
    return min(overlapping, key=lambda h: (h.value, h.key)) if overlapping else None


def suppress(
    figures: Sequence[Figure],
    *,
    min_cell: int,
    history: Sequence[Release] = (),
    max_rounds: int = 500,
) -> Release:
    """Primary and complementary suppression: a release whose audit passes against history."""
    release = Release(list(figures), primary_suppression(figures, min_cell=min_cell))
    by_key = {f.key: f for r in (*history, release) for f in r.figures}
    # Withholding one more figure removes an equation, which can only widen every feasible
    # interval: a figure protected once stays protected, so only failing ones are re-solved.
    failing = [i.key for i in audit(release, history=history, min_cell=min_cell) if not i.protected]
    for _ in range(max_rounds):
        if not failing:
            return release
        figure = by_key[failing[0]]
        if _check(figure, release, history, min_cell=min_cell):
            failing.pop(0)
            continue
        extra = _complement(figure, release, history)
        if extra is None:
            raise SuppressionImpossible(
                f"{figure.key}: no published figure left to withhold that would protect it"
            )
        release.suppressed.add(extra.key)
    raise SuppressionImpossible(f"suppression did not settle in {max_rounds} rounds")


def _check(figure: Figure, release: Release, history: Sequence[Release], *, min_cell: int) -> bool:
    """Whether one sensitive figure is protected given what release and history publish."""
    releases = (*history, release)
    equations = [f for r in releases for f in r.published()]
    atoms = sorted({a for r in releases for f in r.figures for a in f.atoms})
    if figure.key not in release.suppressed and any(figure.key == f.key for f in release.figures):
        return False
    low, high = _bounds(figure.atoms, equations, atoms)
    need_low, need_high = protection_range(figure.value, min_cell=min_cell)
    return Interval(figure.key, figure.value, low, high, need_low, need_high).protected


def table_figures(
    name: str,
    cells: Mapping[tuple[str, str], int],
    *,
    row_totals: bool = True,
    column_totals: bool = True,
    grand_total: bool = True,
    atom_of: Mapping[tuple[str, str], frozenset[str]] | None = None,
) -> list[Figure]:
    """The figures of a two-way table with its margins; each cell is an atom unless
    atom_of says which finer atoms it adds up (to tie tables of several releases together)."""
    atoms = {
        cell: (atom_of or {}).get(cell, frozenset({f"{name}[{cell[0]}][{cell[1]}]"}))
        for cell in cells
    }
    out = [Figure(f"{name}[{r}][{c}]", atoms[(r, c)], value) for (r, c), value in cells.items()]
    rows = sorted({r for r, _ in cells})
    columns = sorted({c for _, c in cells})
    if row_totals:
        for r in rows:
            members = [(r, c) for c in columns if (r, c) in cells]
            out.append(
                Figure(
                    f"{name}[{r}][total]",
                    frozenset().union(*(atoms[m] for m in members)),
                    sum(cells[m] for m in members),
                )
            )
    if column_totals:
        for c in columns:
            members = [(r, c) for r in rows if (r, c) in cells]
            out.append(
                Figure(
                    f"{name}[total][{c}]",
                    frozenset().union(*(atoms[m] for m in members)),
                    sum(cells[m] for m in members),
                )
            )
    if grand_total and cells:
        out.append(
            Figure(f"{name}[total][total]", frozenset().union(*atoms.values()), sum(cells.values()))
        )
    return out
