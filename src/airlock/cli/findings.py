"""Findings commands: `airlock findings list [--submission ID] [--check NAME] [--rule ID]
[--severity S] [--state S] [--json]`."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

findings_app = typer.Typer(help="Findings: list them.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)


@findings_app.command("list")
def findings_list(
    submission: Annotated[str | None, typer.Option(help="Only this submission's.")] = None,
    check: Annotated[str | None, typer.Option(help="Only findings this check raised.")] = None,
    rule: Annotated[str | None, typer.Option(help="Only findings of this rule.")] = None,
    severity: Annotated[
        str | None, typer.Option(help="critical, high, medium, low or info.")
    ] = None,
    state: Annotated[list[str] | None, typer.Option(help="Only findings in this state.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=2000)] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document.")] = False,
) -> None:
    """Findings with their check, rule, severity and state (never their evidence)."""
    from airlock.bootstrap import build
    from airlock.core.errors import AirlockError
    from airlock.findings import rules, service
    from airlock.findings.rules import FindingState

    container = build()
    try:
        try:
            with container.uow() as uow:
                rows = service.list_for_operator(
                    uow,
                    submission_id=submission,
                    check=check,
                    rule=rule,
                    severity=severity,
                    states=state,
                    limit=limit,
                )
                out = [
                    {
                        "id": f.id,
                        "submission_id": f.submission_id,
                        "check": f.check_name,
                        "rule": f.rule_id,
                        "severity": service.severity_of(uow, finding=f),
                        "state": f.state,
                        "title": f.title,
                    }
                    for f in rows
                ]
        except AirlockError as exc:
            err.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(1) from None
        if as_json:
            typer.echo(json.dumps({"findings": out}, indent=1))
            return
        table = Table("id", "submission", "check", "rule", "severity", "state", "title")
        for r in out:
            label = rules.LABELS[FindingState(r["state"])]
            table.add_row(
                r["id"], r["submission_id"], r["check"], r["rule"], r["severity"], label, r["title"]
            )
        console.print(table)
        console.print(f"{len(out)} finding{'' if len(out) == 1 else 's'}")
    finally:
        container.close()


def register(app: typer.Typer) -> None:
    """Add `airlock findings` to the command line."""
    app.add_typer(findings_app, name="findings")
