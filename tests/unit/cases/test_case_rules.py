"""The embargo machine over every pair of states, the deadline policy and deadline arithmetic."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from airlock.cases import rules
from airlock.cases.rules import EmbargoState as E
from airlock.cases.rules import Phase
from airlock.core.errors import InvalidInput, InvalidTransition

ALLOWED = {
    (E.NONE, E.PROPOSED),
    (E.PROPOSED, E.ACTIVE),
    (E.ACTIVE, E.REVISE),
    (E.REVISE, E.ACTIVE),
    (E.ACTIVE, E.EXITED),
}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(E, E)))
def test_embargo_moves_exactly_as_designed(current: E, target: E) -> None:
    if (current, target) in ALLOWED:
        rules.check_embargo_move(current, target)
    else:
        with pytest.raises(InvalidTransition, match=f"from {current} to {target}"):
            rules.check_embargo_move(current, target)


@pytest.mark.parametrize("state", list(E))
def test_public_event_exits_only_an_embargo_in_force(state: E) -> None:
    expected = E.EXITED if state in {E.ACTIVE, E.REVISE} else None
    assert rules.embargo_after_public_event(state) == expected


def test_default_policy_is_valid_and_complete() -> None:
    table = rules.validate_policy(rules.DEFAULT_POLICY)
    assert set(table) == set(rules.SEVERITIES)
    assert all(set(row) == {p.value for p in Phase} for row in table.values())


@pytest.mark.parametrize(
    ("value", "fragment"),
    [(-5, "got -5"), (0, "got 0"), (10**6, "got 1000000"), ("48", "got '48'"), (True, "True")],
)
def test_policy_refuses_negative_zero_absurd_or_non_integer_hours(
    value: object, fragment: str
) -> None:
    bad = {s: dict(r) for s, r in rules.DEFAULT_POLICY.items()}
    bad["high"]["fix"] = value  # type: ignore[assignment]
    with pytest.raises(InvalidInput) as err:
        rules.validate_policy(bad)
    assert "high.fix" in str(err.value) and fragment in str(err.value)


def test_policy_refuses_missing_and_unknown_cells() -> None:
    bad: dict[str, dict[str, object]] = {s: dict(r) for s, r in rules.DEFAULT_POLICY.items()}
    del bad["low"]
    bad["urgent"] = {"acknowledge": 1}
    bad["info"]["lunch"] = 3
    with pytest.raises(InvalidInput) as err:
        rules.validate_policy(bad)
    text = str(err.value)
    assert "low: missing" in text and "unknown severity 'urgent'" in text
    assert "info.lunch: unknown phase" in text


def test_deadline_and_reminder_follow_the_policy() -> None:
    start = datetime(2026, 3, 1, 12, tzinfo=UTC)
    due = rules.deadline_for(
        rules.DEFAULT_POLICY, severity="critical", phase=Phase.ACKNOWLEDGE, started=start
    )
    assert due == start + timedelta(hours=48)
    assert rules.reminder_at(started=start, due=due) == due - timedelta(hours=24)
    short = start + timedelta(hours=2)
    assert rules.reminder_at(started=start, due=short) == start + timedelta(hours=1)


def test_times_are_shown_with_hour_and_viewers_zone() -> None:
    moment = datetime(2026, 7, 1, 15, 30, tzinfo=UTC)
    shown = rules.show_time(moment, "Europe/Paris")
    assert shown.text == "2026-07-01 17:30 CEST (UTC+0200)" and shown.zone == "Europe/Paris"
    assert rules.show_time(moment, None).text.startswith("2026-07-01 15:30 UTC")
    with pytest.raises(InvalidInput, match="Mars/Olympus"):
        rules.check_zone("Mars/Olympus")
