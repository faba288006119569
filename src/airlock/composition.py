"""The composition root: every stage's tables, job handlers, routers and commands, in one place.

Each module is imported by name in code, never looked up by string, so a renamed or missing
module fails at import instead of silently dropping its routes, handlers or tables. The imports
sit inside functions so that a process loads only what it uses (`airlock scan` needs no
database). `tests/unit/core/test_composition.py` checks that everything a stage defines is
reachable from here.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import typer
    from fastapi import APIRouter
    from sqlalchemy import MetaData


def table_modules() -> list[ModuleType]:
    """The modules that define the platform's and every stage's tables, in flow order."""
    from airlock.accounts import models as accounts
    from airlock.cases import models as cases
    from airlock.core import audit, idempotency, jobs, transitions
    from airlock.coverage import models as coverage
    from airlock.enrollment import models as enrollment
    from airlock.findings import models as findings
    from airlock.probes import models as probes
    from airlock.publishing import advisories_models as advisories
    from airlock.publishing import report_models as reports
    from airlock.scanning import models as scanning
    from airlock.submissions import drafts
    from airlock.submissions import models as submissions
    from airlock.vault import models as vault

    return [
        audit,
        jobs,
        transitions,
        idempotency,
        accounts,
        enrollment,
        submissions,
        drafts,
        vault,
        scanning,
        findings,
        probes,
        cases,
        coverage,
        advisories,
        reports,
    ]


def job_modules() -> list[ModuleType]:
    """The modules that register job handlers and their event subscriptions, in flow order."""
    from airlock import checks_catalogue
    from airlock.cases import jobs as cases
    from airlock.core import audit_checkpoints
    from airlock.findings import jobs as findings
    from airlock.scanning import jobs as scanning
    from airlock.submissions import jobs as submissions
    from airlock.vault import jobs as vault

    return [audit_checkpoints, submissions, vault, scanning, checks_catalogue, findings, cases]


def load() -> MetaData:
    """Import every stage's tables and job handlers; the metadata of the whole schema."""
    from airlock.core.db import Base

    table_modules()
    job_modules()
    return Base.metadata


def api_routers() -> list[APIRouter]:
    """The routers mounted under /api/v1."""
    from airlock.web.api.v1 import (
        accounts,
        advisories,
        artifacts,
        cases,
        coverage,
        enrollment,
        findings,
        probes,
        public,
        reports,
        scanning,
        submissions,
        system,
    )

    return [
        system.router,
        accounts.router,
        enrollment.router,
        submissions.router,
        artifacts.router,
        scanning.router,
        findings.router,
        cases.router,
        coverage.router,
        advisories.router,
        probes.router,
        reports.router,
        public.router,
    ]


def page_routers() -> list[APIRouter]:
    """The routers of the server-rendered pages."""
    from airlock.web.pages import (
        audit,
        cases,
        coverage,
        dossier_editor,
        findings,
        mfa,
        people,
        portal,
        portal_submission,
        probes,
        public,
        reports,
        review,
        review_submission,
        safeguards,
        session,
        sso,
        transparency,
    )

    return [
        session.router,
        mfa.router,
        sso.router,
        people.router,
        audit.router,
        public.router,
        portal.router,
        dossier_editor.router,
        portal_submission.router,
        review.router,
        review_submission.router,
        findings.router,
        cases.router,
        coverage.router,
        safeguards.router,
        probes.router,
        transparency.router,
        reports.router,
    ]


def register_commands(app: typer.Typer) -> None:
    """Add the stages' command groups to the `airlock` command line."""
    from airlock.cli import advisory, checks, coverage, findings, probe, report, vault
    from airlock.scanning.engine.cli import scan_command

    app.command("scan")(scan_command)
    vault.register(app)
    checks.register(app)
    findings.register(app)
    coverage.register(app)
    advisory.register(app)
    report.register(app)
    app.add_typer(probe.app, name="probe")
