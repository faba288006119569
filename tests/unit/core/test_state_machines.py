"""Every pair of states of every state machine: allowed moves pass, all others are refused."""

from __future__ import annotations

import itertools

import pytest

from airlock.core.errors import InvalidTransition
from airlock.enrollment import rules as enrollment
from airlock.submissions import rules as submissions

MACHINES = [
    (enrollment.ParticipationState, enrollment.ALLOWED, enrollment.check_transition),
    (submissions.SubmissionState, submissions.ALLOWED, submissions.check_transition),
]


@pytest.mark.parametrize(("states", "allowed", "check"), MACHINES)
def test_every_pair_of_states_is_decided_by_the_table(states, allowed, check) -> None:
    assert set(allowed) == set(states), "a state is missing from the transition table"
    for a, b in itertools.product(states, states):
        if b in allowed[a]:
            check(a, b)
        else:
            with pytest.raises(InvalidTransition, match=f"from {a} to {b}"):
                check(a, b)


def test_participation_follows_the_design() -> None:
    S = enrollment.ParticipationState
    assert enrollment.ALLOWED[S.ACTIVE] >= {S.SUSPENDED, S.WITHDRAWN}
    assert S.ACTIVE in enrollment.ALLOWED[S.SUSPENDED]
    assert enrollment.ALLOWED[S.WITHDRAWN] == frozenset()


def test_submission_follows_the_design() -> None:
    S = submissions.SubmissionState
    path = [S.DRAFT, S.SUBMITTED, S.ACCEPTED, S.IN_REVIEW, S.REVIEW_COMPLETE, S.CLOSED]
    for a, b in itertools.pairwise(path):
        submissions.check_transition(a, b)
    submissions.check_transition(S.SUBMITTED, S.RETURNED)
    submissions.check_transition(S.RETURNED, S.SUBMITTED)
    with pytest.raises(InvalidTransition):
        submissions.check_transition(S.DRAFT, S.ACCEPTED)
    assert all(t in submissions.ACTION_FOR for a in S for t in submissions.ALLOWED[a])


def test_scopes_are_checked_by_name() -> None:
    from airlock.core.errors import InvalidInput

    assert enrollment.parse_scopes(["weights"]) == {enrollment.Scope.WEIGHTS}
    with pytest.raises(InvalidInput, match="unknown scope 'telepathy'"):
        enrollment.parse_scopes(["telepathy"])
    missing = enrollment.missing_scopes(
        [enrollment.Scope.WEIGHTS, enrollment.Scope.SAFEGUARDS], [enrollment.Scope.SAFEGUARDS]
    )
    assert missing == [enrollment.Scope.WEIGHTS]
