"""The scan command without its Typer wrapper: collect files, scan, render, exit status."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

from . import ENGINE_NAME, ENGINE_VERSION
from .model import FileReport, Verdict
from .report import to_json, to_sarif
from .scan import scan_path

_FORMATS: Final = ("text", "json", "sarif")
_FAIL_ON: Final = {"block": Verdict.BLOCK, "review": Verdict.REVIEW, "never": None}
# Exit statuses, as picklescan users expect: 1 when a file reaches --fail-on (block by
# default), 2 when the scanner failed on a file (and for usage errors), 0 otherwise.
EXIT_FAIL: Final = 1
EXIT_ERROR: Final = 2
_ERROR_RULE: Final = "AIR-ERR-001"
_PROGRESS_FILES: Final = 50
_PROGRESS_BYTES: Final = 1 << 30
_ENGINE: Final = (ENGINE_NAME, ENGINE_VERSION)


def collect(paths: list[Path]) -> Iterator[Path]:
    """Expand folders recursively (sorted, symlinked folders not followed); keep files."""
    for p in paths:
        if p.is_dir():
            for root, dirs, files in os.walk(p):
                dirs.sort()
                for name in sorted(files):
                    f = os.path.join(root, name)
                    if os.path.isfile(f):
                        yield Path(f)
        else:
            yield p


def _scan_many(files: list[Path], jobs: int, show_progress: bool) -> list[FileReport]:
    if jobs <= 1 or len(files) <= 1:
        it: Iterator[FileReport] = (scan_path(f) for f in files)
        return _with_progress(it, len(files), show_progress)
    from concurrent.futures import ProcessPoolExecutor  # start-up time: only when parallel

    with ProcessPoolExecutor(max_workers=jobs) as pool:
        chunk = max(1, min(64, len(files) // (jobs * 4)))
        return _with_progress(
            pool.map(scan_path, files, chunksize=chunk), len(files), show_progress
        )


def _with_progress(it: Iterator[FileReport], total: int, show: bool) -> list[FileReport]:
    if not show:
        return list(it)
    from rich.console import Console  # imported only when needed: startup time matters
    from rich.progress import Progress

    out: list[FileReport] = []
    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("scanning", total=total)
        for rep in it:
            out.append(rep)
            progress.advance(task)
    return out


def _print_text(reports: list[FileReport], seconds: float) -> None:
    from rich.console import Console
    from rich.markup import escape

    console = Console()
    style = {Verdict.BLOCK: "bold red", Verdict.REVIEW: "yellow", Verdict.PASS: "green"}
    for rep in reports:
        console.print(
            f"[{style[rep.verdict]}]{rep.verdict.value.upper():6}[/] {escape(rep.path)} "
            f"[dim]({rep.format})[/]"
        )
        for f in rep.findings:
            where = f.evidence.location
            if f.evidence.offset is not None:
                where += f" @ {f.evidence.offset}"
            console.print(
                f"    [{style[f.verdict]}]{f.rule_id}[/] {f.severity.value}: {escape(f.message)}"
            )
            console.print(f"      [dim]{escape(where)}[/]")
            if f.evidence.trace:
                console.print(f"      [dim]trace: {escape(' '.join(f.evidence.trace[-6:]))}[/]")
    counts = {v: sum(1 for r in reports if r.verdict is v) for v in Verdict}
    console.print(
        f"\n{len(reports)} files in {seconds:.2f} s: "
        f"[red]{counts[Verdict.BLOCK]} block[/], [yellow]{counts[Verdict.REVIEW]} review[/], "
        f"[green]{counts[Verdict.PASS]} pass[/]"
    )


def _emit(doc: dict[str, Any], output: Path | None) -> None:
    text = json.dumps(doc, indent=None if output is None else 2)
    if output is None:
        sys.stdout.write(text + "\n")
    else:
        output.write_text(text + "\n", encoding="utf-8")


class UsageError(ValueError):
    """A bad option value or path; the CLI exits with status 2."""

    def __init__(self, hint: str, message: str) -> None:
        super().__init__(message)
        self.hint = hint


def run_scan(
    paths: list[Path], format: str, output: Path | None, fail_on: str | None, jobs: int
) -> int:
    """Scan, write the report in the chosen format, and return the exit status (0, 1 or 2)."""
    if format not in _FORMATS:
        raise UsageError("--format", f"must be one of {', '.join(_FORMATS)}")
    if fail_on is not None and fail_on not in _FAIL_ON:
        raise UsageError("--fail-on", "must be block, review or never")
    if jobs < 1:
        raise UsageError("--jobs", "must be at least 1")
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise UsageError("PATHS", f"no such file or folder: {', '.join(missing)}")
    t0 = time.perf_counter()
    files = list(collect(paths))
    show = sys.stderr.isatty() and (
        len(files) >= _PROGRESS_FILES or sum(f.stat().st_size for f in files) >= _PROGRESS_BYTES
    )
    reports = _scan_many(files, jobs, show_progress=show)
    seconds = time.perf_counter() - t0
    if format == "json":
        _emit(to_json(reports, seconds, _ENGINE), output)
    elif format == "sarif":
        _emit(to_sarif(reports, _ENGINE), output)
    else:
        _print_text(reports, seconds)
        if output is not None:
            _emit(to_json(reports, seconds, _ENGINE), output)
    return exit_status(reports, fail_on)


def exit_status(reports: list[FileReport], fail_on: str | None) -> int:
    """1 when a file reaches the --fail-on verdict (block by default), else 2 when the scanner
    failed on a file, else 0."""
    threshold = _FAIL_ON[fail_on or "block"]
    if threshold is not None and any(r.verdict.rank >= threshold.rank for r in reports):
        return EXIT_FAIL
    if any(f.rule_id == _ERROR_RULE for r in reports for f in r.findings):
        return EXIT_ERROR
    return 0
