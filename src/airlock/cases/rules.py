"""Pure rules of cases: the embargo machine, the deadline policy and deadline arithmetic."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from airlock.core.errors import InvalidInput, InvalidTransition


class EmbargoState(StrEnum):
    """Whether what is known about a case may leave the review workspace."""

    NONE = "none"
    PROPOSED = "proposed"
    ACTIVE = "active"
    REVISE = "revise"
    EXITED = "exited"


EMBARGO_MOVES: Final[Mapping[EmbargoState, frozenset[EmbargoState]]] = {
    EmbargoState.NONE: frozenset({EmbargoState.PROPOSED}),
    EmbargoState.PROPOSED: frozenset({EmbargoState.ACTIVE}),
    EmbargoState.ACTIVE: frozenset({EmbargoState.REVISE, EmbargoState.EXITED}),
    EmbargoState.REVISE: frozenset({EmbargoState.ACTIVE}),
    EmbargoState.EXITED: frozenset(),
}

# While in these states nothing about the case leaves the review workspace.
EMBARGOED: Final = frozenset({EmbargoState.ACTIVE, EmbargoState.REVISE})


def check_embargo_move(current: EmbargoState, target: EmbargoState) -> None:
    """Raise InvalidTransition unless an embargo may move from current to target."""
    if target not in EMBARGO_MOVES[current]:
        raise InvalidTransition(f"an embargo cannot go from {current} to {target}")


class PublicEvent(StrEnum):
    """What a case may record that ends an embargo by itself."""

    PUBLIC = "public"
    EXPLOITED = "exploited"


def embargo_after_public_event(current: EmbargoState) -> EmbargoState | None:
    """The state an embargo moves to when the issue became public or is exploited (None: stays)."""
    return EmbargoState.EXITED if current in EMBARGOED else None


class Phase(StrEnum):
    """The deadlines a case runs, each started by an event of the finding's life."""

    ACKNOWLEDGE = "acknowledge"
    FIX = "fix"
    DISCLOSURE = "disclosure"


SEVERITIES: Final = ("critical", "high", "medium", "low", "info")

# A deadline longer than this is certainly a typo (days instead of hours, an extra zero).
MAX_DURATION: Final = timedelta(days=730)
MIN_DURATION: Final = timedelta(hours=1)

DEFAULT_POLICY: Final[Mapping[str, Mapping[str, int]]] = {
    # severity -> phase -> hours
    "critical": {"acknowledge": 48, "fix": 24 * 30, "disclosure": 24 * 90},
    "high": {"acknowledge": 72, "fix": 24 * 60, "disclosure": 24 * 90},
    "medium": {"acknowledge": 24 * 7, "fix": 24 * 90, "disclosure": 24 * 120},
    "low": {"acknowledge": 24 * 14, "fix": 24 * 180, "disclosure": 24 * 180},
    "info": {"acknowledge": 24 * 30, "fix": 24 * 365, "disclosure": 24 * 365},
}

# Reminders go out this long before a deadline (or at half its length, if it is shorter).
REMINDER_BEFORE: Final = timedelta(hours=24)


def validate_policy(hours: Mapping[str, Mapping[str, object]]) -> dict[str, dict[str, int]]:
    """A complete severity x phase table of whole hours, or InvalidInput naming each bad cell."""
    errors: list[dict[str, str]] = []
    out: dict[str, dict[str, int]] = {}
    unknown = sorted(set(hours) - set(SEVERITIES))
    for sev in unknown:
        errors.append({"loc": sev, "msg": f"unknown severity {sev!r}; use {', '.join(SEVERITIES)}"})
    for sev in SEVERITIES:
        row = hours.get(sev)
        if not isinstance(row, Mapping):
            errors.append({"loc": sev, "msg": "missing: give hours for every phase"})
            continue
        for extra in sorted(set(row) - {p.value for p in Phase}):
            errors.append({"loc": f"{sev}.{extra}", "msg": f"unknown phase {extra!r}"})
        out[sev] = {}
        for phase in Phase:
            value = row.get(phase.value)
            loc = f"{sev}.{phase.value}"
            if isinstance(value, bool) or not isinstance(value, int):
                errors.append(
                    {"loc": loc, "msg": f"must be a whole number of hours (got {value!r})"}
                )
                continue
            low, high = MIN_DURATION // timedelta(hours=1), MAX_DURATION // timedelta(hours=1)
            if not low <= value <= high:
                errors.append(
                    {"loc": loc, "msg": f"must be between {low} and {high} hours (got {value})"}
                )
                continue
            out[sev][phase.value] = value
    if errors:
        detail = "; ".join(f"{e['loc']}: {e['msg']}" for e in errors)
        raise InvalidInput(f"deadline policy refused: {detail}", errors=errors)
    return out


def deadline_for(
    policy: Mapping[str, Mapping[str, int]], *, severity: str, phase: Phase, started: datetime
) -> datetime:
    """When a phase that started at `started` is due under the policy."""
    return started + timedelta(hours=policy[severity][phase.value])


def reminder_at(*, started: datetime, due: datetime) -> datetime:
    """When to remind both sides of a deadline: a day before, or half-way for short ones."""
    return max(due - REMINDER_BEFORE, started + (due - started) / 2)


class ExtensionState(StrEnum):
    """A firm's request for more time, and the coordinator's answer."""

    REQUESTED = "requested"
    GRANTED = "granted"
    REFUSED = "refused"


@dataclass(frozen=True)
class ShownTime:
    """A moment as a person reads it: date, hour and the zone it is given in."""

    text: str
    zone: str


def show_time(moment: datetime, zone: str | None) -> ShownTime:
    """Format a UTC moment in the viewer's time zone (UTC when none or unknown)."""
    try:
        tz = ZoneInfo(zone) if zone else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("UTC")
    local = moment.astimezone(tz)
    return ShownTime(local.strftime("%Y-%m-%d %H:%M %Z (UTC%z)"), str(tz))


def check_zone(zone: str) -> str:
    """The zone name if it is a known IANA zone, else InvalidInput naming it."""
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(f"time zone: unknown zone {zone!r} (use an IANA name)") from exc
    return zone
