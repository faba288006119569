"""Check commands: `airlock checks list`, `airlock checks rescan --check NAME [--since DATE]`."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

checks_app = typer.Typer(help="Automated checks: list them, rescan.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)

BATCH = 200


@checks_app.command("list")
def checks_list() -> None:
    """Every registered check with its version, subject, trigger and state."""
    from airlock.bootstrap import build
    from airlock.scanning import registry, service

    container = build()
    try:
        table = Table("check", "version", "subject", "trigger", "state")
        with container.uow() as uow:
            for check in registry.all_checks():
                state = service.state_of(uow, name=check.name)
                table.add_row(check.name, check.version, check.subject, check.trigger, state)
        console.print(table)
    finally:
        container.close()


@checks_app.command("rescan")
def checks_rescan(
    check: Annotated[str, typer.Option("--check", help="The check's name.")],
    since: Annotated[
        datetime | None,
        typer.Option(help="Only subjects created at or after this time (UTC)."),
    ] = None,
    wait: Annotated[bool, typer.Option(help="Wait until every queued run has finished.")] = True,
) -> None:
    """Run the check's current version on every subject it has not seen yet."""
    from sqlalchemy import select

    from airlock.bootstrap import build
    from airlock.core.errors import AirlockError
    from airlock.core.jobs import Job, JobState
    from airlock.scanning import service

    container = build()
    try:
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        try:
            with container.uow() as uow:
                subjects = service.unseen_subjects(uow, name=check, since=since)
        except AirlockError as exc:
            err.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(1) from None
        if not subjects:
            console.print(f"{check}: every subject has been seen by the current version")
            return
        job_ids: list[str] = []
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, console=console) as progress:
            queued = progress.add_task(f"queueing {check}", total=len(subjects))
            for start in range(0, len(subjects), BATCH):
                batch = subjects[start : start + BATCH]
                with container.uow() as uow:
                    for subject_id in batch:
                        job_id = service.queue_run(uow, name=check, subject_id=subject_id)
                        if job_id is not None:
                            job_ids.append(job_id)
                    uow.commit()
                progress.advance(queued, len(batch))
            if not wait or not job_ids:
                console.print(f"queued {len(job_ids)} run(s) of {check}")
                return
            container.queue.start()  # in-process workers run them here; Celery ones elsewhere
            finished = progress.add_task(f"running {check}", total=len(job_ids))
            states: list[str] = []
            while True:
                with container.uow() as uow:
                    states = list(uow.session.scalars(select(Job.state).where(Job.id.in_(job_ids))))
                ended = [s for s in states if s in (JobState.DONE, JobState.FAILED)]
                progress.update(finished, completed=len(ended))
                if len(ended) == len(job_ids):
                    break
                time.sleep(0.2)
        failed = states.count(JobState.FAILED)
        console.print(f"{check}: {len(job_ids) - failed} run(s) recorded, {failed} failed")
        if failed:
            raise typer.Exit(1)
    finally:
        container.close()


def register(app: typer.Typer) -> None:
    """Add the check commands to the main app."""
    app.add_typer(checks_app, name="checks")
