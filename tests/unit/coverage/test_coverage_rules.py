"""Coverage rules: uncertainty ranges, threshold placement, quarters and the table."""

from __future__ import annotations

from datetime import date

import pytest

from airlock.coverage.rules import (
    SPREAD,
    Confidence,
    CoverageCell,
    CoverageTable,
    FlopRange,
    KnownModelFacts,
    Placement,
    coverage_table,
    flop_range,
    parse_confidence,
    place,
    quarter,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Confident", Confidence.CONFIDENT),
        (" likely ", Confidence.LIKELY),
        ("SPECULATIVE", Confidence.SPECULATIVE),
        ("Unknown", Confidence.UNKNOWN),
        ("", Confidence.UNKNOWN),
        ("very sure", Confidence.UNKNOWN),
    ],
)
def test_confidence_labels_are_read_whatever_their_case(text: str, expected: Confidence) -> None:
    assert parse_confidence(text) is expected


def test_every_confidence_has_a_spread_and_wider_doubt_means_wider_range() -> None:
    assert set(SPREAD) == set(Confidence)
    widths = [flop_range(1e25, c) for c in (Confidence.CONFIDENT, Confidence.LIKELY)]
    assert widths[0] is not None and widths[1] is not None
    assert widths[1].low < widths[0].low < 1e25 < widths[0].high < widths[1].high


def test_no_figure_has_no_range() -> None:
    assert flop_range(None, Confidence.CONFIDENT) is None
    assert flop_range(0.0, Confidence.CONFIDENT) is None


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (2e25, 6e25, Placement.ABOVE),
        (1e25, 3e25, Placement.ABOVE),  # the low bound reaching the threshold counts
        (5e24, 3e25, Placement.UNCERTAIN),
        (1e24, 9.99e24, Placement.BELOW),
    ],
)
def test_placement_against_a_threshold(low: float, high: float, expected: Placement) -> None:
    assert place(FlopRange(central=(low * high) ** 0.5, low=low, high=high), 1e25) is expected


def test_placement_without_a_figure() -> None:
    assert place(None, 1e25) is Placement.NO_FIGURE


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2024, 1, 1), "2024-Q1"),
        (date(2024, 3, 31), "2024-Q1"),
        (date(2024, 4, 1), "2024-Q2"),
        (date(2025, 12, 31), "2025-Q4"),
    ],
)
def test_quarters(day: date, expected: str) -> None:
    assert quarter(day) == expected


def _fact(
    key: str, day: date | None, central: float | None, conf: Confidence, shared: bool
) -> KnownModelFacts:
    return KnownModelFacts(
        key=key, published_on=day, flops=flop_range(central, conf), shared=shared
    )


def test_table_counts_sure_and_possible_models_separately() -> None:
    q1 = date(2024, 2, 1)
    facts = [
        _fact("sure-shared", q1, 5e25, Confidence.CONFIDENT, True),  # 1.7e25..1.5e26
        _fact("sure-not-shared", q1, 9e25, Confidence.CONFIDENT, False),  # 3e25..2.7e26
        _fact("maybe", q1, 2e25, Confidence.SPECULATIVE, False),  # 6.7e23..6e26
        _fact("small", q1, 1e22, Confidence.CONFIDENT, True),
        _fact("no-figure", q1, None, Confidence.UNKNOWN, True),
        _fact("later", date(2024, 7, 9), 4e26, Confidence.CONFIDENT, False),
        _fact("undated", None, 1e26, Confidence.CONFIDENT, False),
    ]
    table = coverage_table(facts)
    cell = table.cells[(1e25, "2024-Q1")]
    assert (cell.known_low, cell.known_high) == (2, 3)
    assert (cell.shared_low, cell.shared_high) == (1, 1)
    assert (cell.not_shared_low, cell.not_shared_high) == (1, 2)
    # stated figures 5e25, 9e25 and 2e25 all reach 1e25; only the first was shared
    assert (cell.known_central, cell.shared_central, cell.not_shared_central) == (3, 1, 2)
    # 1e26: only "maybe" (up to 6e26), "sure-not-shared" (up to 2.7e26), "sure-shared" (1.5e26)
    top = table.cells[(1e26, "2024-Q1")]
    assert (top.known_low, top.known_high) == (0, 3)
    assert table.cells[(1e26, "2024-Q3")].known_low == 1
    assert table.totals[1e25].known_high == 5  # Q1 three, Q3 one, undated one
    assert table.no_figure == 1 and table.no_figure_shared == 1
    assert table.no_figure_by_quarter == {"2024-Q1": 1}
    assert table.undated == 1 and table.models == 7
    assert table.quarters == ["2024-Q1", "2024-Q3", "undated"]
    # 1e23: "small" is below it; everything else with a figure is at least possibly above
    assert table.totals[1e23].known_high == 5


