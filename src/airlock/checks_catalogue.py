"""Every automated check the platform runs, listed explicitly (a missing module fails loudly).

A check module declares one `Check` value; add it to CHECKS to have it registered, planned
on its trigger event and listed in the scanner states. Later stages (dossier checks, probes)
add theirs here.
"""

from __future__ import annotations

from typing import Any, Final

from airlock.probes.check import BEHAVIOURAL_PROBES
from airlock.probes.runs import PROBE_RUNS
from airlock.scanning import jobs as _scanning_jobs  # noqa: F401 - subscribes checks to events
from airlock.scanning.artifact_check import ARTIFACT_SAFETY
from airlock.scanning.dossier_checks import DOSSIER_COMPUTE, DOSSIER_COVERAGE, DOSSIER_DECLARED
from airlock.scanning.registry import Check, register

CHECKS: Final[tuple[Check[Any], ...]] = (
    ARTIFACT_SAFETY,
    DOSSIER_COMPUTE,
    DOSSIER_COVERAGE,
    DOSSIER_DECLARED,
    BEHAVIOURAL_PROBES,
    PROBE_RUNS,
)

for _check in CHECKS:
    register(_check)
