"""Pure rules of advisories: their state machine and what publication requires."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Final

from airlock.core.errors import Conflict, InvalidTransition


class AdvisoryState(StrEnum):
    """Where an advisory is between its draft and the public."""

    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    PUBLISHED = "published"
    UPDATED = "updated"
    WITHDRAWN = "withdrawn"


ADVISORY_MOVES: Final[Mapping[AdvisoryState, frozenset[AdvisoryState]]] = {
    AdvisoryState.DRAFT: frozenset({AdvisoryState.IN_REVIEW}),
    AdvisoryState.IN_REVIEW: frozenset({AdvisoryState.APPROVED, AdvisoryState.DRAFT}),
    AdvisoryState.APPROVED: frozenset({AdvisoryState.PUBLISHED}),
    AdvisoryState.PUBLISHED: frozenset({AdvisoryState.UPDATED, AdvisoryState.WITHDRAWN}),
    # An updated advisory may be updated again or withdrawn.
    AdvisoryState.UPDATED: frozenset({AdvisoryState.UPDATED, AdvisoryState.WITHDRAWN}),
    AdvisoryState.WITHDRAWN: frozenset(),
}

PUBLIC: Final = frozenset({AdvisoryState.PUBLISHED, AdvisoryState.UPDATED})


def check_advisory_move(current: AdvisoryState, target: AdvisoryState) -> None:
    """Raise InvalidTransition unless an advisory may move from current to target."""
    if target not in ADVISORY_MOVES[current]:
        raise InvalidTransition(f"an advisory cannot go from {current} to {target}")


def check_may_publish(
    *, embargoed: bool, firm_consented: bool, disclosure_due: datetime | None, now: datetime
) -> None:
    """Raise Conflict unless the advisory may leave the workspace now."""
    if embargoed:
        raise Conflict("the case is under an active embargo; end the embargo before publishing")
    if firm_consented:
        return
    if disclosure_due is not None and disclosure_due <= now:
        return
    due = f" (it ends {disclosure_due.isoformat()})" if disclosure_due else ""
    raise Conflict(
        "publication needs the firm's recorded consent or the end of the disclosure deadline" + due
    )


def csaf_status(state: AdvisoryState) -> str:
    """The CSAF tracking status: final once public, interim while being written."""
    return "final" if state in PUBLIC else "interim"