def test_an_empty_registry_gives_an_empty_table() -> None:
    table = coverage_table([])
    assert table.models == 0 and table.quarters == [] and table.cells == {}
    assert all(cell.known_high == 0 for cell in table.totals.values())


def _table_with(shared_by_threshold: dict[float, tuple[int, int]]) -> CoverageTable:

    table = CoverageTable(thresholds=tuple(sorted(shared_by_threshold)), quarters=[])
    for threshold, (known, shared) in shared_by_threshold.items():
        table.totals[threshold] = CoverageCell(
            known_low=known,
            known_central=known,
            known_high=known,
            shared_low=shared,
            shared_central=shared,
            shared_high=shared,
        )
    return table


def test_public_rows_withhold_a_small_shared_or_unshared_count() -> None:
    from airlock.coverage.rules import public_rows

    rows = {
        r.threshold: r
        for r in public_rows(_table_with({1e23: (40, 20), 1e25: (12, 2), 1e26: (3, 0)}), min_cell=5)
    }
    assert rows[1e26].shared is None  # 0 shared, but 3 not shared is a small cell
    assert rows[1e25].shared is None  # 2 shared
    assert (rows[1e23].shared, rows[1e23].not_shared) == (20, 20)
    assert all(r.known_central for r in rows.values())  # public data is always shown


def test_public_rows_withhold_a_count_whose_difference_would_be_small() -> None:
    from airlock.coverage.rules import public_rows

    # 1e26: 10 of 20 shared; 1e25: 12 of 26. The band between holds 2 shared of 6: small.
    rows = {
        r.threshold: r
        for r in public_rows(_table_with({1e25: (26, 12), 1e26: (20, 10)}), min_cell=5)
    }
    assert (rows[1e26].shared, rows[1e26].not_shared) == (10, 10)
    assert rows[1e25].shared is None and rows[1e25].not_shared is None


def test_no_published_pair_of_counts_reveals_a_small_cell() -> None:
    """Exhaustive over small nested tables: every difference between published counts (and
    every published count) is 0 or at least the minimum."""
    import itertools

    from airlock.coverage.rules import public_rows

    k = 3
    for shared in itertools.product(range(6), repeat=3):
        for extra in itertools.product(range(6), repeat=3):
            # nested: higher thresholds hold fewer models
            s = sorted(shared, reverse=True)
            n = sorted(extra, reverse=True)
            table = _table_with(
                {1e23: (s[0] + n[0], s[0]), 1e25: (s[1] + n[1], s[1]), 1e26: (s[2] + n[2], s[2])}
            )
            published = [
                (r.shared, r.not_shared)
                for r in public_rows(table, min_cell=k)
                if r.shared is not None
            ]
            values = [*published, (0, 0)]
            for a, b in itertools.combinations(values, 2):
                for da in (abs(a[0] - b[0]), abs(a[1] - b[1])):
                    assert da == 0 or da >= k, (table.totals, published)
