"""The finding state machine, who makes each move, and the invariants around it; pure.

As DESIGN.md "State machines" gives it: `draft -> confirmed | false_positive | duplicate`;
`confirmed -> notified -> acknowledged | disputed`; `acknowledged -> fix_in_progress ->
fix_submitted -> fix_verified -> closed`; or `risk_accepted` (rationale, by a coordinator).
The design leaves open what follows a dispute and a failed verification; here a disputed
finding is acknowledged after all, withdrawn as a false positive, or its risk accepted, and a
fix that did not hold goes back to `fix_in_progress`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Final

from airlock.core.errors import InvalidInput, InvalidTransition


class FindingState(StrEnum):
    """Where a finding is between the scan that raised it and its close."""

    DRAFT = "draft"
    CONFIRMED = "confirmed"
    FALSE_POSITIVE = "false_positive"
    DUPLICATE = "duplicate"
    NOTIFIED = "notified"
    ACKNOWLEDGED = "acknowledged"
    DISPUTED = "disputed"
    FIX_IN_PROGRESS = "fix_in_progress"
    FIX_SUBMITTED = "fix_submitted"
    FIX_VERIFIED = "fix_verified"
    RISK_ACCEPTED = "risk_accepted"
    CLOSED = "closed"


class Side(StrEnum):
    """Which side of the review makes a move: the agency's reviewers or the developer firm."""

    AGENCY = "agency"
    FIRM = "firm"


F = FindingState
ALLOWED: Final[Mapping[FindingState, frozenset[FindingState]]] = {
    F.DRAFT: frozenset({F.CONFIRMED, F.FALSE_POSITIVE, F.DUPLICATE}),
    F.CONFIRMED: frozenset({F.NOTIFIED, F.RISK_ACCEPTED}),
    F.NOTIFIED: frozenset({F.ACKNOWLEDGED, F.DISPUTED, F.RISK_ACCEPTED}),
    F.DISPUTED: frozenset({F.ACKNOWLEDGED, F.FALSE_POSITIVE, F.RISK_ACCEPTED}),
    F.ACKNOWLEDGED: frozenset({F.FIX_IN_PROGRESS, F.RISK_ACCEPTED}),
    F.FIX_IN_PROGRESS: frozenset({F.FIX_SUBMITTED, F.RISK_ACCEPTED}),
    F.FIX_SUBMITTED: frozenset({F.FIX_VERIFIED, F.FIX_IN_PROGRESS, F.RISK_ACCEPTED}),
    F.FIX_VERIFIED: frozenset({F.CLOSED}),
    F.RISK_ACCEPTED: frozenset({F.CLOSED}),
    F.FALSE_POSITIVE: frozenset(),
    F.DUPLICATE: frozenset(),
    F.CLOSED: frozenset(),
}

# The policy action (airlock.core.access.POLICY) each move needs; a target state is always
# reached by the same side, so the target alone decides.
ACTION_FOR: Final[Mapping[FindingState, str]] = {
    F.CONFIRMED: "finding.triage",
    F.FALSE_POSITIVE: "finding.triage",
    F.DUPLICATE: "finding.triage",
    F.NOTIFIED: "finding.notify",
    F.ACKNOWLEDGED: "finding.respond",
    F.DISPUTED: "finding.respond",
    F.FIX_IN_PROGRESS: "finding.respond",
    F.FIX_SUBMITTED: "finding.respond",
    F.FIX_VERIFIED: "finding.verify",
    F.RISK_ACCEPTED: "finding.accept_risk",
    F.CLOSED: "finding.close",
}

SIDE_FOR: Final[Mapping[FindingState, Side]] = {
    target: (Side.FIRM if action == "finding.respond" else Side.AGENCY)
    for target, action in ACTION_FOR.items()
}

