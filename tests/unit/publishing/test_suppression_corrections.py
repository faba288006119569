"""Corrections: a new version of a report whose figures differ from the one it supersedes.

The old version stays public, and its figures are true statements about the old data. The
audit gives each version's atoms their own variables where the value changed and ties the
versions through the atoms that did not, so a correction is audited instead of making the
linear program infeasible, and a withheld cell that old and new figures pin together is caught.
"""

from __future__ import annotations

import pytest

from airlock.publishing.suppression import (
    Figure,
    Release,
    SuppressionImpossible,
    audit,
    primary_suppression,
    suppress,
)

K = 5


def _row(values: dict[str, int]) -> tuple[list[Figure], dict[str, int]]:
    """One row of cells over atoms of the same names, with its total."""
    figures = [Figure(f"t[{a}]", frozenset({a}), v) for a, v in values.items()]
    figures.append(Figure("t[total]", frozenset(values), sum(values.values())))
    return figures, dict(values)


def _release(values: dict[str, int], suppressed: set[str], *, label: str) -> Release:
    figures, atoms = _row(values)
    return Release(figures, suppressed, atom_values=atoms, label=label)


# v1: y = 3 is withheld with x as its complement; z, w and the total are published, so
# readers know x + y = 10. The correction v2 recounts w (6 -> 8); x, y and z did not change.
V1 = {"x": 7, "y": 3, "z": 9, "w": 6}
V2 = {"x": 7, "y": 3, "z": 9, "w": 8}


def test_a_correction_with_changed_figures_is_audited_instead_of_infeasible() -> None:
    v1 = _release(V1, {"t[y]", "t[x]"}, label="2025Q1 v1")
    v2 = _release(V2, {"t[y]", "t[x]"}, label="2025Q1 draft")
    # Equating the versions (atoms shared whatever their value) has no solution: the
    # total is 25 in one and 27 in the other. This was the old failure.
    merged = Release(v1.figures, v1.suppressed)
    with pytest.raises(SuppressionImpossible, match="inconsistent"):
        audit(Release(v2.figures, v2.suppressed), history=[merged], min_cell=K)
    intervals = audit(v2, history=[v1], min_cell=K)
    assert [(i.key, i.low, i.high) for i in intervals] == [("t[y]", 0, 10)]
    assert all(i.protected for i in intervals)


def test_a_correction_that_pins_a_withheld_cell_with_the_old_version_is_refused() -> None:
    v1 = _release(V1, {"t[y]", "t[x]"}, label="2025Q1 v1")
    # Alone, v2 keeps y open (y + z = 12 gives 0 to 12); with v1's x + y = 10 and x
    # published in v2 (unchanged, so the same x), y = 10 - 7 = 3 exactly.
    v2 = _release(V2, {"t[y]", "t[z]"}, label="2025Q1 draft")
    alone = audit(v2, min_cell=K)
    assert all(i.protected for i in alone)
    failing = [i for i in audit(v2, history=[v1], min_cell=K) if not i.protected]
    assert failing and {i.key for i in failing} == {"t[y]"}
    assert failing[0].low == pytest.approx(3) and failing[0].high == pytest.approx(3)


def test_an_old_total_and_a_new_cell_pin_a_withheld_cell() -> None:
    # v1 withholds y with z as its complement and publishes the total: y + z = 12. The
    # correction recounts w (6 -> 8) and withholds y with x instead, publishing z = 9. z did
    # not change, so v1's total and v2's z give y = 12 - 9 = 3.
    v1 = _release(V1, {"t[y]", "t[z]"}, label="2025Q1 v1")
    weak = _release(V2, {"t[y]", "t[x]"}, label="2025Q1 draft")
    assert all(i.protected for i in audit(weak, min_cell=K))
    failing = [i for i in audit(weak, history=[v1], min_cell=K) if not i.protected]
    assert [i.key for i in failing] == ["t[y]"] and failing[0].release == "2025Q1 draft"
    figures, atoms = _row(V2)
    fixed = suppress(figures, min_cell=K, history=[v1], atom_values=atoms)
    assert "t[z]" in fixed.suppressed
    assert all(i.protected for i in audit(fixed, history=[v1], min_cell=K))


def test_suppression_of_a_correction_keeps_protection_against_the_old_version() -> None:
    v1 = _release(V1, {"t[y]", "t[x]"}, label="2025Q1 v1")
    figures, atoms = _row(V2)
    v2 = suppress(figures, min_cell=K, history=[v1], atom_values=atoms, label="2025Q1 draft")
    assert primary_suppression(figures, min_cell=K) <= v2.suppressed
    intervals = audit(v2, history=[v1], min_cell=K)
    assert intervals and all(i.protected for i in intervals)


def test_a_cell_that_became_small_in_the_correction_is_protected() -> None:
    # x was 7 and published in v1; the correction finds it is 4. The old 7 describes the
    # old data, so the audit protects the new 4 on the new figures alone.
    v1 = _release(V1, {"t[y]", "t[w]"}, label="2025Q1 v1")
    new = {"x": 4, "y": 3, "z": 9, "w": 6}
    figures, atoms = _row(new)
    v2 = suppress(figures, min_cell=K, history=[v1], atom_values=atoms)
    assert {"t[x]", "t[y]"} <= v2.suppressed
    assert all(i.protected for i in audit(v2, history=[v1], min_cell=K))


def test_a_release_kept_without_atom_values_is_tied_to_the_newest_values() -> None:
    legacy = Release(_row(V1)[0], {"t[y]", "t[x]"})
    same = _release(V1, {"t[y]", "t[x]"}, label="2025Q1 v2")
    intervals = audit(same, history=[legacy], min_cell=K)
    assert intervals and all(i.protected for i in intervals)


def test_the_direction_of_a_change_is_taken_as_known() -> None:
    # v1 withholds y = 4 (x is its complement). The correction counts one late record: y is
    # 5, no longer small, and published (x and the total withheld, so x stays open). A
    # reader who knows late records only add learns the old y was at most 5, inside its
    # protection range (1.5 to 6.5): refused, though the equations alone leave 0 to 24.
    v1 = _release({"x": 20, "y": 4}, {"t[y]", "t[x]"}, label="2025Q1 v1")
    new = {"x": 20, "y": 5}
    weak = _release(new, {"t[x]", "t[total]"}, label="2025Q1 draft")
    failing = [i for i in audit(weak, history=[v1], min_cell=K) if not i.protected]
    assert [(i.key, i.release, i.high) for i in failing] == [("t[y]", "2025Q1 v1", 5)]
    figures, atoms = _row(new)
    fixed = suppress(figures, min_cell=K, history=[v1], atom_values=atoms)
    assert "t[y]" in fixed.suppressed
    assert all(i.protected for i in audit(fixed, history=[v1], min_cell=K))
