"""`python -m airlock.cli` runs the command line."""

from airlock.cli.main import main

main()
