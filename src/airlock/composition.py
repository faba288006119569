"""The composition root: every stage's tables, job handlers, routers and commands, in one place.

Each module is imported by name in code, never looked up by string, so a renamed or missing
module fails at import instead of silently dropping its routes, handlers or tables.
`tests/unit/test_composition.py` checks that everything a stage defines is reachable from here.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING

from airlock.accounts import models as accounts_models
from airlock.core import audit, transitions
from airlock.core import jobs as core_jobs
from airlock.core.db import Base
from airlock.enrollment import models as enrollment_models
from airlock.scanning import jobs as scanning_jobs
from airlock.scanning import models as scanning_models
from airlock.submissions import jobs as submissions_jobs
from airlock.submissions import models as submissions_models
from airlock.vault import jobs as vault_jobs
from airlock.vault import models as vault_models

if TYPE_CHECKING:
    import typer
    from fastapi import APIRouter

TABLE_MODULES: tuple[ModuleType, ...] = (
    audit,
    core_jobs,
    transitions,
    accounts_models,
    enrollment_models,
    submissions_models,
    vault_models,
    scanning_models,
)
JOB_MODULES: tuple[ModuleType, ...] = (submissions_jobs, vault_jobs, scanning_jobs)

metadata = Base.metadata


def api_routers() -> list[APIRouter]:
    """The routers mounted under /api/v1 (imported here so workers need not load the web)."""
    from airlock.web.api.v1 import accounts, artifacts, enrollment, scanning, submissions, system

    return [
        system.router,
        accounts.router,
        enrollment.router,
        submissions.router,
        artifacts.router,
        scanning.router,
    ]


def page_routers() -> list[APIRouter]:
    """The routers of the server-rendered pages."""
    from airlock.web.pages import portal, public, review, session

    return [session.router, public.router, portal.router, review.router]


def register_commands(app: typer.Typer) -> None:
    """Add the stages' command groups to the `airlock` command line."""
    from airlock.cli import vault
    from airlock.scanning.engine.cli import scan_command

    app.command("scan")(scan_command)
    vault.register(app)
