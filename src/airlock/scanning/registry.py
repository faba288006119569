"""The registry of checks: automated review engines the scanning stage runs on subjects.

A check declares itself as one `Check` value in its own module (name, version, subject kind,
the event that triggers it, and three functions); `airlock.checks_catalogue` lists those
modules explicitly and registers them. The scanning stage's jobs then run any registered check:

    event published --> `checks.plan` job: is the check enabled, has this version seen the
    subject? --> `checks.run` job: locate + prepare (a short read), run (no transaction open),
    record the run and its scan results, publish `check.recorded` {"run_id"} on commit.

A check's functions:

- `locate(uow, subject_id)`: the subject (with its submission and organisation), or None when
  it is gone (nothing is recorded then);
- `prepare(uow, subject)`: read what the run needs (may raise CheckUnavailable: a review run
  is recorded with the message as its error);
- `run(prepared, services)`: return a CheckOutcome; it must not use the database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar

from airlock.core.db import utcnow
from airlock.scanning.engine.model import Severity, Verdict
from airlock.scanning.rules import ScannerState

if TYPE_CHECKING:
    from airlock.core.ports import Services
    from airlock.core.uow import UnitOfWork

CHECK_RECORDED_EVENT: Final = "check.recorded"

JSON = str | int | float | bool | None | list["JSON"] | dict[str, "JSON"]
JSONObject = dict[str, JSON]


class SubjectKind(StrEnum):
    """What a check looks at."""

    ARTIFACT = "artifact"  # one file in the vault
    SUBMISSION = "submission"  # a submission as a whole (its dossier)
    ENDPOINT = "endpoint"  # a firm's model endpoint (behavioural probes)

    @property
    def payload_key(self) -> str:
        """The key of the subject's id in the payload of the event that triggers a check."""
        return f"{self.value}_id"


@dataclass(frozen=True)
class Subject:
    """One subject of a check, with the submission and organisation it belongs to."""

    kind: SubjectKind
    id: str
    submission_id: str
    org_id: str
    name: str = ""  # how results point at it (an artifact's file name)

    @property
    def artifact_id(self) -> str | None:
        """The artifact's id when the subject is one."""
        return self.id if self.kind == SubjectKind.ARTIFACT else None


@dataclass(frozen=True)
class RawResult:
    """One thing a check reported, before any human review: a *scan result*, not a finding."""

    rule_id: str
    severity: Severity
    verdict: Verdict
    message: str
    fingerprint: str  # stable across versions of a model, so recurrences are recognised
    evidence: JSONObject = field(default_factory=dict)
    atlas: tuple[str, ...] = ()


@dataclass(frozen=True)
class CheckOutcome:
    """What one run of a check said about one subject."""

    verdict: Verdict
    results: tuple[RawResult, ...] = ()
    format: str = ""
    seconds: float = 0.0
    error: str = ""
    started_at: datetime = field(default_factory=utcnow)


class CheckUnavailable(Exception):
    """The subject cannot be checked (a destroyed key, a broken object): record a review run."""


T = TypeVar("T")


@dataclass(frozen=True)
class Check(Generic[T]):
    """An automated review engine: what it looks at, when, and how."""

    name: str
    version: str
    subject: SubjectKind
    trigger: str  # the event whose payload names the subject (subject.payload_key)
    locate: Callable[[UnitOfWork, str], Subject | None]
    prepare: Callable[[UnitOfWork, Subject], T]
    run: Callable[[T, Services], CheckOutcome]
    # Ids of every subject of its kind created since the given time (None: all), for rescans.
    candidates: Callable[[UnitOfWork, datetime | None], Iterable[str]]
    default_state: ScannerState = ScannerState.ENABLED
    description: str = ""


_CHECKS: dict[str, Check[Any]] = {}
_ON_REGISTER: list[Callable[[Check[Any]], None]] = []


def register(check: Check[Any]) -> Check[Any]:
    """Add a check (idempotent for the same value); a different one under a taken name fails."""
    if not check.name or len(check.name) > 80 or not 0 < len(check.version) <= 40:
        raise ValueError(f"check {check.name!r}: a name of 1-80 and a version of 1-40 characters")
    existing = _CHECKS.get(check.name)
    if existing is not None:
        if existing is check:
            return check
        raise ValueError(f"a different check is already registered as {check.name!r}")
    _CHECKS[check.name] = check
    for hook in _ON_REGISTER:
        hook(check)
    return check


def unregister(name: str) -> None:
    """Remove a check (tests that register a toy check clean up with this)."""
    _CHECKS.pop(name, None)


def on_register(hook: Callable[[Check[Any]], None]) -> None:
    """Call hook for every check registered now or later (the scanning jobs subscribe here)."""
    _ON_REGISTER.append(hook)
    for check in list(_CHECKS.values()):
        hook(check)


def get(name: str) -> Check[Any] | None:
    """The registered check called name."""
    return _CHECKS.get(name)


def all_checks() -> list[Check[Any]]:
    """Every registered check, by name."""
    return [_CHECKS[n] for n in sorted(_CHECKS)]


def versions() -> Mapping[str, str]:
    """name -> version of every registered check."""
    return {c.name: c.version for c in all_checks()}
