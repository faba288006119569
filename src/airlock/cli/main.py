"""The `airlock` command line."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from airlock.cli import dossier_check, dossier_io
from airlock.composition import register_commands
from airlock.core.roles import Role, kind_for_role

if TYPE_CHECKING:
    from airlock.bootstrap import Container

app = typer.Typer(
    help="Airlock: voluntary AI model sharing and pre-release security review.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
user_app = typer.Typer(help="User accounts.", no_args_is_help=True)
dossier_app = typer.Typer(
    help="Dossiers: validate, import and export files, print the schema.", no_args_is_help=True
)
audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)
demo_app = typer.Typer(help="Demo data for trying Airlock out.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(dossier_app, name="dossier")
dossier_io.register(dossier_app)
dossier_check.register(app, dossier_app)
app.add_typer(audit_app, name="audit")
app.add_typer(demo_app, name="demo")

console = Console()
err = Console(stderr=True)


def _container() -> Container:
    from airlock.bootstrap import build

    return build()


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve the web app and API (with in-process workers when AIRLOCK_QUEUE_URL is inprocess://)."""
    import uvicorn

    from airlock import preflight
    from airlock.settings import SettingsError, get_settings
    from airlock.web.app import create_app

    try:
        preflight.check(get_settings())
        application = create_app(_container())
    except SettingsError as exc:
        err.print(f"[red]cannot start:[/red] {exc}")
        raise typer.Exit(2) from None
    uvicorn.run(application, host=host, port=port, log_level="info", proxy_headers=False)


@app.command()
def worker(
    concurrency: Annotated[int, typer.Option(help="Worker processes.")] = 1,
    hostname: Annotated[str, typer.Option(help="Celery node name.")] = "",
    tick: Annotated[
        bool, typer.Option(help="Also run the scheduler tick (not needed with `airlock beat`).")
    ] = True,
) -> None:
    """Run a Celery worker that executes Airlock's background jobs."""
    from airlock import preflight
    from airlock.core import jobs
    from airlock.settings import SettingsError, get_settings

    try:
        preflight.check(get_settings())
    except SettingsError as exc:
        err.print(f"[red]cannot start:[/red] {exc}")
        raise typer.Exit(2) from None
    container = _container()
    queue = container.queue
    if not hasattr(queue, "worker_main"):
        err.print("[red]AIRLOCK_QUEUE_URL is not a Celery broker (redis:// or amqp://)[/red]")
        raise typer.Exit(2)
    found = jobs.requeue_lost(container.uow, queue)
    if found:
        console.print(f"re-queued {found} job(s) lost by earlier processes")
    # Forked pool processes open their own connections: sharing the parent's breaks both.
    container.engine.dispose()
    queue.worker_main(
        concurrency=concurrency,
        hostname=hostname or None,
        on_child_start=lambda: container.engine.dispose(close=False),
        tick=container.tick if tick else None,
        tick_every=container.settings.scheduler_tick_seconds,
    )


