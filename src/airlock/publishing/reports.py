"""The transparency report: build a snapshot, audit its suppression, publish it, read it.

An agency admin builds a draft snapshot of a period (previewed only in the workspace), then
publishes it. Publishing runs the suppression audit over every figure of this snapshot and of
every snapshot published before it, and is refused, naming the figure, when a withheld value
could be narrowed below its protection range. A published snapshot is never changed; a
correction is a new version of the same period that says what changed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from airlock.core import audit as audit_trail
from airlock.core.access import Actor, authorize
from airlock.core.db import utcnow
from airlock.core.errors import Conflict, InvalidInput, NotFound
from airlock.core.uow import UnitOfWork
from airlock.publishing import report_data
from airlock.publishing.report_models import ReportSnapshot
from airlock.publishing.report_rules import (
    PARTICIPATION_STATES,
    SEVERITIES,
    SUBMISSION_COLUMNS,
    Period,
    SnapshotState,
    Table,
    count_table,
    parse_period,
    percentile,
    render_table,
    shown_changes,
)
from airlock.publishing.suppression import (
    Figure,
    Interval,
    Release,
    SuppressionImpossible,
    suppress,
)
from airlock.publishing.suppression import audit as lp_audit

MAX_CHANGE = 5000


def build_tables(period: Period, facts: report_data.Facts) -> list[Table]:
    """The report's tables of a period from its atoms."""
    buckets = period.buckets()
    rows = [label for label, _ in buckets]
    months = dict(buckets)
    participation = count_table(
        "participation",
        "Firms by participation status at the end of each "
        + ("quarter" if period.is_year else "month"),
        rows=rows,
        columns=PARTICIPATION_STATES,
        atom_counts=facts.atoms,
        atoms_of={
            (r, s): {f"participation[{s}][{months[r][-1]}]"}
            for r in rows
            for s in PARTICIPATION_STATES
        },
        column_totals=False,
    )
    submissions = count_table(
        "submissions",
        "Submissions received and reviews completed",
        rows=rows,
        columns=SUBMISSION_COLUMNS,
        atom_counts=facts.atoms,
        atoms_of={
            (r, c): {f"submissions[{c}][{m}]" for m in months[r]}
            for r in rows
            for c in SUBMISSION_COLUMNS
        },
        row_totals=False,
    )
    categories = sorted(facts.categories)
    findings = count_table(
        "findings",
        "Confirmed findings by category and severity",
        rows=categories,
        columns=SEVERITIES,
        atom_counts=facts.atoms,
        atoms_of={
            (c, s): {f"findings[{c}][{s}][{m}]" for m in period.months}
            for c in categories
            for s in SEVERITIES
        },
    )
    response = count_table(
        "response",
        "Findings acknowledged and fixes verified",
        rows=["acknowledge", "fix"],
        columns=["findings"],
        atom_counts=facts.atoms,
        atoms_of={
            (r, "findings"): {f"response[{r}][{m}]" for m in period.months}
            for r in ("acknowledge", "fix")
        },
        row_totals=False,
        column_totals=False,
    )
    critical_columns = ["fixed_before_release", "not_fixed_before_release"]
    critical = count_table(
        "critical",
        "Critical findings of models whose declared release date fell in the period",
        rows=["critical"],
        columns=critical_columns,
        atom_counts=facts.atoms,
        atoms_of={
            ("critical", c): {f"critical[{c}][{m}]" for m in period.months}
            for c in critical_columns
        },
        column_totals=False,
    )
    return [participation, submissions, findings, response, critical]


def _figures_json(
    figures: list[Figure], suppressed: set[str], atom_values: dict[str, int]
) -> list[dict[str, Any]]:
    # Each atom's value is kept beside the figure, so a later audit can tell which atoms a
    # correction (or late data) changed and tie versions only through the unchanged ones.
    return [
        {
            "key": f.key,
            "atoms": sorted(f.atoms),
            "atom_values": [atom_values[a] for a in sorted(f.atoms)],
            "value": f.value,
            "suppressed": f.key in suppressed,
        }
        for f in figures
    ]


def _label(snapshot: ReportSnapshot) -> str:
    return f"{snapshot.period} " + (f"v{snapshot.version}" if snapshot.version else "draft")


