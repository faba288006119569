"""Pure rules of the transparency report: periods, percentiles, tables and their atoms."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from airlock.core.errors import InvalidInput
from airlock.publishing.report_rules import (
    count_table,
    parse_period,
    percentile,
    render_table,
)

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def test_quarters_and_years_parse_with_their_months_and_rows():
    q = parse_period("2026q3", now=NOW)
    assert (q.label, q.start.isoformat(), q.end.isoformat()) == (
        "2026Q3",
        "2026-07-01",
        "2026-10-01",
    )
    assert q.months == ["2026-07", "2026-08", "2026-09"] and not q.is_year
    y = parse_period(" 2025 ", now=NOW)
    assert y.is_year and len(y.months) == 12
    assert [label for label, _ in y.buckets()] == ["2025Q1", "2025Q2", "2025Q3", "2025Q4"]
    assert parse_period("2025-Q4", now=NOW).end.isoformat() == "2026-01-01"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026Q4", "has not ended yet"),
        ("2026", "has not ended yet"),
        ("2027Q1", "has not ended yet"),
        ("2026Q0", "is not a period"),
        ("Q3 2026", "is not a period"),
        ("20261", "is not a period"),
        ("1999Q1", "before the program"),
    ],
)
def test_bad_or_unfinished_periods_are_refused(text, message):
    with pytest.raises(InvalidInput, match=message):
        parse_period(text, now=NOW)


def test_percentiles_interpolate_between_ranks():
    assert percentile([], 50) is None
    assert percentile([4.0], 90) == 4.0
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile(list(range(1, 11)), 90) == pytest.approx(9.1)


def test_a_table_adds_its_atoms_and_renders_withheld_figures_as_none():
    counts = {"x[a][m1]": 3, "x[a][m2]": 4, "x[b][m1]": 1}
    t = count_table(
        "x",
        "X",
        rows=["a", "b"],
        columns=["c"],
        atom_counts=counts,
        atoms_of={("a", "c"): {"x[a][m1]", "x[a][m2]"}, ("b", "c"): {"x[b][m1]", "x[b][m2]"}},
    )
    figures = {f.key: f for f in t.figures()}
    assert figures["x[a][c]"].value == 7 and figures["x[b][c]"].value == 1
    assert figures["x[total][c]"].value == 8
    assert figures["x[total][total]"].atoms == frozenset(counts) | {"x[b][m2]"}
    shown = render_table(t, {"x[b][c]", "x[b][total]"})
    assert shown["rows"][1]["cells"] == [None] and shown["rows"][0]["cells"] == [7]
    assert shown["totals"] == [8, 8]


def test_a_correction_lists_only_figures_whose_published_value_differs() -> None:
    from airlock.publishing.report_rules import shown_changes

    def fig(key: str, value: int, suppressed: bool = False) -> dict[str, object]:
        return {"key": key, "atoms": [key], "value": value, "suppressed": suppressed}

    before = [fig("a", 7), fig("b", 3, True), fig("c", 9), fig("t", 19), fig("old", 6)]
    after = [fig("a", 7), fig("b", 4, True), fig("c", 8, True), fig("t", 19), fig("new", 5)]
    assert shown_changes(before, after) == [
        {"figure": "c", "before": 9, "after": None},
        {"figure": "new", "before": None, "after": 5},
        {"figure": "old", "before": 6, "after": None},
    ]  # b changed while withheld in both: nothing readers see, so not listed
