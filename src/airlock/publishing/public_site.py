"""What the public site shows: published reports and advisories, participation, the feed.

Nothing here takes an actor: every function returns only what is already public. A firm is
named (in the participant list, and as the developer in an advisory) only where it agreed to
be named on its participation or consented to that case's publication; otherwise the text
says "a participating developer" and the model is not named either.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from airlock.accounts.models import Organisation
from airlock.cases.models import Case
from airlock.core.errors import NotFound
from airlock.core.uow import UnitOfWork
from airlock.coverage import service as coverage
from airlock.enrollment import service as enrollment
from airlock.enrollment.models import Participation
from airlock.publishing import advisories_export, reports
from airlock.publishing.advisories_models import Advisory, AdvisoryRevision
from airlock.publishing.advisories_rules import PUBLIC
from airlock.publishing.public_schemas import (
    AdvisoryOut,
    AdvisorySummaryOut,
    HomeOut,
    ParticipationOut,
    ReportOut,
    ReportSummaryOut,
    VulnerabilityOut,
)
from airlock.publishing.report_models import ReportSnapshot
from airlock.submissions.models import AIModel, Submission

UNNAMED_DEVELOPER = "A participating developer"
UNNAMED_MODEL = "An AI model under review"


def report_url(period: str) -> str:
    """The public page of a period's report."""
    return f"/reports/{period}"


def report_out(uow: UnitOfWork, snapshot: ReportSnapshot) -> ReportOut:
    """A published snapshot as the public JSON."""
    c = snapshot.content
    assert snapshot.version is not None and snapshot.published_at is not None
    return ReportOut.model_validate(
        {
            **{k: c[k] for k in ("period", "start", "end", "min_cell", "empty", "tables")},
            "response_times": c["response_times"],
            "critical_fixed_before_release_share": c["critical_fixed_before_release_share"],
            "withheld": c["withheld"],
            "version": snapshot.version,
            "published_at": snapshot.published_at,
            "change": snapshot.change,
            "changes": c.get("changes", []),
            "versions": [s.version for s in reports.versions_of(uow, period=snapshot.period)],
            "sha256": snapshot.content_sha256,
            "csv_url": f"/reports/{snapshot.period}/v{snapshot.version}.csv",
            "pdf_url": f"/reports/{snapshot.period}/v{snapshot.version}.pdf",
        }
    )


def report_summaries(uow: UnitOfWork) -> list[ReportSummaryOut]:
    """The newest version of every published report."""
    return [
        ReportSummaryOut(
            period=s.period,
            version=s.version or 0,
            published_at=s.published_at or s.created_at,
            empty=bool(s.content.get("empty")),
            url=report_url(s.period),
        )
        for s in reports.public_list(uow)
    ]


def _public_advisories(uow: UnitOfWork) -> list[Advisory]:
    stmt = (
        select(Advisory)
        .where(Advisory.state.in_([s.value for s in PUBLIC]))
        .order_by(Advisory.published_at.desc(), Advisory.id)
    )
    return list(uow.session.scalars(stmt))


def _revisions(uow: UnitOfWork, adv: Advisory) -> list[AdvisoryRevision]:
    stmt = (
        select(AdvisoryRevision)
        .where(AdvisoryRevision.advisory_id == adv.id)
        .order_by(AdvisoryRevision.number)
    )
    return list(uow.session.scalars(stmt))


def _summary(adv: Advisory, latest: AdvisoryRevision) -> AdvisorySummaryOut:
    return AdvisorySummaryOut(
        tracking_id=adv.tracking_id,
        title=latest.title,
        published_at=adv.published_at,
        updated_at=latest.created_at,
        url=f"/advisories/{adv.tracking_id}",
    )


def advisory_summaries(uow: UnitOfWork) -> list[AdvisorySummaryOut]:
    """Every published advisory, newest first."""
    return [_summary(a, _revisions(uow, a)[-1]) for a in _public_advisories(uow)]


def _parts(
    uow: UnitOfWork, tracking_id: str
) -> tuple[Advisory, list[AdvisoryRevision], Submission, str, str, str | None]:
    adv = uow.session.scalar(select(Advisory).where(Advisory.tracking_id == tracking_id))
    if adv is None or adv.state not in PUBLIC:
        raise NotFound(f"no published advisory {tracking_id!r}")
    case = uow.session.get(Case, adv.case_id)
    assert case is not None
    sub = uow.session.get(Submission, case.submission_id)
    org = uow.session.get(Organisation, case.org_id)
    model = uow.session.get(AIModel, sub.model_id) if sub else None
    assert sub is not None and org is not None and model is not None
    p = uow.session.scalar(select(Participation).where(Participation.org_id == org.id))
    named = (p is not None and p.public_name_consent) or case.publication_consent_at is not None
    if named:
        return adv, _revisions(uow, adv), sub, org.name, model.name, None
    return adv, _revisions(uow, adv), sub, UNNAMED_DEVELOPER, UNNAMED_MODEL, "reviewed version"