REASON_REQUIRED: Final = frozenset({F.FALSE_POSITIVE, F.DISPUTED, F.RISK_ACCEPTED})
# Agency moves that need the actor to be assigned to the submission (need-to-know).
NEEDS_ASSIGNMENT: Final = frozenset(
    {F.CONFIRMED, F.FALSE_POSITIVE, F.DUPLICATE, F.NOTIFIED, F.FIX_VERIFIED}
)
# States the firm may see: only findings that were notified to it.
VISIBLE_TO_FIRM: Final = frozenset(
    {
        F.NOTIFIED,
        F.ACKNOWLEDGED,
        F.DISPUTED,
        F.FIX_IN_PROGRESS,
        F.FIX_SUBMITTED,
        F.FIX_VERIFIED,
        F.RISK_ACCEPTED,
        F.CLOSED,
    }
)
# Confirmed and still open: the finding is real and neither fixed-and-verified nor accepted.
OPEN_CONFIRMED: Final = frozenset(
    {F.CONFIRMED, F.NOTIFIED, F.ACKNOWLEDGED, F.DISPUTED, F.FIX_IN_PROGRESS, F.FIX_SUBMITTED}
)
RESOLVED: Final = frozenset({F.FIX_VERIFIED, F.RISK_ACCEPTED, F.CLOSED})
UNTRIAGED: Final = frozenset({F.DRAFT})
BLOCKING_SEVERITIES: Final = frozenset({"critical", "high"})
MAX_REASON: Final = 5000

LABELS: Final[Mapping[FindingState, str]] = {
    F.DRAFT: "Awaiting triage",
    F.CONFIRMED: "Confirmed",
    F.FALSE_POSITIVE: "False positive",
    F.DUPLICATE: "Duplicate",
    F.NOTIFIED: "Sent to the firm",
    F.ACKNOWLEDGED: "Acknowledged by the firm",
    F.DISPUTED: "Disputed by the firm",
    F.FIX_IN_PROGRESS: "Fix in progress",
    F.FIX_SUBMITTED: "Fix submitted",
    F.FIX_VERIFIED: "Fix verified",
    F.RISK_ACCEPTED: "Risk accepted",
    F.CLOSED: "Closed",
}

# What the button for each move says, as an action.
ACTION_LABELS: Final[Mapping[FindingState, str]] = {
    F.CONFIRMED: "Confirm",
    F.FALSE_POSITIVE: "Mark as false positive",
    F.DUPLICATE: "Mark as duplicate",
    F.NOTIFIED: "Send to the firm",
    F.ACKNOWLEDGED: "Acknowledge",
    F.DISPUTED: "Dispute",
    F.FIX_IN_PROGRESS: "Start the fix",
    F.FIX_SUBMITTED: "Submit the fix",
    F.FIX_VERIFIED: "Verify the fix",
    F.RISK_ACCEPTED: "Accept the risk",
    F.CLOSED: "Close",
}


def check_transition(current: FindingState, target: FindingState) -> None:
    """Raise InvalidTransition unless a finding may move from current to target."""
    if target not in ALLOWED.get(current, frozenset()):
        raise InvalidTransition(
            f"a finding cannot go from {current} ({LABELS[current]}) to {target}"
        )


def check_path(states: Iterable[FindingState]) -> None:
    """Raise InvalidTransition unless the sequence of states is a legal history from draft."""
    seq = list(states)
    if seq and seq[0] != F.DRAFT:
        raise InvalidTransition(f"a finding starts in draft, not {seq[0]}")
    for current, target in itertools.pairwise(seq):
        check_transition(current, target)


def blocks_review_complete(*, state: FindingState, severity: str) -> bool:
    """Whether a finding keeps its submission from review_complete.

    Untriaged block results and confirmed critical or high findings that are neither verified
    nor risk-accepted block; the caller decides what is untriaged-and-blocking.
    """
    return state in OPEN_CONFIRMED and severity in BLOCKING_SEVERITIES


def check_reason(target: FindingState, reason: str) -> str:
    """The stripped reason; InvalidInput if it is too long or the move needs one and has none."""
    reason = reason.strip()
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"reason: must be at most {MAX_REASON} characters (got {len(reason)})")
    if target in REASON_REQUIRED and not reason:
        raise InvalidInput(f"reason: required to move a finding to {target} ({LABELS[target]})")
    return reason
