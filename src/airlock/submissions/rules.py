"""The submission state machine and who moves it; pure."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Final

from airlock.core.errors import InvalidTransition
from airlock.enrollment.rules import FirmMove


class SubmissionState(StrEnum):
    """Where a release candidate is in the review."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    RETURNED = "returned"
    IN_REVIEW = "in_review"
    REVIEW_COMPLETE = "review_complete"
    CLOSED = "closed"


S = SubmissionState
ALLOWED: Final[Mapping[SubmissionState, frozenset[SubmissionState]]] = {
    S.DRAFT: frozenset({S.SUBMITTED}),
    S.SUBMITTED: frozenset({S.ACCEPTED, S.RETURNED}),
    S.RETURNED: frozenset({S.SUBMITTED}),
    S.ACCEPTED: frozenset({S.IN_REVIEW}),
    S.IN_REVIEW: frozenset({S.REVIEW_COMPLETE}),
    S.REVIEW_COMPLETE: frozenset({S.CLOSED}),
    S.CLOSED: frozenset(),
}

# The policy action each move needs (see airlock.core.access.POLICY).
ACTION_FOR: Final[Mapping[SubmissionState, str]] = {
    S.SUBMITTED: "submission.submit",
    S.ACCEPTED: "submission.triage",
    S.RETURNED: "submission.triage",
    S.IN_REVIEW: "submission.review",
    S.REVIEW_COMPLETE: "submission.review",
    S.CLOSED: "submission.close",
}

# What each move is, for the firm's participation state (enrollment.rules.MOVES_BY_STATE).
FIRM_MOVE_FOR: Final[Mapping[SubmissionState, FirmMove]] = {
    S.SUBMITTED: FirmMove.SUBMIT,
    S.ACCEPTED: FirmMove.TRIAGE,
    S.RETURNED: FirmMove.TRIAGE,
    S.IN_REVIEW: FirmMove.REVIEW,
    S.REVIEW_COMPLETE: FirmMove.REVIEW,
    S.CLOSED: FirmMove.CLOSE,
}

REASON_REQUIRED: Final = frozenset({S.RETURNED})
EDITABLE: Final = frozenset({S.DRAFT, S.RETURNED})
NEEDS_ASSIGNMENT: Final = frozenset({S.IN_REVIEW, S.REVIEW_COMPLETE})
# A fixed version may be submitted for a submission the agency is reviewing.
FIXABLE: Final = frozenset({S.ACCEPTED, S.IN_REVIEW})


def check_transition(current: SubmissionState, target: SubmissionState) -> None:
    """Raise InvalidTransition unless a submission may move from current to target."""
    if target not in ALLOWED.get(current, frozenset()):
        raise InvalidTransition(f"a submission cannot go from {current} to {target}")


def is_editable(state: SubmissionState) -> bool:
    """Whether the firm may still change the submission."""
    return state in EDITABLE


def may_assign(state: SubmissionState) -> bool:
    """Whether reviewers may be assigned to a submission in this state."""
    return state not in (S.DRAFT, S.CLOSED)
