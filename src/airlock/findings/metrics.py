"""Review metrics computed from the transitions table, never from free text.

Times: to acknowledge (first `notified` -> first `acknowledged`), to fix (first `notified` ->
the `fix_submitted` that was then verified), to verify (that `fix_submitted` -> `fix_verified`).
The share of confirmed critical findings fixed before the model's declared release date uses
the confirmation decision's severity (a row, not text) and dossier section B's planned release
date. False-positive rates count, per check and rule, the findings that left `draft` and how
many of them went to `false_positive`. Deadline overruns come from providers that a later
stage registers (`add_overrun_source`); without one the figure is unknown, not zero.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select

from airlock.core.access import Actor, authorize
from airlock.core.transitions import ObjectType, Transition
from airlock.core.uow import UnitOfWork
from airlock.findings.models import Finding, FindingDecision
from airlock.findings.rules import FindingState as F
from airlock.submissions import service as submissions
from airlock.submissions.models import Submission

OverrunSource = Callable[[UnitOfWork], int]
_OVERRUN_SOURCES: list[OverrunSource] = []


def add_overrun_source(source: OverrunSource) -> None:
    """Let a later stage (deadlines) report how many deadlines were overrun."""
    if source not in _OVERRUN_SOURCES:
        _OVERRUN_SOURCES.append(source)


@dataclass(frozen=True)
class Durations:
    """Hours between two events over the findings that have both."""

    count: int
    mean_hours: float | None
    median_hours: float | None

    @classmethod
    def of(cls, hours: list[float]) -> Durations:
        """Summarise a list of durations in hours."""
        if not hours:
            return cls(0, None, None)
        return cls(len(hours), statistics.fmean(hours), statistics.median(hours))


@dataclass(frozen=True)
class FalsePositiveRate:
    """Of the findings a check's rule raised that were triaged, how many were false positives."""

    check_name: str
    rule_id: str
    triaged: int
    false_positives: int

    @property
    def rate(self) -> float:
        """False positives over triaged findings."""
        return self.false_positives / self.triaged if self.triaged else 0.0


@dataclass
class Metrics:
    """The figures of the agency dashboard."""

    to_acknowledge: Durations
    to_fix: Durations
    to_verify: Durations
    critical_confirmed_with_release_date: int
    critical_fixed_before_release: int
    deadline_overruns: int | None
    false_positive_rates: list[FalsePositiveRate] = field(default_factory=list)

    @property
    def critical_fixed_before_release_share(self) -> float | None:
        """Share of confirmed critical findings (with a release date) fixed before it."""
        n = self.critical_confirmed_with_release_date
        return self.critical_fixed_before_release / n if n else None


