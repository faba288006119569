"""The atoms of the transparency report, counted from the transitions table.

States and their times come from transition rows only (never from a row's current state or
free text). What a transition does not carry is read from rows that are themselves appended
once: a finding's category (its OWASP LLM id) and severity from its first confirmation
decision, and a model's declared release date from the submitted dossier.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import select

from airlock.core.transitions import ObjectType, Transition
from airlock.core.uow import UnitOfWork
from airlock.findings.metrics import declared_release, durations
from airlock.findings.models import Finding, FindingDecision
from airlock.publishing.report_rules import UNCLASSIFIED, Period, month_end, month_of
from airlock.submissions.models import Submission


@dataclass
class Facts:
    """Monthly atom counts and the durations behind the response times."""

    atoms: Counter[str] = field(default_factory=Counter)
    acknowledge_hours: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    fix_hours: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    categories: set[str] = field(default_factory=set)


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _histories(uow: UnitOfWork, kind: ObjectType, before: datetime) -> dict[str, list[Transition]]:
    rows = uow.session.scalars(
        select(Transition)
        .where(Transition.object_type == kind, Transition.at < before)
        .order_by(Transition.at, Transition.id)
    )
    out: dict[str, list[Transition]] = defaultdict(list)
    for t in rows:
        out[t.object_id].append(t)
    return out


def gather(uow: UnitOfWork, period: Period) -> Facts:
    """Every atom of the period's months."""
    facts = Facts()
    months = set(period.months)
    end = _day_start(period.end)
    _participation(uow, period, end, facts)
    _submissions(uow, months, end, facts)
    _findings(uow, period, months, end, facts)
    return facts


def _participation(uow: UnitOfWork, period: Period, end: datetime, facts: Facts) -> None:
    histories = _histories(uow, ObjectType.PARTICIPATION, end)
    for month in period.months:
        cut = month_end(month)
        for rows in histories.values():
            state = None
            for t in rows:
                if _aware(t.at) < cut:
                    state = t.to_state
            if state is not None and state != "invited":
                facts.atoms[f"participation[{state}][{month}]"] += 1


def _submissions(uow: UnitOfWork, months: set[str], end: datetime, facts: Facts) -> None:
    histories = _histories(uow, ObjectType.SUBMISSION, end)
    subs = {
        s.id: s
        for s in uow.session.scalars(select(Submission).where(Submission.id.in_(list(histories))))
    }
    for sid, rows in histories.items():
        received = next((t for t in rows if t.to_state == "submitted"), None)
        if received is not None and month_of(received.at) in months:
            facts.atoms[f"submissions[received][{month_of(received.at)}]"] += 1
        reviewed = next((t for t in rows if t.to_state == "review_complete"), None)
        if reviewed is None or month_of(reviewed.at) not in months:
            continue
        sub = subs.get(sid)
        day = declared_release(uow, sub=sub) if sub else None
        before = day is not None and _aware(reviewed.at) < _day_start(day)
        column = "reviewed_before_release" if before else "reviewed_other"
        facts.atoms[f"submissions[{column}][{month_of(reviewed.at)}]"] += 1


def _first_confirmations(uow: UnitOfWork, ids: list[str]) -> dict[str, FindingDecision]:
    out: dict[str, FindingDecision] = {}
    rows = uow.session.scalars(
        select(FindingDecision)
        .where(FindingDecision.kind == "confirm", FindingDecision.finding_id.in_(ids))
        .order_by(FindingDecision.at, FindingDecision.id)
    )
    for d in rows:
        out.setdefault(d.finding_id, d)
    return out


def category_of(decision: FindingDecision | None) -> str:
    """A finding's category: the OWASP LLM id of its confirmation, else unclassified."""
    if decision is None or not decision.owasp_llm:
        return UNCLASSIFIED
    return str(decision.owasp_llm[0]).split(":")[0]


def _findings(
    uow: UnitOfWork, period: Period, months: set[str], end: datetime, facts: Facts
) -> None:
    histories = _histories(uow, ObjectType.FINDING, end)
    ids = list(histories)
    confirms = _first_confirmations(uow, ids)
    findings = {f.id: f for f in uow.session.scalars(select(Finding).where(Finding.id.in_(ids)))}
    release: dict[str, date | None] = {}
    for fid, rows in histories.items():
        steps = [(t.from_state, t.to_state, _aware(t.at)) for t in rows]
        confirmed = next((t for t in rows if t.to_state == "confirmed"), None)
        decision = confirms.get(fid)
        severity = decision.severity if decision and decision.severity else "info"
        if confirmed is not None and month_of(confirmed.at) in months:
            category = category_of(decision)
            facts.categories.add(category)
            facts.atoms[f"findings[{category}][{severity}][{month_of(confirmed.at)}]"] += 1
        spans = durations(steps)
        acknowledged = next((at for _, to, at in steps if to == "acknowledged"), None)
        if acknowledged and "acknowledge" in spans and month_of(acknowledged) in months:
            facts.atoms[f"response[acknowledge][{month_of(acknowledged)}]"] += 1
            facts.acknowledge_hours[month_of(acknowledged)].append(spans["acknowledge"])
        verified = next((at for _, to, at in steps if to == "fix_verified"), None)
        if verified and "fix" in spans and month_of(verified) in months:
            facts.atoms[f"response[fix][{month_of(verified)}]"] += 1
            facts.fix_hours[month_of(verified)].append(spans["fix"])
        if severity != "critical" or confirmed is None or fid not in findings:
            continue
        sid = findings[fid].submission_id
        if sid not in release:
            sub = uow.session.get(Submission, sid)
            release[sid] = declared_release(uow, sub=sub) if sub else None
        day = release[sid]
        if day is None or not (period.start <= day < period.end):
            continue
        fixed = verified is not None and verified < _day_start(day)
        column = "fixed_before_release" if fixed else "not_fixed_before_release"
        facts.atoms[f"critical[{column}][{day.year:04d}-{day.month:02d}]"] += 1
