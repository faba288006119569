"""Pure rules of the scanning stage: check states and who sees which check's results."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from airlock.core.errors import InvalidInput


class ScannerState(StrEnum):
    """Whether a scanner runs, and whether the firm sees what it finds."""

    ENABLED = "enabled"  # runs, and its findings are shown to the firm and the reviewers
    EVALUATION = "evaluation"  # runs and records, shown to assigned agency staff only
    DISABLED = "disabled"  # does not run


FIRM_VISIBLE: Final = frozenset({ScannerState.ENABLED})
STAFF_VISIBLE: Final = frozenset({ScannerState.ENABLED, ScannerState.EVALUATION})
RUNS: Final = frozenset({ScannerState.ENABLED, ScannerState.EVALUATION})


def parse_state(value: str) -> ScannerState:
    """The scanner state named by value; InvalidInput names the allowed ones."""
    try:
        return ScannerState(value)
    except ValueError:
        allowed = ", ".join(s.value for s in ScannerState)
        raise InvalidInput(f"state: must be one of {allowed} (got {value!r})") from None


def visible_states(*, firm: bool) -> frozenset[ScannerState]:
    """The scanner states whose findings a viewer sees: the firm, or assigned agency staff."""
    return FIRM_VISIBLE if firm else STAFF_VISIBLE


def runs(state: ScannerState) -> bool:
    """Whether a scanner in this state scans new artifacts."""
    return state in RUNS


def relocate(location: str, *, scanned_path: str, artifact_name: str) -> str:
    """An evidence location with the temporary file's path replaced by the artifact's name."""
    if location == scanned_path:
        return artifact_name
    if location.startswith(scanned_path + "!"):
        return artifact_name + location[len(scanned_path) :]
    return location
