"""`airlock scan PATH...`: scan model files locally, with no server and no database."""

from __future__ import annotations

from pathlib import Path

import typer

from .cli_core import UsageError, run_scan

app = typer.Typer(add_completion=False, help="Find code that runs when a model file is loaded.")


@app.command("scan")
def scan_command(
    paths: list[Path] = typer.Argument(..., help="Files or folders (scanned recursively)."),
    format: str = typer.Option("text", "--format", "-f", help="text, json or sarif."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write JSON/SARIF here."),
    fail_on: str | None = typer.Option(
        None, "--fail-on", help="Exit 1 at block (default), review, or never."
    ),
    jobs: int = typer.Option(1, "--jobs", "-j", help="Scan files in parallel processes."),
) -> None:
    """Scan model files for code that runs on load; never loads or executes them."""
    try:
        status = run_scan(paths, format, output, fail_on, jobs)
    except UsageError as exc:
        raise typer.BadParameter(str(exc), param_hint=exc.hint) from exc
    if status:
        raise typer.Exit(status)


def main() -> None:
    """Entry point for `python -m airlock.scanning.engine`."""
    app(prog_name="airlock scan")
