"""Advisory commands: `airlock advisory export ID --format csaf|avid [--as EMAIL] [--out FILE]`."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

advisory_app = typer.Typer(help="Advisories: export them.", no_args_is_help=True)
err = Console(stderr=True)


class Format(StrEnum):
    """What an advisory is exported as."""

    CSAF = "csaf"
    AVID = "avid"


@advisory_app.command("export")
def export(
    advisory_id: Annotated[str, typer.Argument(help="The advisory's id.")],
    as_user: Annotated[
        str, typer.Option("--as", help="Email of the coordinator or agency admin exporting it.")
    ],
    format: Annotated[
        Format, typer.Option("--format", help="csaf (CSAF 2.0) or avid.")
    ] = Format.CSAF,
    out: Annotated[Path | None, typer.Option(help="Write to this file instead of stdout.")] = None,
) -> None:
    """Print (or write) an advisory as CSAF 2.0 or as an AVID report."""
    from sqlalchemy import select

    from airlock.accounts import service as accounts
    from airlock.accounts.models import User
    from airlock.bootstrap import build
    from airlock.core.errors import AirlockError
    from airlock.publishing import advisories_export

    container = build()
    try:
        with container.uow() as uow:
            user_id = uow.session.scalars(select(User.id).where(User.email == as_user)).first()
            if user_id is None:
                err.print(f"--as: no user with the email {as_user!r}")
                raise typer.Exit(2)
            try:
                actor = accounts.actor_for(uow, user_id=user_id)
                make = advisories_export.avid if format == Format.AVID else advisories_export.csaf
                doc = make(uow, actor=actor, advisory_id=advisory_id)
            except AirlockError as exc:
                err.print(f"advisory {advisory_id}: {exc}")
                raise typer.Exit(1) from None
        text = json.dumps(doc, indent=2, sort_keys=False) + "\n"
        if out is None:
            typer.echo(text, nl=False)
        else:
            out.write_text(text)
            err.print(f"wrote {format} of {advisory_id} to {out}")
    finally:
        container.close()


def register(app: typer.Typer) -> None:
    """Add the advisory commands to the main app."""
    app.add_typer(advisory_app, name="advisory")
