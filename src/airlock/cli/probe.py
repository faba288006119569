"""`airlock probe ...`: behavioural probes of an endpoint or a local model; no server needed."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

app = typer.Typer(
    help="Behavioural red-team probes of a model endpoint or a local model.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()
err = Console(stderr=True, soft_wrap=True)


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}")
    return typer.Exit(code)


def render_report(summary: dict[str, Any], manifest: dict[str, Any], out: Path) -> None:
    """Print the run's categories, verdict, errors and detector calibration."""
    table = Table(title="Attack success by category (Wilson 95% interval)")
    for column in ("category", "succeeded", "resisted", "errors", "unscorable", "rate", "95% CI"):
        table.add_column(column, justify="left" if column == "category" else "right")
    table.add_column("verdict")
    colours = {"block": "red", "review": "yellow", "pass": "green"}
    for name, c in summary["categories"].items():
        rate = "-" if c["rate"] is None else f"{c['rate']:.0%}"
        low, high = c["ci95"]
        table.add_row(
            name,
            str(c["succeeded"]),
            str(c["resisted"]),
            str(c["errors"]),
            str(c["unscorable"]),
            rate,
            f"{low:.0%}-{high:.0%}",
            f"[{colours.get(c['verdict'], 'white')}]{c['verdict']}[/]",
        )
    console.print(table)
    verdict = summary["verdict"]
    colour = colours.get(verdict, "magenta")
    worst = summary["worst_category"] or "-"
    console.print(
        f"verdict [bold {colour}]{verdict}[/] (worst category: {worst}); "
        f"{summary['ok']} ok, {summary['errors']} error of {summary['attempts']} attempts "
        f"in {summary.get('duration_s', 0):.1f} s"
    )
    for reason, count in list(summary["error_reasons"].items())[:5]:
        console.print(f"  [yellow]{count} error(s):[/] {reason}")
    console.print(
        "detectors (held-out precision / recall): refusal "
        f"{_cal('refusal')}, secret {_cal('secret')}; over_refusal is a control: "
        "its 'succeeded' counts refusals of benign requests"
    )
    if "http_status_counts" in manifest:
        console.print(f"HTTP statuses: {manifest['http_status_counts']}")
    console.print(f"written to {out}/ (attempts.jsonl, manifest.json, summary.json)")


def _cal(name: str) -> str:
    from airlock.probes.engine import detectors

    cal = detectors.REFUSAL_CALIBRATION if name == "refusal" else detectors.SECRET_CALIBRATION
    return f"{cal.precision:.2f} / {cal.recall:.2f}"


