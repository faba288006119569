"""`airlock scan` without Typer or Rich: plain invocations are parsed here.

Whole-process start-up counts when a firm scans a folder of small files, and importing the
command-line layer (Typer, Rich, the server's settings) cost more than the scan itself. Plain
invocations (paths and the documented options) run from here with the engine alone; the
JSON and SARIF reports never import Rich. Anything else (help, a bad option value) returns
None so the caller hands over to the Typer app, which reports usage errors with status 2.
"""

from __future__ import annotations

from pathlib import Path

_OPTS = {
    "--format": "format",
    "-f": "format",
    "--output": "output",
    "-o": "output",
    "--fail-on": "fail_on",
    "--jobs": "jobs",
    "-j": "jobs",
}


def run(argv: list[str]) -> int | None:
    """Scan as `airlock scan ARGV...` would and return the exit status, or None to defer."""
    opts: dict[str, str] = {}
    paths: list[Path] = []
    it = iter(argv)
    for arg in it:
        if arg.startswith("-"):
            key, eq, val = arg.partition("=")
            if key not in _OPTS:
                return None
            if not eq:
                val = next(it, "")
            opts[_OPTS[key]] = val
        else:
            paths.append(Path(arg))
    if not paths or not opts.get("jobs", "1").isdigit():
        return None
    from .cli_core import UsageError, run_scan

    output = opts.get("output")
    try:
        return run_scan(
            paths,
            opts.get("format", "text"),
            Path(output) if output else None,
            opts.get("fail_on"),
            int(opts.get("jobs", "1")),
        )
    except UsageError:
        return None  # Typer reports it properly, with status 2
