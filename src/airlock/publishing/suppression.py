"""Small-cell suppression for published figures, and its audit by linear programming.

Every published number is the sum of some *atoms*: the finest counts a report is built from
(for example "critical findings of category X acknowledged in 2026-Q3"). A figure counting
fewer than the minimum is suppressed (primary suppression); since totals, other tables and
earlier reports are linear equations over the same atoms, a suppressed figure may still be
worked out from what is published. The audit computes, for each suppressed figure, the range
of values it could take given every published equation (this release and all earlier ones)
and non-negative atoms, and requires that range to cover the figure's protection range.

Releases can disagree about an atom: a correction recounts it, or data arrives late. Each
release then keeps its own variable for that atom (its figures stay true of the data it saw),
and releases are tied together only through atoms whose value did not change (and the
order of the values of those that did).

Complementary suppression adds further suppressions by a greedy rule until the audit passes,
then publishes again each one the audit can do without. docs/publication.md has the model.
"""

from __future__ import annotations

import itertools
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
    """The figures of one published report, which of them are withheld, and the value of each
    atom they add up when the report was built (None for a report kept without them)."""

    figures: list[Figure]
    suppressed: set[str] = field(default_factory=set)
    atom_values: Mapping[str, int] | None = None
    label: str = ""

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
    release: str = ""

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


class _Model:
    """What readers know, as linear equations over non-negative variables.

    A variable is an atom *as it stood in a release*: releases that saw an atom with the same
    value share one variable, a release that saw another value (a correction, or data that
    changed after an earlier report) gets its own. Old figures then stay true statements
    about the old data, and tie to the new only through atoms that did not change and the
    order of each atom's values. A release kept without atom values is taken to agree with
    the newest known values.
    """

    def __init__(self, releases: Sequence[Release]) -> None:
        self.releases = releases
        newest: dict[str, int] = {}
        for r in releases:
            newest.update(r.atom_values or {})
        variables: dict[tuple[str, int | None], int] = {}
        self.columns: list[dict[str, int]] = []
        for r in releases:
            own = r.atom_values or {}
            mapping = {}
            for atom in sorted({a for f in r.figures for a in f.atoms}):
                value = own[atom] if atom in own else newest.get(atom)
                mapping[atom] = variables.setdefault((atom, value), len(variables))
            self.columns.append(mapping)
        self.size = len(variables)
        # The true data: a feasible point of every system (NaN where no value was kept).
        self.truth = np.full(self.size, np.nan)
        values_of: dict[str, list[tuple[int, int]]] = {}
        for (atom, value), column in variables.items():
            if value is not None:
                self.truth[column] = value
                values_of.setdefault(atom, []).append((value, column))
        # A reader may know which way a changed atom moved (late records only add): give the
        # audit that order, the most it could know short of the size of the change.
        self.order = [
            (lower, higher)
            for seen in values_of.values()
            for (_, lower), (_, higher) in itertools.pairwise(sorted(seen))
        ]
        # Per target, points showing it can reach the bottom and top of its protection
        # range; while they satisfy the published equations no linear program is needed.
        self.witnesses: dict[tuple[int, str], tuple[np.ndarray[Any, Any] | None, ...]] = {}

    def cols(self, index: int, figure: Figure) -> list[int]:
        """The variables a figure of release index adds up."""
        return sorted(self.columns[index][a] for a in figure.atoms)

    def sensitive(self, *, min_cell: int) -> list[tuple[int, Figure]]:
        """Every figure counting more than zero and fewer than min_cell, once per distinct
        key and variables (a figure a correction repeats unchanged is one target)."""
        seen: set[tuple[str, tuple[int, ...]]] = set()
        out = []
        for index in reversed(range(len(self.releases))):
            for f in self.releases[index].figures:
                mark = (f.key, tuple(self.cols(index, f)))
                if 0 < f.value < min_cell and mark not in seen:
                    seen.add(mark)
                    out.append((index, f))
        out.reverse()
        return out

    def system(self) -> _System:
        """The published figures of every release as equations."""
        rows = [
            (self.cols(i, f), f.value) for i, r in enumerate(self.releases) for f in r.published()
        ]
        return _System(self.size, rows, self.truth, self.order)

    def interval(self, index: int, figure: Figure, system: _System, *, min_cell: int) -> Interval:
        """The feasible range of one figure given the published equations."""
        low, high, _, _ = system.bounds(self.cols(index, figure))
        need_low, need_high = protection_range(figure.value, min_cell=min_cell)
        label = self.releases[index].label
        return Interval(figure.key, figure.value, low, high, need_low, need_high, label)

    def protected(self, index: int, figure: Figure, system: _System, *, min_cell: int) -> bool:
        """Whether one figure's range still covers its protection range."""
        cols = self.cols(index, figure)
        need_low, need_high = protection_range(figure.value, min_cell=min_cell)
        x_low, x_high = self.witnesses.get((index, figure.key), (None, None))
        if (
            x_low is not None
            and x_high is not None
            and x_low[cols].sum() <= need_low + 1e-6
            and x_high[cols].sum() >= need_high - 1e-6
            and system.satisfied_by(x_low)
            and system.satisfied_by(x_high)
        ):
            return True
        low, high, x_low, x_high = system.bounds(cols, cap=need_high + 1)
        self.witnesses[(index, figure.key)] = (x_low, x_high)
        return low <= need_low + 1e-6 and high >= need_high - 1e-6

    def all_protected(
        self, targets: list[tuple[int, Figure]], *, min_cell: int, near: set[int] | None = None
    ) -> bool:
        """Whether every target (or every one with a variable in near) stays protected. The
        target that failed last is tried alone first: it usually fails again, cheaply."""
        system = self.system()
        reached = [
            (i, f) for i, f in targets if near is None or near.intersection(self.cols(i, f))
        ]  # an equation that does not reach a target cannot change its interval
        if reached and not self.protected(*reached[0], system, min_cell=min_cell):
            return False
        checks = [
            (self.cols(i, f), *protection_range(f.value, min_cell=min_cell)) for i, f in reached
        ]
        if system.all_reach(checks):
            return True
        for n, (index, figure) in enumerate(targets):
            if (index, figure) in reached and not self.protected(
                index, figure, system, min_cell=min_cell
            ):
                targets.insert(0, targets.pop(n))
                break
        return False


