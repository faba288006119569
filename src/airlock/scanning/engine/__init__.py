"""Airlock's artifact safety scanner: finds code that runs when a model file is loaded.

It never loads, unpickles or executes what it scans. It imports nothing from the rest of
Airlock, so `airlock scan` runs with no server and no database.
"""

from __future__ import annotations

from typing import Final

from .model import Evidence, FileReport, Finding, Limits, Severity, Verdict
from .rules import RULES, Rule
from .scan import scan_bytes, scan_path

ENGINE_NAME: Final = "airlock-artifact-safety"
ENGINE_VERSION: Final = "1.0.0"

__all__ = [
    "ENGINE_NAME",
    "ENGINE_VERSION",
    "RULES",
    "Evidence",
    "FileReport",
    "Finding",
    "Limits",
    "Rule",
    "Severity",
    "Verdict",
    "scan_bytes",
    "scan_path",
]
