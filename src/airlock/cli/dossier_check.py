"""`airlock dossier check DIR` and `airlock attest verify`: dossier checks with no server.

Runs compute, declared-vs-actual, integrity, coverage and data-sample checks on a local model
folder and its dossier, prints a readable report or writes JSON / SARIF 2.1.0, and can sign
the outcome as an in-toto statement that `airlock attest verify` checks.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from airlock.scanning.dossier import attestation, runner
from airlock.scanning.dossier.coverage import DEPLOYMENTS
from airlock.scanning.dossier.datasamples import SampleLimits
from airlock.scanning.dossier.integrity import TrustConfig, manifest
from airlock.scanning.dossier.results import CheckReport, Severity

MAX_DOSSIER_BYTES = 1_048_576
attest_app = typer.Typer(help="Signed in-toto statements of review outcomes.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)
_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan", "info": "dim"}


def _load_dossier(path: Path) -> tuple[dict[str, Any], list[str]]:
    """The dossier as a dict (bounded), with its schema problems as warnings."""
    from airlock.dossiers import validation

    size = path.stat().st_size
    if size > MAX_DOSSIER_BYTES:
        raise typer.BadParameter(
            f"{path} is {size:,} bytes, over the limit of {MAX_DOSSIER_BYTES:,}",
            param_hint="--dossier",
        )
    try:
        doc = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise typer.BadParameter(f"{path} is not JSON: {exc}", param_hint="--dossier") from None
    if not isinstance(doc, dict):
        raise typer.BadParameter(f"{path} is not a JSON object", param_hint="--dossier")
    return doc, [e.message for e in validation.validate_dossier(doc)]


def _fmt(x: Any) -> str:
    return f"{x:.3g}" if isinstance(x, float) else f"{x:,}" if isinstance(x, int) else str(x)


def _render(reports: Sequence[CheckReport], warnings: Sequence[str], folder: Path) -> None:
    by = {r.check: r for r in reports}
    console.rule(f"[bold]Dossier check[/bold] {folder}")
    for w in warnings[:20]:
        console.print(f"[yellow]dossier schema:[/yellow] {w}")
    comp = by["compute"].summary
    rng = comp.get("range")
    if rng:
        console.print(
            f"[bold]Training compute[/bold] {_fmt(rng['central'])} FLOP "
            f"(range {_fmt(rng['low'])} to {_fmt(rng['high'])}); declared "
            f"{_fmt(comp.get('declared', 'nothing'))}"
        )
        for t in comp["thresholds"]:
            console.print(f"  {t['threshold']:.0e} FLOP: {t['status']:9} {t['meaning']}")
    else:
        console.print("[bold]Training compute[/bold] not estimable from the dossier")
    dec = by["declared"].summary
    impl = dec.get("implied") or {}
    console.print(
        f"[bold]Parameters[/bold] {_fmt(dec['parameters']['actual'] or 'no weights read')} "
        f"from {dec['parameters']['source'] or '-'}; config.json implies "
        f"{_fmt(impl.get('total', '-'))} ({impl.get('family', 'unknown family')})"
    )
    integ = by["integrity"].summary
    sigs = ", ".join(f"{s['path']}: {s['status']}" for s in integ["signatures"]) or "none"
    console.print(f"[bold]Integrity[/bold] {len(integ['files'])} file(s) hashed; signatures {sigs}")
    cov = by["coverage"].summary
    table = Table(
        title=f"ATLAS {cov['atlas_version']} coverage ({', '.join(cov['deployment'])})",
        title_justify="left",
    )
    for col in ("tactic", "covered", "uncovered techniques"):
        table.add_column(col)
    for g in cov["by_tactic"]:
        table.add_row(g["name"], str(g["covered"]), ", ".join(g["uncovered"]) or "-")
    console.print(table)
    data = by["datasamples"].summary["samples"]
    if data:
        dt = Table(title="Training-data samples", title_justify="left")
        for col in ("sample", "rows", "personal data", "secrets"):
            dt.add_column(col)
        for s in data:
            dt.add_row(
                s["path"],
                str(s["rows"]),
                ", ".join(f"{k} {n}" for k, n in s["counts"]["personal_data"].items()) or "-",
                ", ".join(f"{k} {n}" for k, n in s["counts"]["secret"].items()) or "-",
            )
        console.print(dt)
    results = runner.all_results(reports)
    uncovered = [r for r in results if r.rule_id == "DOS-COV-001"]
    # Uncovered techniques are already in the coverage table; one line stands for them here.
    results = [r for r in results if r.rule_id != "DOS-COV-001"]
    title = f"{len(results) + len(uncovered)} result(s)"
    if uncovered:
        title += f", of which {len(uncovered)} uncovered ATLAS techniques (table above)"
    rt = Table(title=title, title_justify="left", show_lines=False)
    for col in ("severity", "rule", "location", "message"):
        rt.add_column(col, overflow="fold")
    for r in results:
        style = _STYLE.get(r.severity.value, "")
        rt.add_row(f"[{style}]{r.severity.value}[/{style}]", r.rule_id, r.location, r.message)
    console.print(rt)


def check_command(
    folder: Annotated[Path, typer.Argument(help="Model folder.", exists=True, file_okay=False)],
    dossier: Annotated[
        Path | None, typer.Option("--dossier", help="Dossier JSON.", exists=True, dir_okay=False)
    ] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="text, json or sarif.")] = "text",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here.")] = None,
    public_key: Annotated[
        list[Path] | None,
        typer.Option("--public-key", help="Trusted signer public key (PEM), repeatable."),
    ] = None,
    cert_chain: Annotated[
        list[Path] | None,
        typer.Option("--cert-chain", help="Trusted certificate chain (PEM), repeatable."),
    ] = None,
    deployment: Annotated[
        str | None, typer.Option(help="Override: comma-separated open_weights, api, agentic.")
    ] = None,
    data: Annotated[
        list[Path] | None, typer.Option("--data", help="Data sample to scan, repeatable.")
    ] = None,
    tolerance: Annotated[float, typer.Option(help="Parameter count tolerance.")] = 0.05,
    attest_key: Annotated[
        Path | None, typer.Option(help="Ed25519 private key (PEM) to sign the outcome.")
    ] = None,
    attest_out: Annotated[
        Path | None, typer.Option(help="Where to write the signed statement.")
    ] = None,
    fail_on: Annotated[
        str | None, typer.Option(help="Exit 1 at or above this severity (e.g. high).")
    ] = None,
) -> None:
    """Check a model folder against its dossier: compute, parameters, signatures, coverage, data."""
    if format not in ("text", "json", "sarif"):
        raise typer.BadParameter(
            f"must be text, json or sarif (got {format!r})", param_hint="--format"
        )
    deploy = None
    if deployment is not None:
        deploy = {d.strip() for d in deployment.split(",") if d.strip()}
        if not deploy or not deploy <= set(DEPLOYMENTS):
            raise typer.BadParameter(
                f"must be among {', '.join(DEPLOYMENTS)} (got {deployment!r})",
                param_hint="--deployment",
            )
    levels = [s.value for s in runner.SEVERITY_ORDER]
    if fail_on is not None and fail_on not in levels:
        raise typer.BadParameter(f"must be one of {', '.join(levels)}", param_hint="--fail-on")
    if (attest_key is None) != (attest_out is None):
        raise typer.BadParameter(
            "give both --attest-key and --attest-out", param_hint="--attest-key"
        )
    if not 0 <= tolerance < 1:
        raise typer.BadParameter("a fraction between 0 and 1", param_hint="--tolerance")
    doc: dict[str, Any] | None = None
    warnings: list[str] = []
    skip: list[str] = []
    if dossier is not None:
        doc, warnings = _load_dossier(dossier)
        if dossier.resolve().is_relative_to(folder.resolve()):
            skip.append(dossier.resolve().relative_to(folder.resolve()).as_posix())
    options = runner.Options(
        trust=TrustConfig(tuple(public_key or ()), tuple(cert_chain or ())),
        tolerance=tolerance,
        deployment=deploy,
        samples=data,
        sample_limits=SampleLimits(),
        skip=tuple(skip),
    )
    reports, seconds = runner.timed(folder, doc, options)
    if format == "text" and output is None:
        _render(reports, warnings, folder)
    else:
        body = (
            runner.to_sarif(reports)
            if format == "sarif"
            else runner.to_json(reports, folder=str(folder), seconds=seconds)
        )
        if format == "json" and warnings:
            body["dossier_schema_warnings"] = warnings[:100]
        text = json.dumps(body, indent=2)
        if output is None:
            sys.stdout.write(text + "\n")
        else:
            output.write_text(text + "\n", encoding="utf-8")
            err.print(f"wrote {output}")
    if attest_key is not None and attest_out is not None:
        _attest(folder, reports, attest_key, attest_out, skip)
    if fail_on is not None:
        limit = levels.index(fail_on)
        if any(levels.index(r.severity.value) <= limit for rep in reports for r in rep.results):
            raise typer.Exit(1)


def _attest(
    folder: Path, reports: list[CheckReport], key_path: Path, out: Path, skip: list[str]
) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (ValueError, TypeError, OSError) as exc:
        raise typer.BadParameter(f"{key_path}: {exc}", param_hint="--attest-key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise typer.BadParameter(f"{key_path} is not an Ed25519 key", param_hint="--attest-key")
    worst = min(
        (runner.SEVERITY_ORDER.index(r.severity) for rep in reports for r in rep.results),
        default=len(runner.SEVERITY_ORDER),
    )
    outcome = "findings" if worst <= runner.SEVERITY_ORDER.index(Severity.MEDIUM) else "no_findings"
    entries, _ = manifest(folder, skip=skip)
    statement = attestation.build_statement(entries, reports, outcome=outcome)
    out.write_text(json.dumps(attestation.sign_statement(statement, key), indent=2) + "\n")
    err.print(f"signed statement written to {out}")


@attest_app.command("verify")
def attest_verify(
    statement: Annotated[Path, typer.Argument(help="DSSE envelope (JSON).", exists=True)],
    public_key: Annotated[
        list[Path], typer.Option("--public-key", help="Trusted Ed25519 public key (PEM).")
    ],
    artifacts: Annotated[
        Path | None, typer.Option(help="Folder whose files must match the subjects.")
    ] = None,
) -> None:
    """Check a signed review statement, and optionally that a folder still matches it."""
    try:
        keys = [attestation.load_public_key(p.read_bytes()) for p in public_key]
        got = attestation.verify_envelope(statement.read_bytes(), keys)
    except attestation.AttestationError as exc:
        err.print(f"[red]✗[/red] {statement}: {exc}")
        raise typer.Exit(1) from None
    pred = got.get("predicate") or {}
    console.print(
        f"[green]✓[/green] signed by a trusted key: outcome {pred.get('outcome')!r}, "
        f"{len(got.get('subject', []))} subject(s), reviewed {pred.get('reviewedAt')}"
    )
    if artifacts is not None:
        problems = attestation.verify_subjects(got, artifacts)
        for p in problems:
            err.print(f"[red]✗[/red] {p}")
        if problems:
            raise typer.Exit(1)
        console.print(f"[green]✓[/green] every subject matches {artifacts}")


def register(app: typer.Typer, dossier_app: typer.Typer) -> None:
    """Mount `dossier check` and `attest verify` on the main CLI."""
    dossier_app.command("check")(check_command)
    app.add_typer(attest_app, name="attest")