class _System:
    """Published equations (variables, value) over non-negative variables, and the order of
    each atom's values across releases (lower, higher: the first is at most the second).

    The variables split into groups nothing links; a figure's range depends on its group
    only, so each linear program is solved over that group (much smaller than the whole)."""

    def __init__(
        self,
        size: int,
        rows: list[tuple[list[int], int]],
        truth: Any,
        order: Sequence[tuple[int, int]] = (),
    ) -> None:
        self.size = size
        self.rows = rows
        self.truth = truth
        self.order = list(order)
        self._parent = list(range(size))
        for cols in [c for c, _ in rows] + [list(p) for p in self.order]:
            for c in cols[1:]:
                self._parent[self.find(c)] = self.find(cols[0])
        self._a, self._b, self._ub = self._block(list(range(size)))

    def find(self, x: int) -> int:
        """The group of variable x."""
        parent = self._parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def group(self, cols: Iterable[int]) -> set[int]:
        """Every variable an equation or order chain links to one of cols."""
        roots = {self.find(c) for c in cols}
        return {c for c in range(self.size) if self.find(c) in roots}

    def satisfied_by(self, x: Any) -> bool:
        """Whether a point meets every published equation and order."""
        point = np.nan_to_num(x, nan=-1e9)
        if self.rows and not np.all(np.abs(self._a @ point - self._b) < 1e-6):
            return False
        return not self.order or bool(np.all(self._ub @ point <= 1e-6))

    def _block(self, group: list[int]) -> tuple[Any, np.ndarray[Any, Any], Any]:
        """The equations (A, b) and orders (U, with U x <= 0) over one group's variables,
        numbered as in group."""
        from scipy.sparse import csr_array

        where = {c: n for n, c in enumerate(group)}
        rows = [(cols, value) for cols, value in self.rows if cols and cols[0] in where]
        pairs = [(n, where[c]) for n, (cols, _) in enumerate(rows) for c in cols]
        a = csr_array(
            (np.ones(len(pairs)), ([n for n, _ in pairs], [c for _, c in pairs])),
            shape=(len(rows), len(group)),
        )
        order = [(where[lo], where[hi]) for lo, hi in self.order if lo in where]
        u = csr_array(
            (
                np.tile([1.0, -1.0], len(order)),
                ([n for n in range(len(order)) for _ in (0, 1)], [c for p in order for c in p]),
            ),
            shape=(len(order), len(group)),
        )
        return a, np.array([float(v) for _, v in rows]), u

    def all_reach(self, checks: Sequence[tuple[list[int], float, float]]) -> bool:
        """Whether, for every (target, low, high), some point meeting the equations puts the
        target's sum at or below low and another at or above high. One feasibility problem
        holds two copies of each target's group, so a whole audit is a single solve."""
        from scipy.optimize import linprog
        from scipy.sparse import block_diag, csr_array, vstack

        if not checks:
            return True
        eq_blocks, eq_values, ub_blocks, ub_values = [], [], [], []
        for target, low, high in checks:
            group = sorted(self.group(target))
            a, b, u = self._block(group)
            where = {c: n for n, c in enumerate(group)}
            row = np.zeros(len(group))
            row[[where[c] for c in target]] = 1.0
            for sign, bound in ((1.0, low), (-1.0, -high)):
                eq_blocks.append(a)
                eq_values.append(b)
                ub_blocks.append(vstack([u, csr_array(sign * row[np.newaxis, :])]))
                ub_values.extend([0.0] * u.shape[0] + [bound + 1e-6])
        result = linprog(
            np.zeros(sum(b.shape[1] for b in ub_blocks)),
            A_eq=block_diag(eq_blocks, format="csr"),
            b_eq=np.concatenate(eq_values),
            A_ub=block_diag(ub_blocks, format="csr"),
            b_ub=np.array(ub_values),
            bounds=(0, None),
            method="highs",
        )
        return bool(result.status == 0)

    def bounds(
        self, target: list[int], *, cap: float | None = None
    ) -> tuple[float, float, np.ndarray[Any, Any] | None, np.ndarray[Any, Any] | None]:
        """The smallest and largest value the sum of target's variables can take, and points
        reaching them (the true data outside target's group). With cap, the largest is
        sought only up to cap, so an unbounded figure still gets a point."""
        from scipy.optimize import linprog
        from scipy.sparse import csr_array, vstack

        group = sorted(self.group(target))
        where = {c: n for n, c in enumerate(group)}
        a, b, u = self._block(group)
        cost = np.zeros(len(group))
        cost[[where[c] for c in target]] = 1.0
        eq = {"A_eq": a, "b_eq": b} if a.shape[0] else {}
        below = {"A_ub": u, "b_ub": np.zeros(u.shape[0])} if u.shape[0] else {}
        low = linprog(cost, bounds=(0, None), method="highs", **eq, **below)
        if low.status != 0:
            raise SuppressionImpossible(f"the published figures are inconsistent ({low.message})")
        if cap is not None:
            below = {
                "A_ub": vstack([u, csr_array(cost[np.newaxis, :])]),
                "b_ub": np.append(np.zeros(u.shape[0]), cap),
            }
        high = linprog(-cost, bounds=(0, None), method="highs", **eq, **below)
        upper = float("inf") if high.status == 3 else -float(high.fun)

        def point(solution: Any) -> np.ndarray[Any, Any] | None:
            if solution is None:
                return None
            x = np.array(self.truth, dtype=float)
            x[group] = solution
            return x

        return float(low.fun), upper, point(low.x), point(high.x if high.status == 0 else None)


