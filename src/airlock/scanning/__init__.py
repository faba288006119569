"""Automated review: scanners run on every artifact in the vault and record findings.

`engine/` is the standalone artifact safety scanner (`airlock scan`); the rest of this package
wires it into the platform: scanner states, scan runs, immutable findings, and who sees them.
"""