def release_of(snapshot: ReportSnapshot) -> Release:
    """A stored snapshot's figures as the suppression module reads them."""
    figures = [Figure(f["key"], frozenset(f["atoms"]), int(f["value"])) for f in snapshot.figures]
    values = {
        atom: int(value)
        for f in snapshot.figures
        for atom, value in zip(f["atoms"], f.get("atom_values") or [], strict=False)
    }
    # Snapshots built before atom values were kept have none: the audit then takes them to
    # agree with the newest values, as it always did.
    return Release(
        figures,
        {f["key"] for f in snapshot.figures if f["suppressed"]},
        atom_values=values if any("atom_values" in f for f in snapshot.figures) else None,
        label=_label(snapshot),
    )


def _stat(hours: list[float], shown: bool) -> dict[str, float | None]:
    if not shown:
        return {"median_hours": None, "p90_hours": None}
    median, p90 = percentile(hours, 50), percentile(hours, 90)
    return {
        "median_hours": round(median, 1) if median is not None else None,
        "p90_hours": round(p90, 1) if p90 is not None else None,
    }


def _content(
    period: Period,
    tables: list[Table],
    release: Release,
    facts: report_data.Facts,
    *,
    min_cell: int,
    now: datetime,
) -> dict[str, Any]:
    suppressed = release.suppressed
    values = {f.key: f.value for f in release.figures}
    times = {}
    for kind, hours in (("acknowledge", facts.acknowledge_hours), ("fix", facts.fix_hours)):
        key = f"response[{kind}][findings]"
        n = values[key]
        # A median of fewer findings than the minimum would describe too few to publish.
        shown = key not in suppressed and n >= min_cell
        times[kind] = {
            "findings": None if key in suppressed else n,
            **_stat([h for month in period.months for h in hours.get(month, [])], shown),
        }
    fixed_key, total_key = "critical[critical][fixed_before_release]", "critical[critical][total]"
    share = None
    if fixed_key not in suppressed and total_key not in suppressed and values[total_key]:
        share = round(values[fixed_key] / values[total_key], 3)
    empty = not any(f.value for f in release.figures)
    return {
        "period": period.label,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "min_cell": min_cell,
        "empty": empty,
        "built_at": now.isoformat(),
        "tables": [render_table(t, suppressed) for t in tables],
        "response_times": times,
        "critical_fixed_before_release_share": share,
        "withheld": len(suppressed),
    }


def published(uow: UnitOfWork) -> list[ReportSnapshot]:
    """Every published snapshot, oldest publication first."""
    return list(
        uow.session.scalars(
            select(ReportSnapshot)
            .where(ReportSnapshot.state == SnapshotState.PUBLISHED)
            .order_by(ReportSnapshot.published_at, ReportSnapshot.id)
        )
    )


def build(
    uow: UnitOfWork, *, actor: Actor, period: str, now: datetime | None = None
) -> ReportSnapshot:
    """A draft snapshot of a period, suppressed against everything published so far."""
    authorize(actor, "report.manage")
    moment = now or utcnow()
    parsed = parse_period(period, now=moment)
    min_cell = uow.services.settings.public_min_cell
    facts = report_data.gather(uow, parsed)
    tables = build_tables(parsed, facts)
    figures = [f for t in tables for f in t.figures()]
    history = [release_of(s) for s in published(uow)]
    atom_values = {a: facts.atoms.get(a, 0) for f in figures for a in f.atoms}
    try:
        release = suppress(
            figures,
            min_cell=min_cell,
            history=history,
            atom_values=atom_values,
            label=f"{parsed.label} draft",
        )
    except SuppressionImpossible as exc:
        raise Conflict(f"the {parsed.label} report cannot be suppressed safely: {exc}") from exc
    row = ReportSnapshot(
        period=parsed.label,
        state=SnapshotState.DRAFT,
        min_cell=min_cell,
        content=_content(parsed, tables, release, facts, min_cell=min_cell, now=moment),
        figures=_figures_json(figures, release.suppressed, atom_values),
        created_by=actor.user_id,
        created_at=moment,
    )
    uow.session.add(row)
    uow.flush()
    audit_trail.append(
        uow.session,
        actor=actor,
        action="report.built",
        object_type="report",
        object_id=row.id,
        detail={"period": parsed.label, "withheld": len(release.suppressed)},
    )
    return row


def get(uow: UnitOfWork, *, actor: Actor, snapshot_id: str) -> ReportSnapshot:
    """A snapshot, draft or published, for the agency."""
    authorize(actor, "report.read")
    row = uow.session.get(ReportSnapshot, snapshot_id)
    if row is None:
        raise NotFound("no such report snapshot")
    return row