def audit(release: Release, *, history: Sequence[Release] = (), min_cell: int) -> list[Interval]:
    """The feasible interval of every sensitive figure (counting more than zero and fewer than
    min_cell) of release and of every earlier release, given everything published in them
    all; check `.protected` on each. A sensitive figure that is published has a zero-width
    interval and fails. Complementary suppressions need no protection of their own."""
    model = _Model((*history, release))
    system = model.system()
    return [
        model.interval(index, figure, system, min_cell=min_cell)
        for index, figure in model.sensitive(min_cell=min_cell)
    ]


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
    atom_values: Mapping[str, int] | None = None,
    label: str = "",
    max_rounds: int = 500,
    prune: bool = True,
) -> Release:
    """Primary and complementary suppression: a release whose audit passes against history,
    with (unless prune is false) no complementary suppression it could do without."""
    primary = primary_suppression(figures, min_cell=min_cell)
    release = Release(list(figures), set(primary), atom_values, label)
    model = _Model((*history, release))
    targets = model.sensitive(min_cell=min_cell)
    # Withholding one more figure removes an equation, which can only widen every feasible
    # interval: a figure protected once stays protected, so only failing ones are re-solved.
    system = model.system()
    failing = [(i, f) for i, f in targets if not model.protected(i, f, system, min_cell=min_cell)]
    for _ in range(max_rounds):
        if not failing:
            break
        index, figure = failing[0]
        if model.protected(index, figure, model.system(), min_cell=min_cell):
            failing.pop(0)
            continue
        extra = _complement(figure, release, history)
        if extra is None:
            raise SuppressionImpossible(
                f"{figure.key}: no published figure left to withhold that would protect it"
            )
        release.suppressed.add(extra.key)
    else:
        raise SuppressionImpossible(f"suppression did not settle in {max_rounds} rounds")
    if prune:
        _prune(model, release, primary, targets, min_cell=min_cell)
    return release


def _prune(
    model: _Model,
    release: Release,
    primary: set[str],
    targets: list[tuple[int, Figure]],
    *,
    min_cell: int,
) -> None:
    """Publish again each complementary suppression the audit does without, the largest
    figure first (a total tells readers more than a small cell): the greedy rule withholds
    some that later choices made unnecessary."""
    index = len(model.releases) - 1
    by_key = {f.key: f for f in release.figures}
    for key in sorted(release.suppressed - primary, key=lambda k: (-by_key[k].value, k)):
        release.suppressed.discard(key)
        near = model.system().group(model.cols(index, by_key[key]))
        if not model.all_protected(targets, min_cell=min_cell, near=near):
            release.suppressed.add(key)


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
