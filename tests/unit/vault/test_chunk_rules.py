"""Which chunks an upload still lacks when they arrive in any order."""

from __future__ import annotations

from airlock.vault import rules


def test_parts_with_gaps_give_the_missing_ranges() -> None:
    parts: list[object] = []
    assert rules.missing_ranges(parts, 5) == [(0, 5)]
    parts = rules.with_part(parts, 3, {"k": 3})
    parts = rules.with_part(parts, 1, {"k": 1})
    assert parts == [None, {"k": 1}, None, {"k": 3}]
    assert rules.received_indexes(parts) == [1, 3]
    assert rules.missing_ranges(parts, 5) == [(0, 1), (2, 3), (4, 5)]
    for i in (0, 2, 4):
        parts = rules.with_part(parts, i, {"k": i})
    assert rules.missing_ranges(parts, 5) == []
    # sessions from before parallel uploads hold a dense list: nothing changes for them
    assert rules.missing_ranges([{"k": 0}, {"k": 1}], 4) == [(2, 4)]
