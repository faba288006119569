"""Coverage commands: `airlock coverage import FILE`, `airlock coverage report`."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from airlock.coverage import known_models, rules

coverage_app = typer.Typer(
    help="Coverage: known models from public registries against what was shared.",
    no_args_is_help=True,
)
console = Console()
err = Console(stderr=True)

EPOCH_CREDIT = "Epoch AI, 'Data on Notable AI Models', CC BY 4.0"


def _table_of_counts(table: rules.CoverageTable) -> Table:
    out = Table(title="Known models by training compute: stated figure (sure - possible)")
    for column in ("threshold", "known", "shared", "not shared"):
        out.add_column(column, justify="right")
    for threshold in table.thresholds:
        cell = table.totals[threshold]
        out.add_row(
            f"≥ {rules.threshold_label(threshold)}",
            f"{cell.known_central} ({cell.known_low} - {cell.known_high})",
            f"{cell.shared_central} ({cell.shared_low} - {cell.shared_high})",
            f"{cell.not_shared_central} ({cell.not_shared_low} - {cell.not_shared_high})",
        )
    return out


@coverage_app.command("import")
def import_file(
    path: Annotated[Path, typer.Argument(help="A registry CSV (Epoch AI's or alike).")],
    source: Annotated[str, typer.Option(help="Name of the registry (a slug).")] = "epoch-notable",
    credit: Annotated[str, typer.Option(help="Credit line shown wherever the data is used.")] = (
        EPOCH_CREDIT
    ),
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Read and report; store nothing.")
    ] = False,
) -> None:
    """Read a registry of known models and add or refresh them (one transaction)."""
    if not path.is_file():
        err.print(f"[red]{path}: not a file[/red]")
        raise typer.Exit(2)
    limits = known_models.ImportLimits()
    if path.stat().st_size > limits.max_bytes:
        err.print(f"[red]{path}: larger than {limits.max_bytes} bytes[/red]")
        raise typer.Exit(2)
    data = path.read_bytes()
    try:
        parsed = known_models.read_registry_bytes(data, limits=limits)
    except known_models.RegistryFileInvalid as exc:
        err.print(f"[red]{path}: {exc}[/red]")
        raise typer.Exit(2) from None
    console.print(
        f"{path.name}: {parsed.rows_read} rows read ({parsed.encoding}), "
        f"{len(parsed.records)} models"
    )
    for canonical, header in parsed.columns.items():
        console.print(f"  {canonical:16} <- {header!r}", highlight=False)
    if parsed.missing_columns:
        console.print(f"[yellow]columns not found:[/yellow] {', '.join(parsed.missing_columns)}")
    if parsed.unknown_columns:
        console.print(f"columns not used: {', '.join(parsed.unknown_columns)}", highlight=False)
    for problem in parsed.problems[:20]:
        console.print(
            f"[yellow]row {problem.line}, {problem.column}:[/yellow] {problem.message}",
            highlight=False,
        )
    if len(parsed.problems) > 20:
        console.print(f"[yellow]... and {len(parsed.problems) - 20} more problems[/yellow]")
    facts = [
        rules.KnownModelFacts(
            key=r.source_key,
            published_on=r.published_on,
            flops=rules.flop_range(r.training_flop, r.confidence),
            shared=False,
        )
        for r in parsed.records
    ]
    console.print(_table_of_counts(rules.coverage_table(facts)))
    if dry_run:
        console.print("dry run: nothing stored")
        return
    from airlock.bootstrap import build
    from airlock.core.errors import AirlockError
    from airlock.coverage import service

    container = build()
    try:
        with container.uow() as uow:
            run = service.import_registry(
                uow,
                actor=None,
                parsed=parsed,
                source=source,
                file_name=path.name,
                sha256=hashlib.sha256(data).hexdigest(),
                credit=credit,
            )
            uow.commit()
    except AirlockError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    finally:
        container.close()
    console.print(f"[green]✓[/green] {run.added} models added, {run.updated} updated ({source})")


@coverage_app.command("report")
def report() -> None:
    """Print coverage by threshold from the stored registry and links."""
    from airlock.bootstrap import build
    from airlock.coverage import service

    container = build()
    try:
        with container.uow() as uow:
            table = service.coverage_table(uow)
            sources = service.latest_imports(uow)
    finally:
        container.close()
    if table.models == 0:
        console.print("no known models yet: run `airlock coverage import FILE`")
        return
    console.print(_table_of_counts(table))
    console.print(f"{table.no_figure} models have no compute figure")
    for run in sources.imports:
        console.print(f"source: {run.source} ({run.file_name}), {run.credit}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the coverage commands to the main command line."""
    app.add_typer(coverage_app, name="coverage")
