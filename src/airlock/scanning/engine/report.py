"""Render file reports as the JSON document and SARIF 2.1.0 log the CLI writes."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

from .model import FileReport, Severity, Verdict
from .rules import RULES

SARIF_SCHEMA: Final = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL: Final = {Verdict.BLOCK: "error", Verdict.REVIEW: "warning", Verdict.PASS: "note"}
_SCORE: Final = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}


def summary(reports: list[FileReport], seconds: float, engine: tuple[str, str]) -> dict[str, Any]:
    """Counts per verdict and findings, with the engine that produced them."""
    counts = {v.value: 0 for v in Verdict}
    for r in reports:
        counts[r.verdict.value] += 1
    return {
        "files": len(reports),
        "verdicts": counts,
        "findings": sum(len(r.findings) for r in reports),
        "seconds": round(seconds, 3),
        "engine": {"name": engine[0], "version": engine[1]},
    }


def to_json(reports: list[FileReport], seconds: float, engine: tuple[str, str]) -> dict[str, Any]:
    """The CLI's JSON document: {"files": [...], "summary": {...}}."""
    return {"files": [r.to_dict() for r in reports], "summary": summary(reports, seconds, engine)}


def _uri(path: str) -> str:
    return quote(Path(path).as_posix(), safe="/:._-~")


def to_sarif(reports: list[FileReport], engine: tuple[str, str]) -> dict[str, Any]:
    """A SARIF 2.1.0 log with one run, the full rule catalogue and one result per finding."""
    rule_ids = sorted(RULES)
    index = {rid: i for i, rid in enumerate(rule_ids)}
    rules_out = [
        {
            "id": rid,
            "name": RULES[rid].title.replace(" ", ""),
            "shortDescription": {"text": RULES[rid].title},
            "defaultConfiguration": {"level": _LEVEL[RULES[rid].verdict]},
            "properties": {
                "tags": ["security", *RULES[rid].atlas],
                "security-severity": _SCORE[RULES[rid].severity],
            },
        }
        for rid in rule_ids
    ]
    results = []
    artifacts = []
    for ai, rep in enumerate(reports):
        artifacts.append({"location": {"uri": _uri(rep.path)}, "length": rep.size})
        for f in rep.findings:
            region: dict[str, Any] = {}
            if f.evidence.offset is not None and "!" not in f.evidence.location:
                region = {"byteOffset": max(f.evidence.offset, 0)}
            phys: dict[str, Any] = {"artifactLocation": {"uri": _uri(rep.path), "index": ai}}
            if region:
                phys["region"] = region
            results.append(
                {
                    "ruleId": f.rule_id,
                    "ruleIndex": index[f.rule_id],
                    "level": _LEVEL[f.verdict],
                    "message": {"text": f.message},
                    "locations": [
                        {
                            "physicalLocation": phys,
                            "logicalLocations": [
                                {"fullyQualifiedName": f.evidence.location, "kind": "member"}
                            ],
                        }
                    ],
                    "partialFingerprints": {"airlockFinding/v1": f.fingerprint()},
                    "properties": {
                        "verdict": f.verdict.value,
                        "severity": f.severity.value,
                        "atlas": list(f.atlas),
                        "evidence": f.evidence.to_dict(),
                    },
                }
            )
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": engine[0],
                        "version": engine[1],
                        "rules": rules_out,
                    }
                },
                "artifacts": artifacts,
                "results": results,
                "properties": {
                    "verdicts": {rep.path: rep.verdict.value for rep in reports},
                },
            }
        ],
    }
