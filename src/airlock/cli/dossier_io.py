"""`airlock dossier import FILE...` and `airlock dossier export FILE --format ...`: fill a
dossier from a model card, config, CycloneDX or SPDX file, and give it back in the formats
regulators ask for. No server, no database."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

console = Console()
err = Console(stderr=True)

FORMAT_HELP = "cyclonedx, spdx, eu-mdf, eu-mdf-pdf, hf-card or sb53"


def _write_atomically(path: Path, data: bytes) -> None:
    """Write the whole file or nothing: a temporary file in the same folder, then a rename."""
    folder = path.resolve().parent
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _fail(exc: Exception, *, file: Path | None = None) -> typer.Exit:
    errors = getattr(exc, "errors", None) or [{"message": str(exc)}]
    where = f"{file.name}: " if file is not None else ""
    for raw in errors:
        err.print(f"[red]✗[/red] {escape(where + raw['message'])}", highlight=False)
    return typer.Exit(1)


def _shown(value: object) -> str:
    text = value if isinstance(value, str) else repr(value)
    return escape(text if len(text) <= 60 else text[:57] + "...")


def dossier_import(
    files: Annotated[
        list[Path],
        typer.Argument(help="Model folders or files: README.md, config.json, a BOM, an SPDX doc."),
    ],
    out: Annotated[Path, typer.Option(help="Where to write the dossier JSON.")] = Path(
        "dossier.json"
    ),
    disclosure: Annotated[
        str, typer.Option(help="Disclosure level of every imported field: public or reviewer.")
    ] = "reviewer",
    model_version: Annotated[
        str | None, typer.Option(help="The version being documented (to record weight hashes).")
    ] = None,
    force: Annotated[bool, typer.Option(help="Overwrite --out if it exists.")] = False,
) -> None:
    """Fill a dossier from the files a lab keeps; report what was filled and what is missing."""
    import json

    from airlock.core.errors import InvalidInput
    from airlock.dossiers.interop.importer import import_files

    if disclosure not in ("public", "reviewer", "restricted"):
        detail = f"must be public, reviewer or restricted (got {disclosure!r})"
        err.print(f"[red]✗[/red] --disclosure: {escape(detail)}")
        raise typer.Exit(2)
    if out.exists() and not force:
        err.print(f"[red]✗[/red] {out} exists; pass --force to overwrite it")
        raise typer.Exit(2)
    for path in files:
        if not path.exists():
            err.print(f"[red]✗[/red] {path}: no such file or folder")
            raise typer.Exit(2)
    try:
        result = import_files(files, disclosure=disclosure, model_version=model_version)  # type: ignore[arg-type]
    except InvalidInput as exc:
        raise _fail(exc) from None
    text = json.dumps(result.dossier, indent=2, ensure_ascii=False) + "\n"
    _write_atomically(out, text.encode("utf-8"))
    table = Table(title=f"Filled {len(result.filled)} field(s)", show_lines=False)
    table.add_column("field")
    table.add_column("value")
    table.add_column("from")
    values = {path: entry for path, entry in _fields(result.dossier)}
    for filled in result.filled:
        entry = values.get(filled.path, {})
        table.add_row(
            filled.path, _shown(entry.get("value")), escape(str(filled.source or "--model-version"))
        )
    console.print(table)
    if result.missing:
        missing = Table(title="Still required to submit")
        missing.add_column("field")
        missing.add_column("why")
        for problem in result.missing:
            missing.add_row(
                problem.path.removeprefix("sections."), problem.message.split(": ", 1)[-1]
            )
        console.print(missing)
    for note in result.notes:
        console.print(f"[yellow]note[/yellow] {escape(note)}", highlight=False)
    console.print(
        f"[green]✓[/green] wrote {out} (schema {result.dossier['schema_version']}); every "
        f"imported field is marked [bold]imported[/bold] and [bold]{disclosure}[/bold]: review "
        "them before submitting"
    )


def _fields(doc: dict[str, object]) -> list[tuple[str, dict[str, object]]]:
    from airlock.dossiers.interop.common import iter_fields

    return list(iter_fields(doc.get("sections")))


def dossier_export(
    file: Annotated[Path, typer.Argument(help="A dossier JSON file.", exists=True, dir_okay=False)],
    format: Annotated[str, typer.Option("--format", "-f", help=FORMAT_HELP)],
    audience: Annotated[
        str, typer.Option(help="public (public fields only) or agency (everything).")
    ] = "public",
    out: Annotated[Path | None, typer.Option(help="Write here instead of standard output.")] = None,
) -> None:
    """Export a dossier as CycloneDX, SPDX, the EU form, a model card or SB 53 items."""
    from airlock.core.errors import InvalidInput
    from airlock.dossiers import validation
    from airlock.dossiers.interop.exports import export

    try:
        doc = validation.parse_dossier(file.read_bytes())
    except InvalidInput as exc:
        raise _fail(exc, file=file) from None
    try:
        exported = export(doc, fmt=format, audience=audience)  # type: ignore[arg-type]
    except InvalidInput as exc:
        raise _fail(exc) from None
    if out is None:
        if format == "eu-mdf-pdf":
            err.print("[red]✗[/red] --out: a PDF needs a file to go to")
            raise typer.Exit(2)
        sys.stdout.buffer.write(exported.content)
        return
    _write_atomically(out, exported.content)
    err.print(f"[green]✓[/green] wrote {out} ({format}, {audience} audience)")


def register(dossier_app: typer.Typer) -> None:
    """Add `import` and `export` to the `airlock dossier` commands."""
    dossier_app.command("import")(dossier_import)
    dossier_app.command("export")(dossier_export)
