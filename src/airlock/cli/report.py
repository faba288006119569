"""Transparency report commands: `airlock report build --period 2026Q3 --as EMAIL`,
`airlock report audit ID --as EMAIL`, `airlock report publish ID --as EMAIL [--change TEXT]`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

if TYPE_CHECKING:
    from airlock.core.access import Actor
    from airlock.core.uow import UnitOfWork

report_app = typer.Typer(help="Transparency reports: build, audit, publish.", no_args_is_help=True)
T = TypeVar("T")
AsUser = Annotated[str, typer.Option("--as", help="Email of the agency admin acting.")]


def _run(as_user: str, what: str, act: Callable[[UnitOfWork, Actor], T], *, commit: bool) -> T:
    from sqlalchemy import select

    from airlock.accounts import service as accounts
    from airlock.accounts.models import User
    from airlock.bootstrap import build
    from airlock.core.errors import AirlockError

    container = build()
    try:
        with container.uow() as uow:
            user_id = uow.session.scalars(select(User.id).where(User.email == as_user)).first()
            if user_id is None:
                typer.echo(f"--as: no user with the email {as_user!r}", err=True)
                raise typer.Exit(2)
            try:
                result = act(uow, accounts.actor_for(uow, user_id=user_id))
            except AirlockError as exc:
                # plain echo: figure keys like cell[2026-07][active] are not rich markup
                typer.echo(f"{what}: {exc}", err=True)
                raise typer.Exit(1) from None
            if commit:
                uow.commit()
            return result
    finally:
        container.close()


@report_app.command("build")
def build_command(
    period: Annotated[str, typer.Option("--period", help="A past quarter (2026Q3) or year.")],
    as_user: AsUser,
) -> None:
    """Build a draft snapshot of a period's report and print its id and what is withheld."""
    from airlock.publishing import reports

    def act(uow: UnitOfWork, actor: Actor) -> tuple[str, str, int, bool]:
        row = reports.build(uow, actor=actor, period=period)
        return row.id, row.period, int(row.content["withheld"]), bool(row.content["empty"])

    snapshot_id, label, withheld, empty = _run(as_user, f"period {period}", act, commit=True)
    typer.echo(f"built draft {snapshot_id} for {label}: {withheld} figures withheld")
    if empty:
        typer.echo("the report is empty: nothing it counts happened in the period")
    typer.echo(f"preview at /review/reports/{snapshot_id}")
    typer.echo(f"publish with: airlock report publish {snapshot_id}")


@report_app.command("audit")
def audit_command(
    snapshot_id: Annotated[str, typer.Argument(help="The snapshot's id.")], as_user: AsUser
) -> None:
    """Print each withheld figure's feasible range against everything published; exit 1 if
    any is narrower than its protection range."""
    from airlock.publishing import reports

    def act(uow: UnitOfWork, actor: Actor) -> reports.AuditResult:
        return reports.audit(uow, actor=actor, snapshot_id=snapshot_id)

    result = _run(as_user, f"snapshot {snapshot_id}", act, commit=False)
    for i in result.intervals:
        mark = "ok  " if i.protected else "FAIL"
        typer.echo(
            f"{mark} {i.key}: feasible {i.low:g} to {i.high:g}, "
            f"protection {i.needed_low:g} to {i.needed_high:g}"
        )
    if result.failing:
        typer.echo(f"audit fails: {reports.describe(result.failing[0])}")
        raise typer.Exit(1)
    typer.echo(f"audit passes: {len(result.intervals)} small figures protected")


@report_app.command("publish")
def publish_command(
    snapshot_id: Annotated[str, typer.Argument(help="The snapshot's id.")],
    as_user: AsUser,
    change: Annotated[str, typer.Option(help="What a correction changes.")] = "",
) -> None:
    """Publish a draft snapshot; refused, naming the figure, if the suppression audit fails."""
    from airlock.publishing import reports

    def act(uow: UnitOfWork, actor: Actor) -> tuple[str, int]:
        row = reports.publish(uow, actor=actor, snapshot_id=snapshot_id, change=change)
        return row.period, row.version or 0

    label, version = _run(as_user, f"snapshot {snapshot_id}", act, commit=True)
    typer.echo(f"published {label} version {version} at /reports/{label}")


def register(app: typer.Typer) -> None:
    """Add the `report` group to the `airlock` command line."""
    app.add_typer(report_app, name="report")
