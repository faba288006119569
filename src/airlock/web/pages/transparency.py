"""Public pages: the transparency reports, published advisories and the Atom feed.

Every page here is also JSON under /api/v1/public/ (web/api/v1/public.py) and works with
JavaScript off: the charts are SVG drawn on the server, each with a table of the same figures.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from airlock.core.errors import NotFound
from airlock.publishing import public_site, report_export, reports
from airlock.publishing.report_charts import charts
from airlock.web import labels
from airlock.web.deps import ContainerDep, UoWDep
from airlock.web.pages.render import page

router = APIRouter(include_in_schema=False)
_FILE = re.compile(r"^v([1-9]\d{0,4})\.(csv|pdf)$")
_PERIOD = re.compile(r"^\d{4}(Q[1-4])?$")


def _period(period: str) -> str:
    period = period.upper()
    if not _PERIOD.match(period):
        raise NotFound(f"no published report for {period[:12]!r}")
    return period


def report_context(content: dict[str, Any]) -> dict[str, Any]:
    """What the report body template needs besides the content: its charts as markup."""
    drawn = [(c, Markup(c.svg)) for c in charts(content, labels.label)]  # noqa: S704 - built escaped
    return {"charts": drawn}


@router.get("/reports")
def report_list(request: Request, uow: UoWDep) -> Response:
    """Every published transparency report."""
    with uow:
        items = public_site.report_summaries(uow)
    return page(request, "public/reports.html", items=items)


@router.get("/reports/{period}")
def report(request: Request, period: str, uow: UoWDep, version: int | None = None) -> Response:
    """A published transparency report with its charts and tables."""
    if version is not None and not 1 <= version <= 10_000:
        raise NotFound("no such version")
    with uow:
        snapshot = reports.public_get(uow, period=_period(period), version=version)
        data = public_site.report_out(uow, snapshot)
    content = {**data.model_dump(mode="json")}
    changes = [
        {**c.model_dump(), "words": report_export.figure_words(content, c.figure, labels.label)}
        for c in data.changes
    ]
    return page(
        request,
        "public/report.html",
        report=data,
        content=content,
        changes=changes,
        **report_context(content),
    )


@router.get("/reports/{period}/{file}")
def report_file(period: str, file: str, uow: UoWDep) -> Response:
    """A published report as CSV or PDF (v1.csv, v2.pdf...)."""
    m = _FILE.match(file)
    if m is None:
        raise NotFound("ask for v<version>.csv or v<version>.pdf")
    with uow:
        snapshot = reports.public_get(uow, period=_period(period), version=int(m.group(1)))
        content = dict(snapshot.content)
    name = f"airlock-transparency-{snapshot.period}-v{snapshot.version}"
    if m.group(2) == "csv":
        return Response(
            report_export.to_csv(content, labels.label),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    title = f"Transparency report {snapshot.period}, version {snapshot.version}"
    return Response(
        report_export.to_pdf(content, labels.label, title=title),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'},
    )


@router.get("/advisories")
def advisory_list(request: Request, uow: UoWDep) -> Response:
    """Every published advisory."""
    with uow:
        items = public_site.advisory_summaries(uow)
    return page(request, "public/advisories.html", items=items)


@router.get("/advisories/{tracking_id}")
def advisory(request: Request, tracking_id: str, uow: UoWDep) -> Response:
    """One published advisory, with links to its CSAF and AVID files."""
    with uow:
        data = public_site.advisory(uow, tracking_id=tracking_id[:60])
    return page(request, "public/advisory.html", advisory=data)


def _json_file(document: dict[str, object], name: str) -> Response:
    return Response(
        json.dumps(document, indent=2),
        media_type="application/json",
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )


@router.get("/advisories/{tracking_id}/csaf.json")
def advisory_csaf(tracking_id: str, uow: UoWDep) -> Response:
    """A published advisory as a CSAF 2.0 file."""
    with uow:
        doc = public_site.csaf(uow, tracking_id=tracking_id[:60])
    return _json_file(doc, f"{tracking_id[:60]}.csaf.json")


@router.get("/advisories/{tracking_id}/avid.json")
def advisory_avid(tracking_id: str, uow: UoWDep) -> Response:
    """A published advisory as an AVID report file."""
    with uow:
        doc = public_site.avid(uow, tracking_id=tracking_id[:60])
    return _json_file(doc, f"{tracking_id[:60]}.avid.json")


@router.get("/feed.atom")
def feed(uow: UoWDep, container: ContainerDep) -> Response:
    """An Atom feed of published advisories and transparency reports."""
    with uow:
        body = public_site.feed(uow, base_url=container.settings.base_url)
    return Response(body, media_type="application/atom+xml")
