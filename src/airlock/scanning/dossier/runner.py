"""Run every dossier check on a model folder, and render the reports as JSON or SARIF 2.1.0."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

from . import compute, coverage, datasamples, declared, integrity, manifests
from .results import CheckReport, CheckResult, Severity
from .rules import RULES

TOOL_NAME: Final = "airlock-dossier-checks"
TOOL_VERSION: Final = "1.0.0"
SARIF_SCHEMA: Final = "https://json.schemastore.org/sarif-2.1.0.json"
SEVERITY_ORDER: Final = (
    Severity.CRITICAL,
    Severity.HIGH,
    Severity.MEDIUM,
    Severity.LOW,
    Severity.INFO,
)
_LEVEL: Final = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
_SCORE: Final = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}
CHECKS: Final = {
    compute.CHECK: compute.VERSION,
    declared.CHECK: declared.VERSION,
    integrity.CHECK: integrity.VERSION,
    coverage.CHECK: coverage.VERSION,
    datasamples.CHECK: datasamples.VERSION,
}


@dataclass(frozen=True, slots=True)
class Options:
    """How to run the checks: trust material, tolerance, deployment, samples and limits."""

    trust: integrity.TrustConfig = field(default_factory=integrity.TrustConfig)
    tolerance: float = declared.DEFAULT_TOLERANCE
    deployment: Set[str] | None = None
    samples: Sequence[Path] | None = None  # None: every sample file found in the folder
    sample_limits: datasamples.SampleLimits = field(default_factory=datasamples.SampleLimits)
    skip: Sequence[str] = ()  # folder-relative files that are not artifacts (the dossier)


def run_checks(
    folder: Path, doc: Mapping[str, Any] | None, *, options: Options | None = None
) -> list[CheckReport]:
    """All five checks on one folder and dossier; bad input becomes results, never raises."""
    opts = options or Options()
    samples = list(opts.samples) if opts.samples is not None else datasamples.find_samples(folder)
    return [
        compute.check_compute(doc),
        declared.check_declared(folder, doc, tolerance=opts.tolerance),
        integrity.check_integrity(folder, doc, trust=opts.trust, skip=opts.skip),
        coverage.check_coverage(doc, deployment=opts.deployment),
        datasamples.check_datasamples(
            samples,
            doc,
            root=folder,
            limits=opts.sample_limits,
            manifests=manifests.find_manifests(folder),
        ),
    ]


def all_results(reports: Sequence[CheckReport]) -> list[CheckResult]:
    """Every result, most severe first."""
    rank = {s: i for i, s in enumerate(SEVERITY_ORDER)}
    return sorted((r for rep in reports for r in rep.results), key=lambda r: rank[r.severity])


def to_json(reports: Sequence[CheckReport], *, folder: str, seconds: float) -> dict[str, Any]:
    """The JSON document `airlock dossier check --format json` writes."""
    counts = {s.value: 0 for s in SEVERITY_ORDER}
    for r in all_results(reports):
        counts[r.severity.value] += 1
    return {
        "tool": {"name": TOOL_NAME, "version": TOOL_VERSION},
        "folder": folder,
        "checks": [rep.to_dict() for rep in reports],
        "summary": {"results": counts, "seconds": round(seconds, 3)},
    }


def _location(result: CheckResult) -> dict[str, Any]:
    if result.location.startswith("sections.") or result.location in (".", ""):
        return {
            "logicalLocations": [{"fullyQualifiedName": result.location or ".", "kind": "member"}]
        }
    uri = quote(Path(result.location).as_posix(), safe="/:._-~")
    return {"physicalLocation": {"artifactLocation": {"uri": uri, "uriBaseId": "MODELDIR"}}}


def to_sarif(reports: Sequence[CheckReport]) -> dict[str, Any]:
    """A SARIF 2.1.0 log: one run, the rule catalogue, one result per check result."""
    ids = sorted(RULES)
    index = {rid: i for i, rid in enumerate(ids)}
    rules = [
        {
            "id": rid,
            "name": "".join(w.capitalize() for w in RULES[rid].title.split()),
            "shortDescription": {"text": RULES[rid].title},
            "defaultConfiguration": {"level": _LEVEL[RULES[rid].severity]},
            "properties": {
                "check": RULES[rid].check,
                "security-severity": _SCORE[RULES[rid].severity],
            },
        }
        for rid in ids
    ]
    results = [
        {
            "ruleId": r.rule_id,
            "ruleIndex": index.get(r.rule_id, -1),
            "level": _LEVEL[r.severity],
            "message": {"text": r.message},
            "locations": [_location(r)],
            "partialFingerprints": {"airlockDossier/v1": r.fingerprint()},
            "properties": {
                "severity": r.severity.value,
                "check": r.check,
                "tags": list(r.atlas),
                "details": r.to_dict()["details"],
            },
        }
        for r in all_results(reports)
    ]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": TOOL_NAME, "version": TOOL_VERSION, "rules": rules}},
                "results": results,
                "properties": {"checks": CHECKS},
            }
        ],
    }


def timed(
    folder: Path, doc: Mapping[str, Any] | None, options: Options
) -> tuple[list[CheckReport], float]:
    """run_checks with its wall time."""
    start = time.perf_counter()
    reports = run_checks(folder, doc, options=options)
    return reports, time.perf_counter() - start
