"""`python -m airlock.scanning.engine PATH...` runs the scanner CLI.

Plain invocations are parsed here without importing Typer (and the packages it pulls in),
because whole-process start-up time counts when a firm scans one big file; anything else
(help, a bad option) goes to the Typer app, which reports usage errors with status 2.
"""

from __future__ import annotations

import sys

from .fastcli import run


def main() -> None:
    """Run the fast path when it applies, else the Typer app."""
    status = run(sys.argv[1:])
    if status is None:
        from .cli import main as typer_main

        typer_main()
        return
    sys.exit(status)


main()