def snapshots(uow: UnitOfWork, *, actor: Actor) -> list[ReportSnapshot]:
    """Every snapshot, newest first, for the agency."""
    authorize(actor, "report.read")
    return list(
        uow.session.scalars(
            select(ReportSnapshot).order_by(ReportSnapshot.created_at.desc(), ReportSnapshot.id)
        )
    )


@dataclass(frozen=True)
class AuditResult:
    """The feasible interval of every sensitive figure, and those that fail."""

    intervals: list[Interval]

    @property
    def failing(self) -> list[Interval]:
        """Intervals narrower than their protection range."""
        return [i for i in self.intervals if not i.protected]


def audit_release(release: Release, history: list[Release], *, min_cell: int) -> AuditResult:
    """The LP audit of a release against every earlier published one."""
    try:
        return AuditResult(lp_audit(release, history=history, min_cell=min_cell))
    except SuppressionImpossible as exc:
        raise Conflict(f"the suppression audit cannot run: {exc}") from exc


def audit(uow: UnitOfWork, *, actor: Actor, snapshot_id: str) -> AuditResult:
    """Audit a snapshot against everything published (other than itself)."""
    row = get(uow, actor=actor, snapshot_id=snapshot_id)
    history = [release_of(s) for s in published(uow) if s.id != row.id]
    return audit_release(release_of(row), history, min_cell=row.min_cell)


def describe(interval: Interval) -> str:
    """One failing interval in words."""
    where = f" of {interval.release}" if interval.release else ""
    return (
        f"{interval.key}{where} (true value {interval.value}) can be narrowed to "
        f"{interval.low:g} to {interval.high:g}; it must stay open over at least "
        f"{interval.needed_low:g} to {interval.needed_high:g}"
    )


def content_hash(content: dict[str, Any]) -> str:
    """The SHA-256 of a snapshot's public content, as stored at publication."""
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def publish(uow: UnitOfWork, *, actor: Actor, snapshot_id: str, change: str = "") -> ReportSnapshot:
    """Publish a draft after the audit passes; a second version of a period must say what
    changed."""
    authorize(actor, "report.manage")
    row = get(uow, actor=actor, snapshot_id=snapshot_id)
    if row.state != SnapshotState.DRAFT:
        raise Conflict("this snapshot is already published; a correction is a new snapshot")
    change = change.strip()
    if len(change) > MAX_CHANGE:
        raise InvalidInput(f"change: at most {MAX_CHANGE} characters")
    earlier = uow.session.scalar(
        select(func.max(ReportSnapshot.version)).where(ReportSnapshot.period == row.period)
    )
    if earlier and not change:
        raise InvalidInput(
            f"change: {row.period} is already published (version {earlier}); "
            "say what this correction changes"
        )
    result = audit(uow, actor=actor, snapshot_id=row.id)
    if result.failing:
        raise Conflict(
            "publication refused by the suppression audit: " + describe(result.failing[0])
        )
    changes: list[dict[str, Any]] = []
    if earlier:
        previous = public_get(uow, period=row.period, version=earlier)
        changes = shown_changes(previous.figures, row.figures)
    row.version = (earlier or 0) + 1
    row.state = SnapshotState.PUBLISHED
    row.change = change
    row.published_by = actor.user_id
    row.published_at = utcnow()
    row.content = {**row.content, "version": row.version, "change": change, "changes": changes}
    row.content_sha256 = content_hash(row.content)
    audit_trail.append(
        uow.session,
        actor=actor,
        action="report.published",
        object_type="report",
        object_id=row.id,
        detail={"period": row.period, "version": row.version, "sha256": row.content_sha256},
    )
    return row


def public_list(uow: UnitOfWork) -> list[ReportSnapshot]:
    """The newest published version of each period, newest period first."""
    latest: dict[str, ReportSnapshot] = {}
    for s in published(uow):
        if s.period not in latest or (s.version or 0) > (latest[s.period].version or 0):
            latest[s.period] = s
    return sorted(latest.values(), key=lambda s: s.period, reverse=True)


def public_get(uow: UnitOfWork, *, period: str, version: int | None = None) -> ReportSnapshot:
    """A published report of a period (its newest version unless one is asked for)."""
    versions = [s for s in published(uow) if s.period == period.upper()]
    if version is not None:
        versions = [s for s in versions if s.version == version]
    if not versions:
        raise NotFound(f"no published report for {period!r}")
    return max(versions, key=lambda s: s.version or 0)


def versions_of(uow: UnitOfWork, *, period: str) -> list[ReportSnapshot]:
    """Every published version of a period, oldest first."""
    return sorted((s for s in published(uow) if s.period == period), key=lambda s: s.version or 0)