def advisory(uow: UnitOfWork, *, tracking_id: str) -> AdvisoryOut:
    """One published advisory with its newest revision."""
    adv, revs, _sub, vendor, model, _version = _parts(uow, tracking_id)
    latest = revs[-1]
    return AdvisoryOut(
        **_summary(adv, latest).model_dump(),
        summary=latest.summary,
        revision=latest.number,
        developer=vendor,
        model=model,
        vulnerabilities=[
            VulnerabilityOut.model_validate({k: v.get(k) or d for k, d in _DEFAULTS.items()})
            for _, v in sorted(latest.vulnerabilities.items())
        ],
        csaf_url=f"/advisories/{tracking_id}/csaf.json",
        avid_url=f"/advisories/{tracking_id}/avid.json",
    )


_DEFAULTS: dict[str, Any] = {
    "title": "",
    "severity": "",
    "cwe": "",
    "description": "",
    "remediation": "",
    "fixed": False,
}


def csaf(uow: UnitOfWork, *, tracking_id: str) -> dict[str, Any]:
    """A published advisory as CSAF 2.0."""
    adv, revs, sub, vendor, model, version = _parts(uow, tracking_id)
    return advisories_export.csaf_document(
        uow, adv, revs, sub, vendor=vendor, model_name=model, version=version
    )


def avid(uow: UnitOfWork, *, tracking_id: str) -> dict[str, Any]:
    """A published advisory as an AVID report."""
    adv, revs, sub, vendor, model, version = _parts(uow, tracking_id)
    return advisories_export.avid_document(
        adv, revs, sub, vendor=vendor, model_name=model, version=version
    )


def home(uow: UnitOfWork, *, min_cell: int) -> HomeOut:
    """The figures of the public home page."""
    participation = None
    latest = reports.public_list(uow)
    if latest:
        newest = max(latest, key=lambda s: s.content["end"])
        table = next(t for t in newest.content["tables"] if t["name"] == "participation")
        if table["rows"]:
            last = table["rows"][-1]
            participation = ParticipationOut(
                period=newest.period,
                counts=dict(zip(table["columns"], last["cells"], strict=True)),
            )
    covered = coverage.public_coverage(uow, min_cell=min_cell)
    return HomeOut(
        participation=participation,
        named_participants=enrollment.publicly_named(uow),
        reports=report_summaries(uow)[:4],
        advisories=advisory_summaries(uow)[:5],
        known_models=covered.models,
        credits=sorted({s.credit or s.source for s in covered.sources}),
        feed_url="/feed.atom",
    )


def feed(uow: UnitOfWork, *, base_url: str) -> bytes:
    """An Atom feed of published advisories and reports."""
    from feedgen.feed import FeedGenerator

    base = base_url.rstrip("/")
    fg = FeedGenerator()
    fg.id(f"{base}/feed.atom")
    fg.title("Airlock: advisories and transparency reports")
    fg.link(href=f"{base}/feed.atom", rel="self")
    fg.link(href=f"{base}/", rel="alternate")
    fg.language("en")
    entries: list[tuple[Any, str, str, str]] = []
    for a in advisory_summaries(uow):
        entries.append(
            (a.updated_at, f"{base}{a.url}", f"Advisory {a.tracking_id}: {a.title}", "advisory")
        )
    for s in reports.published(uow):
        url = f"{base}{report_url(s.period)}?version={s.version}"
        title = f"Transparency report {s.period}" + (
            f", version {s.version}" if (s.version or 0) > 1 else ""
        )
        entries.append((s.published_at, url, title, "report"))
    if not entries:
        from airlock.core.db import utcnow

        fg.updated(utcnow())
    for when, url, title, kind in sorted(entries, key=lambda e: e[0]):
        entry = fg.add_entry()
        entry.id(url)
        entry.title(title)
        entry.link(href=url)
        entry.category(term=kind)
        entry.updated(when)
    return bytes(fg.atom_str(pretty=True))
