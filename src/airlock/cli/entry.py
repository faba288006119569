"""The `airlock` console script: `airlock scan` starts without the server's command line.

`airlock scan PATH...` is what a firm runs before sharing a model, often over many small
files; importing Typer, Rich and the platform's settings took longer than scanning. Plain
scan invocations go straight to the engine's own parser; everything else (and any scan
invocation it does not handle, such as --help) goes to the full Typer app.
"""

from __future__ import annotations

import sys


def main() -> None:
    """Entry point of the `airlock` command."""
    argv = sys.argv[1:]
    if argv[:1] == ["scan"]:
        from airlock.scanning.engine.fastcli import run

        status = run(argv[1:])
        if status is not None:
            sys.exit(status)
    from airlock.cli.main import main as full

    full()