def _hours(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds() / 3600


def durations(history: Iterable[tuple[str | None, str, datetime]]) -> dict[str, float]:
    """Hours to acknowledge, fix and verify for one finding's (from, to, at) rows, in order."""
    first: dict[str, datetime] = {}
    last_fix_submitted: datetime | None = None
    verified_fix: datetime | None = None
    verified_at: datetime | None = None
    for _from, to, at in history:
        first.setdefault(to, at)
        if to == F.FIX_SUBMITTED:
            last_fix_submitted = at
        if to == F.FIX_VERIFIED and verified_at is None:
            verified_at, verified_fix = at, last_fix_submitted
    out: dict[str, float] = {}
    notified = first.get(F.NOTIFIED)
    if notified and F.ACKNOWLEDGED in first:
        out["acknowledge"] = _hours(notified, first[F.ACKNOWLEDGED])
    if notified and verified_fix:
        out["fix"] = _hours(notified, verified_fix)
    if verified_fix and verified_at:
        out["verify"] = _hours(verified_fix, verified_at)
    return out


def declared_release(uow: UnitOfWork, *, sub: Submission) -> date | None:
    """The submission's planned release date, for aggregates: the field is confidential and
    stored sealed, so it is opened here (after a withdrawal it reads as unknown)."""
    return release_date(submissions.stored_dossier(uow, sub=sub), version=sub.version)


def release_date(dossier: Mapping[str, Any], *, version: str = "") -> date | None:
    """The planned release date of dossier section B (the submission's version, else the
    earliest one given)."""
    versions = dossier.get("sections", {}).get("B", {}).get("versions", [])
    found: list[tuple[bool, date]] = []
    for v in versions if isinstance(versions, list) else []:
        if not isinstance(v, dict):
            continue
        raw = (v.get("planned_release_date") or v.get("release_date") or {}).get("value")
        try:
            day = date.fromisoformat(str(raw)[:10]) if raw else None
        except ValueError:
            day = None
        if day is not None:
            name = str((v.get("version") or {}).get("value", ""))
            found.append((bool(version) and name == version, day))
    if not found:
        return None
    matching = [d for same, d in found if same]
    return matching[0] if matching else min(d for _, d in found)


def compute(uow: UnitOfWork) -> Metrics:
    """Every dashboard figure from the transitions (and decision) rows; no access check."""
    session = uow.session
    rows = session.scalars(
        select(Transition)
        .where(Transition.object_type == ObjectType.FINDING)
        .order_by(Transition.at, Transition.id)
    )
    by_finding: dict[str, list[tuple[str | None, str, datetime]]] = defaultdict(list)
    for t in rows:
        by_finding[t.object_id].append((t.from_state, t.to_state, t.at))
    findings = {
        f.id: f for f in session.scalars(select(Finding).where(Finding.id.in_(list(by_finding))))
    }
    hours: dict[str, list[float]] = defaultdict(list)
    triaged: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for fid, hist in by_finding.items():
        for key, value in durations(hist).items():
            hours[key].append(value)
        f = findings.get(fid)
        left_draft = [to for frm, to, _ in hist if frm == F.DRAFT]
        if f is not None and left_draft:
            counts = triaged[(f.check_name, f.rule_id)]
            counts[0] += 1
            counts[1] += left_draft[0] == F.FALSE_POSITIVE

    critical_total = critical_fixed = 0
    confirms = session.scalars(
        select(FindingDecision)
        .where(FindingDecision.kind == "confirm")
        .order_by(FindingDecision.at, FindingDecision.id)
    )
    severity: dict[str, str] = {}
    for d in confirms:
        severity[d.finding_id] = d.severity
    subs: dict[str, Submission | None] = {}
    for fid, sev in severity.items():
        f = findings.get(fid)
        if sev != "critical" or f is None:
            continue
        if f.submission_id not in subs:
            subs[f.submission_id] = session.get(Submission, f.submission_id)
        sub = subs[f.submission_id]
        day = declared_release(uow, sub=sub) if sub else None
        if day is None:
            continue
        critical_total += 1
        verified = next((at for _, to, at in by_finding[fid] if to == F.FIX_VERIFIED), None)
        deadline = datetime(day.year, day.month, day.day, tzinfo=UTC)
        if verified is not None and _aware(verified) < deadline:
            critical_fixed += 1

    return Metrics(
        to_acknowledge=Durations.of(hours["acknowledge"]),
        to_fix=Durations.of(hours["fix"]),
        to_verify=Durations.of(hours["verify"]),
        critical_confirmed_with_release_date=critical_total,
        critical_fixed_before_release=critical_fixed,
        deadline_overruns=sum(s(uow) for s in _OVERRUN_SOURCES) if _OVERRUN_SOURCES else None,
        false_positive_rates=[
            FalsePositiveRate(check, rule, n, fp)
            for (check, rule), (n, fp) in sorted(triaged.items())
        ],
    )


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def dashboard(uow: UnitOfWork, *, actor: Actor) -> Metrics:
    """The metrics for coordinators and agency admins."""
    authorize(actor, "metrics.read")
    return compute(uow)


def remove_overrun_source(source: OverrunSource) -> None:
    """Forget a source registered with add_overrun_source (tests clean up with this)."""
    if source in _OVERRUN_SOURCES:
        _OVERRUN_SOURCES.remove(source)


def per_check(rates: Iterable[FalsePositiveRate]) -> dict[str, FalsePositiveRate]:
    """The false-positive counts of each check over all its rules."""
    out: dict[str, FalsePositiveRate] = {}
    for r in rates:
        seen = out.get(r.check_name)
        triaged = r.triaged + (seen.triaged if seen else 0)
        fps = r.false_positives + (seen.false_positives if seen else 0)
        out[r.check_name] = FalsePositiveRate(r.check_name, "", triaged, fps)
    return out


@dataclass(frozen=True)
class CheckRate:
    """A registered check, its state, and its false-positive rate."""

    name: str
    state: str
    triaged: int
    false_positives: int
    rate: float


def check_rates(uow: UnitOfWork, m: Metrics) -> list[CheckRate]:
    """Every registered check with its state and its false-positive rate, side by side."""
    from airlock.scanning import registry
    from airlock.scanning import service as scanning

    totals = per_check(m.false_positive_rates)
    out = []
    for check in registry.all_checks():
        t = totals.get(check.name, FalsePositiveRate(check.name, "", 0, 0))
        state = scanning.state_of(uow, name=check.name)
        out.append(CheckRate(check.name, str(state), t.triaged, t.false_positives, t.rate))
    return out