@app.command()
def beat() -> None:
    """Run Celery beat: it sends the scheduler tick that starts periodic and delayed jobs.

    Any number may run: the schedule lives in job rows with unique due slots, so a beat that
    dies loses nothing and two beats never run a task twice.
    """
    container = _container()
    queue = container.queue
    if not hasattr(queue, "beat_main"):
        err.print("[red]AIRLOCK_QUEUE_URL is not a Celery broker (redis:// or amqp://)[/red]")
        raise typer.Exit(2)
    settings = container.settings
    container.engine.dispose()  # beat itself never touches the database
    # Beat's own schedule file only holds when it last sent the tick: nothing worth keeping.
    with tempfile.TemporaryDirectory(prefix="airlock-beat-") as folder:
        queue.beat_main(
            every=settings.scheduler_tick_seconds,
            schedule_file=str(Path(folder) / "beat.schedule"),
        )


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Create or migrate the database schema to the latest version."""
    from airlock.core.db import private_dir
    from airlock.core.migrate import upgrade
    from airlock.settings import get_settings

    settings = get_settings()
    private_dir(settings.data_dir)  # it holds the SQLite file, blobs and keys
    upgrade(settings.resolved_database_url(), revision)
    console.print("database is up to date")
    if revision == "head":
        _anchor_audit_chain()


def _anchor_audit_chain() -> None:
    """Sign a checkpoint of the audit head after an upgrade, so rows written before the chain
    was keyed are anchored outside the database at once (a no-op when nothing is new)."""
    from airlock.core import audit_checkpoints
    from airlock.core.audit_keys import AuditKeyMissing

    container = _container()
    try:
        with container.uow() as uow:
            made = audit_checkpoints.checkpoint(uow)
            uow.commit()
    except (audit_checkpoints.AuditTampered, AuditKeyMissing) as exc:
        err.print(f"[yellow]audit checkpoint not written:[/yellow] {exc}")
        return
    finally:
        container.close()
    if made is not None:
        console.print(f"audit chain anchored: checkpoint of row {made.seq} signed")


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Option(help="The user's email address.")],
    org: Annotated[str, typer.Option(help="Organisation name (created if missing).")],
    role: Annotated[Role, typer.Option(help="The user's role.")],
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True, help="Password.")
    ],
    name: Annotated[str, typer.Option(help="Display name.")] = "",
) -> None:
    """Create a user (and their organisation if it does not exist yet)."""
    from sqlalchemy import select

    from airlock.accounts import service
    from airlock.accounts.models import Organisation
    from airlock.core.errors import AirlockError
    from airlock.enrollment import service as enrollment

    container = _container()
    kind = kind_for_role(role)
    try:
        with container.uow() as uow:
            found = uow.session.scalars(select(Organisation).where(Organisation.name == org))
            organisation = found.first()
            if organisation is None:
                organisation = enrollment.create_organisation(uow, name=org, kind=kind)
            user = service.create_user(
                uow, org_id=organisation.id, email=email, password=password, role=role, name=name
            )
            uow.commit()
    except AirlockError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    console.print(f"created {user.email} as {role} in {org}")


@dossier_app.command("validate")
def dossier_validate(
    file: Annotated[Path, typer.Argument(help="A dossier JSON file.", exists=True, dir_okay=False)],
    submit: Annotated[
        bool, typer.Option(help="Also check it is complete enough to submit.")
    ] = False,
) -> None:
    """Check a dossier file against the schema; print every error with its field path."""
    from airlock.core.errors import InvalidInput
    from airlock.dossiers import rules, validation

    try:
        doc = validation.parse_dossier(file.read_bytes())
    except InvalidInput as exc:
        for raw in exc.errors or [{"message": str(exc)}]:
            err.print(f"[red]✗[/red] {raw['message']}")
        raise typer.Exit(1) from None
    problems = validation.validate_dossier(doc)
    if not problems and submit:
        problems = rules.check_complete(doc)
    for problem in problems:
        err.print(f"[red]✗[/red] {problem.message}  [dim]({problem.rule})[/dim]")
    if problems:
        err.print(f"{len(problems)} error(s)")
        raise typer.Exit(1)
    console.print(
        f"[green]✓[/green] {file} is a valid dossier (schema {validation.SCHEMA_VERSION})"
    )


@dossier_app.command("schema")
def dossier_schema() -> None:
    """Print the dossier JSON Schema (draft 2020-12)."""
    from airlock.dossiers import validation

    sys.stdout.write(json.dumps(validation.load_schema(), indent=2) + "\n")


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit chain against its key and the signed checkpoints; name the first row
    that was altered, removed or added (exit 1)."""
    from airlock.core import audit

    container = _container()
    with container.uow() as uow:
        report = audit.verify_chain(uow.session)
    if report.ok:
        console.print(
            f"[green]✓[/green] audit chain intact: {report.rows} rows verified against the "
            f"audit key and {report.checkpoints} signed checkpoint(s)",
            soft_wrap=True,
        )
        return
    where = f" (first bad row: {report.bad_seq})" if report.bad_seq is not None else ""
    # One unwrapped line, so that a script or a log search finds the row number whole.
    err.print(f"[red]✗ audit chain broken:[/red] {report.problem}{where}", soft_wrap=True)
    raise typer.Exit(1)


@audit_app.command("checkpoint")
def audit_checkpoint() -> None:
    """Sign a checkpoint of the chain's head now and store it outside the database."""
    from airlock.core import audit_checkpoints

    container = _container()
    with container.uow() as uow:
        try:
            made = audit_checkpoints.checkpoint(uow)
        except audit_checkpoints.AuditTampered as exc:
            err.print(f"[red]✗ no checkpoint written:[/red] {exc}", soft_wrap=True)
            raise typer.Exit(1) from None
        uow.commit()
    if made is None:
        console.print("nothing to sign: no rows were appended since the last checkpoint")
        return
    console.print(
        f"[green]✓[/green] checkpoint of row {made.seq} signed at {made.at} "
        f"(key {made.key_id}), stored as {audit_checkpoints.object_key(made.seq)}",
        soft_wrap=True,
    )


@demo_app.command("seed")
def demo_seed() -> None:
    """Create the demo program (agency, two firms, models, submissions) unless it exists."""
    from airlock.demo import seed

    container = _container()
    accounts = seed(container)
    if not accounts:
        console.print("demo data already present")
    from airlock.demo import DEMO_ACCOUNTS, DEMO_PASSWORD

    console.print("[bold]Demo accounts[/bold] (password for all: " + DEMO_PASSWORD + ")")
    for email, role in DEMO_ACCOUNTS:
        console.print(f"  {email:38} {role}")


register_commands(app)


def main() -> None:
    """Entry point."""
    app()
