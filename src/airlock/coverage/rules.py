"""Pure rules of coverage: how uncertain a public compute figure is, which thresholds a model
is surely or possibly above, quarters, and the coverage table built from them."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Final


class Confidence(StrEnum):
    """How sure the registry is of a model's compute figure."""

    CONFIDENT = "confident"
    LIKELY = "likely"
    SPECULATIVE = "speculative"
    UNKNOWN = "unknown"


# Airlock's reading of the registry's confidence labels: the true figure lies within this
# factor of the stated one, either way. A label the registry leaves blank is read as the
# widest. These are assumptions, shown beside every report that uses them.
SPREAD: Final[Mapping[Confidence, float]] = {
    Confidence.CONFIDENT: 3.0,
    Confidence.LIKELY: 10.0,
    Confidence.SPECULATIVE: 30.0,
    Confidence.UNKNOWN: 30.0,
}

THRESHOLDS: Final[tuple[float, ...]] = (1e23, 1e25, 1e26)


_SUPERSCRIPT: Final = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def threshold_label(value: float, *, superscript: bool = False) -> str:
    """A compute threshold as people write it: "10^25 FLOP" (or "10²⁵ FLOP")."""
    exponent = math.log10(value) if value > 0 else 0.0
    if exponent.is_integer():
        power = str(int(exponent))
        return f"10{power.translate(_SUPERSCRIPT)} FLOP" if superscript else f"10^{power} FLOP"
    return f"{value:.2g} FLOP"


def dense_training_flop(parameters: float, tokens: float) -> float:
    """Training compute of a dense model, 6 x N x D (Epoch AI's operation counting)."""
    return 6.0 * parameters * tokens


def parse_confidence(text: str) -> Confidence:
    """The registry's label ("Confident", "likely", "") as a Confidence."""
    folded = text.strip().casefold()
    for member in Confidence:
        if folded == member.value:
            return member
    return Confidence.UNKNOWN


@dataclass(frozen=True)
class FlopRange:
    """A compute figure with its low and high bounds."""

    central: float
    low: float
    high: float


def flop_range(central: float | None, confidence: Confidence) -> FlopRange | None:
    """The range a stated figure stands for, or None when there is no figure."""
    if central is None or central <= 0:
        return None
    spread = SPREAD[confidence]
    return FlopRange(central=central, low=central / spread, high=central * spread)


class Placement(StrEnum):
    """Where a model stands against one threshold."""

    ABOVE = "above"
    UNCERTAIN = "uncertain"
    BELOW = "below"
    NO_FIGURE = "no_figure"


def place(flops: FlopRange | None, threshold: float) -> Placement:
    """Surely above (its low bound reaches it), surely below, or either."""
    if flops is None:
        return Placement.NO_FIGURE
    if flops.low >= threshold:
        return Placement.ABOVE
    if flops.high < threshold:
        return Placement.BELOW
    return Placement.UNCERTAIN


def quarter(day: date) -> str:
    """The calendar quarter of a day, as "2024-Q3"."""
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


@dataclass(frozen=True)
class KnownModelFacts:
    """What the coverage table needs of one known model."""

    key: str
    published_on: date | None
    flops: FlopRange | None
    shared: bool


@dataclass
class CoverageCell:
    """Counts for one threshold and quarter: `*_low` counts the models surely above it,
    `*_central` those whose stated figure reaches it, `*_high` adds every model whose range
    straddles it."""

    known_low: int = 0
    known_central: int = 0
    known_high: int = 0
    shared_low: int = 0
    shared_central: int = 0
    shared_high: int = 0

    @property
    def not_shared_low(self) -> int:
        """Known models surely above the threshold that were never shared."""
        return self.known_low - self.shared_low

    @property
    def not_shared_central(self) -> int:
        """Known models whose stated figure reaches the threshold, never shared."""
        return self.known_central - self.shared_central

    @property
    def not_shared_high(self) -> int:
        """Known models possibly above the threshold that were never shared."""
        return self.known_high - self.shared_high


@dataclass
class CoverageTable:
    """Coverage by threshold and quarter, with the models that have no compute figure."""

    thresholds: tuple[float, ...]
    quarters: list[str]
    cells: dict[tuple[float, str], CoverageCell] = field(default_factory=dict)
    totals: dict[float, CoverageCell] = field(default_factory=dict)
    no_figure_by_quarter: dict[str, int] = field(default_factory=dict)
    no_figure: int = 0
    no_figure_shared: int = 0
    undated: int = 0
    models: int = 0


def coverage_table(
    facts: Iterable[KnownModelFacts], thresholds: tuple[float, ...] = THRESHOLDS
) -> CoverageTable:
    """Count known, shared and not-shared models per threshold and quarter, as ranges."""
    table = CoverageTable(thresholds=thresholds, quarters=[])
    quarters: set[str] = set()
    for threshold in thresholds:
        table.totals[threshold] = CoverageCell()
    for fact in facts:
        table.models += 1
        period = quarter(fact.published_on) if fact.published_on else "undated"
        if fact.published_on is None:
            table.undated += 1
        if fact.flops is None:
            table.no_figure += 1
            table.no_figure_shared += int(fact.shared)
            table.no_figure_by_quarter[period] = table.no_figure_by_quarter.get(period, 0) + 1
            continue
        for threshold in thresholds:
            placement = place(fact.flops, threshold)
            if placement is Placement.BELOW:
                continue
            quarters.add(period)
            for cell in (
                table.cells.setdefault((threshold, period), CoverageCell()),
                table.totals[threshold],
            ):
                cell.known_high += 1
                cell.shared_high += int(fact.shared)
                if fact.flops.central >= threshold:
                    cell.known_central += 1
                    cell.shared_central += int(fact.shared)
                if placement is Placement.ABOVE:
                    cell.known_low += 1
                    cell.shared_low += int(fact.shared)
    table.quarters = sorted(quarters | set(table.no_figure_by_quarter))
    return table


@dataclass(frozen=True)
class PublicThresholdRow:
    """One threshold as the public sees it: known figures (public data) and, unless withheld,
    how many of them were shared."""

    threshold: float
    known_low: int
    known_central: int
    known_high: int
    no_figure: int
    shared: int | None
    not_shared: int | None


def _small(count: int, min_cell: int) -> bool:
    return 0 < count < min_cell


def public_rows(table: CoverageTable, *, min_cell: int) -> list[PublicThresholdRow]:
    """Coverage per threshold for the public: shared and not-shared counts (by the stated
    figure) are withheld where either is below min_cell, since the known count is public and
    gives one from the other; walking down from the highest threshold, a count is also
    withheld when its difference from the next published one would be such a small cell."""
    rows: list[PublicThresholdRow] = []
    last: tuple[int, int] = (0, 0)
    for threshold in sorted(table.thresholds, reverse=True):
        cell = table.totals[threshold]
        shared, not_shared = cell.shared_central, cell.not_shared_central
        band = (shared - last[0], not_shared - last[1])
        withheld = any(_small(n, min_cell) for n in (shared, not_shared, *band))
        if not withheld:
            last = (shared, not_shared)
        rows.append(
            PublicThresholdRow(
                threshold=threshold,
                known_low=cell.known_low,
                known_central=cell.known_central,
                known_high=cell.known_high,
                no_figure=table.no_figure,
                shared=None if withheld else shared,
                not_shared=None if withheld else not_shared,
            )
        )
    return sorted(rows, key=lambda r: r.threshold)