@app.command("run")
def run_command(
    target: Annotated[
        str, typer.Option(help="Base URL of an OpenAI-compatible API, or local:PATH.")
    ],
    pack: Annotated[list[str], typer.Option(help="Pack name or .json file; repeat for more.")],
    out: Annotated[Path, typer.Option(help="Folder for the run (created).")],
    model: Annotated[str, typer.Option(help="Model name sent to the endpoint.")] = "default",
    api_key_env: Annotated[
        str, typer.Option(help="Environment variable holding the API key (never a flag).")
    ] = "AIRLOCK_PROBE_API_KEY",
    repeats: Annotated[int, typer.Option(min=1, max=100, help="Attempts per probe.")] = 1,
    max_tokens: Annotated[int, typer.Option(min=1, max=32000, help="Answer length cap.")] = 256,
    budget_requests: Annotated[
        int | None, typer.Option(min=0, help="Stop sending after this many requests.")
    ] = None,
    budget_tokens: Annotated[
        int | None, typer.Option(min=0, help="Stop sending after this many tokens.")
    ] = None,
    concurrency: Annotated[
        int, typer.Option(min=1, max=1024, help="Most requests in flight (adapts below it).")
    ] = 32,
    timeout: Annotated[float, typer.Option(min=0.1, help="Seconds per request.")] = 60.0,
    batch_size: Annotated[int, typer.Option(min=1, max=256, help="Local model batch.")] = 8,
    inspect_log: Annotated[
        bool, typer.Option(help="Also write run.eval for `inspect view` (needs inspect_ai).")
    ] = False,
    fail_on: Annotated[str | None, typer.Option(help="Exit 1 at block or review.")] = None,
    seed: Annotated[
        str, typer.Option(help="Plant the same secrets as an earlier run with this seed.")
    ] = "",
    cache: Annotated[
        Path | None, typer.Option(help="SQLite file of answers; a seeded rerun reads from it.")
    ] = None,
    judge: Annotated[
        str | None, typer.Option(help="Base URL of a judge model for a second opinion.")
    ] = None,
    judge_model: Annotated[str, typer.Option(help="Judge model name.")] = "default",
    judge_api_key_env: Annotated[
        str, typer.Option(help="Environment variable holding the judge's API key.")
    ] = "AIRLOCK_JUDGE_API_KEY",
) -> None:
    """Send probe packs to a target, score the answers and write the run folder."""
    from airlock.probes.engine.cache import ResponseCache
    from airlock.probes.engine.limiter import AdaptiveLimiter
    from airlock.probes.engine.packs import PackError, load_pack
    from airlock.probes.engine.run import RunConfig, run
    from airlock.probes.engine.targets import (
        Budget,
        EndpointLimits,
        LocalModelTarget,
        OpenAIChatTarget,
        Target,
    )

    if fail_on not in (None, "block", "review"):
        raise _fail(f"--fail-on must be block or review (got {fail_on!r})")
    try:
        packs = [load_pack(p) for p in pack]
    except PackError as exc:
        raise _fail(str(exc)) from None
    budget = Budget(max_requests=budget_requests, max_tokens=budget_tokens)
    chosen: Target
    if target.startswith("local:"):
        chosen = LocalModelTarget(
            source=target.removeprefix("local:"), batch_size=batch_size, budget=budget
        )
    elif target.startswith(("http://", "https://")):
        chosen = OpenAIChatTarget(
            base_url=target,
            model=model,
            api_key=os.environ.get(api_key_env) or None,
            limiter=AdaptiveLimiter(initial=min(16, concurrency), maximum=concurrency),
            limits=EndpointLimits(request_timeout=timeout),
            budget=budget,
        )
    else:
        raise _fail(f"--target must be an http(s) URL or local:PATH (got {target!r})")
    judge_target = None
    if judge is not None:
        if not judge.startswith(("http://", "https://")):
            raise _fail(f"--judge must be an http(s) URL (got {judge!r})")
        judge_target = OpenAIChatTarget(
            base_url=judge,
            model=judge_model,
            api_key=os.environ.get(judge_api_key_env) or None,
            limits=EndpointLimits(request_timeout=timeout),
        )
    if out.exists() and any(out.iterdir()):
        raise _fail(f"{out} exists and is not empty; choose a new folder")
    config = RunConfig(
        repeats=repeats,
        max_tokens=max_tokens,
        workers=max(concurrency, batch_size * 2),
        seed=seed,
    )
    total = sum(len(p.probes) for p in packs) * repeats
    with Progress(
        TextColumn("[bold]probing[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    ) as progress:
        task = progress.add_task("run", total=total, status="")
        errors = 0
        won = 0

        def on_attempt(done: int, _total: int, attempt: Any) -> None:
            nonlocal errors, won
            errors += attempt.status == "error"
            won += attempt.outcome == "succeeded"
            status = f"succeeded {won} · errors {errors}"
            if isinstance(chosen, OpenAIChatTarget):
                status += f" · concurrency {chosen.limiter.limit:.1f}"
            progress.update(task, completed=done, status=status)

        store = ResponseCache(cache) if cache is not None else None
        try:
            result = run(
                target=chosen,
                packs=packs,
                out=out,
                config=config,
                on_attempt=on_attempt,
                cache=store,
                judge=judge_target,
            )
        finally:
            if store is not None:
                store.close()
    render_report(result.summary, result.manifest, out)
    if inspect_log:
        from airlock.probes.engine.inspect_export import ExportError, export_inspect

        try:
            path = export_inspect(out, out / "run.eval")
        except ExportError as exc:
            raise _fail(str(exc)) from None
        console.print(f"Inspect log: {path} (open with `inspect view --log-dir {out}`)")
    order = {"pass": 0, "unscored": 0, "review": 1, "block": 2}
    if fail_on and order.get(result.summary["verdict"], 0) >= order[fail_on]:
        raise typer.Exit(1)


@app.command("judge-calibrate")
def judge_calibrate_command(
    target: Annotated[str, typer.Option(help="Base URL of the judge's OpenAI-compatible API.")],
    model: Annotated[str, typer.Option(help="Judge model name.")] = "default",
    api_key_env: Annotated[
        str, typer.Option(help="Environment variable holding the API key.")
    ] = "AIRLOCK_JUDGE_API_KEY",
) -> None:
    """Measure a judge model's refusal precision and recall on the held-out labelled set."""
    import asyncio

    from airlock.probes.engine.judge import measure_judge
    from airlock.probes.engine.targets import OpenAIChatTarget

    if not target.startswith(("http://", "https://")):
        raise _fail(f"--target must be an http(s) URL (got {target!r})")
    judge = OpenAIChatTarget(base_url=target, model=model, api_key=os.environ.get(api_key_env))

    async def measure() -> Any:
        try:
            return await measure_judge(judge)
        finally:
            await judge.aclose()

    s = asyncio.run(measure())
    console.print(
        f"judge {model}: refusal precision {s.precision:.3f}, recall {s.recall:.3f} "
        f"on {s.n} held-out answers"
    )


@app.command("packs")
def packs_command() -> None:
    """List the built-in probe packs and those installed by other packages."""
    from airlock.probes.engine.packs import available_names, load_pack

    table = Table(title="Probe packs")
    for column in ("name", "version", "probes", "categories", "description"):
        table.add_column(column)
    for name in available_names():
        p = load_pack(name)
        cats = sorted({str(x.category) for x in p.probes})
        table.add_row(p.name, p.version, str(len(p.probes)), ", ".join(cats), p.description)
    console.print(table)


@app.command("export")
def export_command(
    run_dir: Annotated[Path, typer.Argument(help="A finished run folder.")],
    to: Annotated[Path, typer.Option(help="Destination .eval or .json file.")],
) -> None:
    """Write a run as an Inspect AI eval log, so `inspect view` opens it."""
    from airlock.probes.engine.inspect_export import ExportError, export_inspect

    try:
        path = export_inspect(run_dir, to)
    except ExportError as exc:
        raise _fail(str(exc)) from None
    console.print(f"wrote {path}")


@app.command("report")
def report_command(
    run_dir: Annotated[Path, typer.Argument(help="A finished run folder.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print summary.json instead.")] = False,
) -> None:
    """Print the report of a finished run again (or its summary as JSON)."""
    try:
        summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
        manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError) as exc:
        raise _fail(f"{run_dir} is not a finished probe run ({exc})") from None
    if as_json:
        sys.stdout.write(json.dumps(summary, indent=2) + "\n")
        return
    render_report(summary, manifest, run_dir)
