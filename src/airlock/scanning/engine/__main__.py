"""`python -m airlock.scanning.engine PATH...` runs the scanner CLI.

Plain invocations are parsed here without importing Typer (and the packages it pulls in),
because whole-process start-up time counts when a firm scans one big file; anything else
(help, a bad option) goes to the Typer app, which reports usage errors with status 2.
"""

from __future__ import annotations

import sys
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


def _fast(argv: list[str]) -> int | None:
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


def main() -> None:
    """Run the fast path when it applies, else the Typer app."""
    status = _fast(sys.argv[1:])
    if status is None:
        from .cli import main as typer_main

        typer_main()
        return
    sys.exit(status)


main()
