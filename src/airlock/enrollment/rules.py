"""Voluntary participation: the state machine and the scopes a firm may choose; pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Final

from airlock.core.errors import InvalidInput, InvalidTransition


class ParticipationState(StrEnum):
    """Where a firm stands in the program."""

    INVITED = "invited"
    ENROLLED = "enrolled"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    WITHDRAWN = "withdrawn"


S = ParticipationState
ALLOWED: Final[Mapping[ParticipationState, frozenset[ParticipationState]]] = {
    S.INVITED: frozenset({S.ENROLLED, S.WITHDRAWN}),
    S.ENROLLED: frozenset({S.ACTIVE, S.WITHDRAWN}),
    S.ACTIVE: frozenset({S.SUSPENDED, S.WITHDRAWN}),
    S.SUSPENDED: frozenset({S.ACTIVE, S.WITHDRAWN}),
    S.WITHDRAWN: frozenset(),
}


# The moves agency staff make; the firm enrolls and withdraws itself.
STAFF_TARGETS: Final = frozenset({S.ACTIVE, S.SUSPENDED})


def staff_moves(current: ParticipationState) -> list[ParticipationState]:
    """The states agency staff may move a participation in state current to, sorted."""
    return sorted(ALLOWED.get(current, frozenset()) & STAFF_TARGETS, key=lambda s: s.value)


def check_transition(current: ParticipationState, target: ParticipationState) -> None:
    """Raise InvalidTransition unless participation may move from current to target."""
    if target not in ALLOWED.get(current, frozenset()):
        raise InvalidTransition(f"participation cannot go from {current} to {target}")


class Scope(StrEnum):
    """What a firm agrees to share."""

    ARCHITECTURE = "architecture"
    TRAINING_DATA_DOCS = "training_data_docs"
    SAFEGUARDS = "safeguards"
    WEIGHTS = "weights"
    EVAL_ENDPOINT = "eval_endpoint"


CURRENT_AGREEMENT: Final = "2026-1"
AGREEMENT_VERSIONS: Final = frozenset({"2026-1"})


def parse_scopes(raw: Iterable[str]) -> frozenset[Scope]:
    """The scopes named, or InvalidInput naming the unknown one."""
    scopes: set[Scope] = set()
    for item in raw:
        try:
            scopes.add(Scope(item))
        except ValueError:
            known = ", ".join(s.value for s in Scope)
            raise InvalidInput(f"scopes: unknown scope {item!r} (known: {known})") from None
    return frozenset(scopes)


def check_agreement(version: str) -> None:
    """Raise unless version is an agreement a firm may sign today."""
    if version != CURRENT_AGREEMENT:
        raise InvalidInput(
            f"agreement_version: {version!r} is not the current agreement ({CURRENT_AGREEMENT})"
        )


class FirmMove(StrEnum):
    """Something done by a firm, or by agency staff to a firm's submissions, that the firm's
    participation state may forbid."""

    REGISTER_MODEL = "register_model"
    DRAFT = "draft"
    EDIT = "edit"
    SUBMIT = "submit"
    UPLOAD = "upload"
    ASSIGN = "assign"  # assign reviewers, grant restricted fields
    TRIAGE = "triage"  # accept or return
    REVIEW = "review"  # start or complete the review
    CLOSE = "close"


M = FirmMove
FIRM_OWN_MOVES: Final = frozenset({M.REGISTER_MODEL, M.DRAFT, M.EDIT, M.SUBMIT, M.UPLOAD})
_AGENCY: Final = frozenset({M.ASSIGN, M.TRIAGE, M.REVIEW, M.CLOSE})
# The one table of what a participation state lets happen. A suspended firm's submissions can
# still be reviewed; a withdrawn firm's key is destroyed, so its submissions can only be closed.
MOVES_BY_STATE: Final[Mapping[ParticipationState, frozenset[FirmMove]]] = {
    S.INVITED: frozenset(),
    S.ENROLLED: FIRM_OWN_MOVES | _AGENCY,
    S.ACTIVE: FIRM_OWN_MOVES | _AGENCY,
    S.SUSPENDED: _AGENCY,
    S.WITHDRAWN: frozenset({M.CLOSE}),
}

_WHY: Final[Mapping[ParticipationState, str]] = {
    S.INVITED: "the firm has not signed the participation agreement yet",
    S.SUSPENDED: "the firm's participation is suspended",
    S.WITHDRAWN: "the firm has withdrawn from the program",
}


def may(state: ParticipationState | None, move: FirmMove) -> bool:
    """Whether a firm whose participation is in state (None: no participation) allows move."""
    return state is not None and move in MOVES_BY_STATE.get(state, frozenset())


def why_not(state: ParticipationState | None, move: FirmMove) -> str:
    """Why move is refused in state, in words ("" when it is allowed)."""
    if may(state, move):
        return ""
    if state is None:
        return "the firm is not enrolled in the program"
    return _WHY.get(state, f"the firm's participation is {state}")


def may_submit(state: ParticipationState) -> bool:
    """Whether a firm in this state may submit release candidates."""
    return may(state, FirmMove.SUBMIT)


def missing_scopes(carried: Iterable[Scope], agreed: Iterable[Scope]) -> list[Scope]:
    """The scopes a submission carries that the firm did not agree to share."""
    agreed_set = set(agreed)
    return sorted((s for s in carried if s not in agreed_set), key=lambda s: s.value)
