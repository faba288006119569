"""The catalogue of dossier-check rules: id -> check, title and default severity."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from .results import Severity


@dataclass(frozen=True, slots=True)
class DossierRule:
    """One rule a dossier check can report."""

    id: str
    check: str
    title: str
    severity: Severity


_H, _M, _L, _I = Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO

RULES: Final[dict[str, DossierRule]] = {
    r.id: r
    for r in (
        DossierRule(
            "DOS-CMP-001", "compute", "Declared training compute is outside the estimated range", _M
        ),
        DossierRule(
            "DOS-CMP-002", "compute", "Training compute reaches a regulatory threshold", _I
        ),
        DossierRule("DOS-CMP-003", "compute", "A compute input in the dossier cannot be used", _L),
        DossierRule("DOS-CMP-004", "compute", "Training compute cannot be estimated", _M),
        DossierRule(
            "DOS-DEC-001", "declared", "Declared parameter count does not match the weights", _H
        ),
        DossierRule(
            "DOS-DEC-002",
            "declared",
            "Declared active parameters do not match the architecture",
            _H,
        ),
        DossierRule(
            "DOS-DEC-003", "declared", "Declared architecture does not match the files", _M
        ),
        DossierRule("DOS-DEC-004", "declared", "Tensor header is inconsistent or unreadable", _M),
        DossierRule("DOS-DEC-005", "declared", "config.json is not usable", _M),
        DossierRule(
            "DOS-INT-001", "integrity", "Artifact does not match the hash the dossier declares", _H
        ),
        DossierRule(
            "DOS-INT-002", "integrity", "Declared artifact or hash matches nothing shared", _M
        ),
        DossierRule("DOS-INT-003", "integrity", "Model folder is not signed", _M),
        DossierRule("DOS-INT-004", "integrity", "Signature is invalid or malformed", _H),
        DossierRule("DOS-INT-005", "integrity", "Files changed after signing", _H),
        DossierRule("DOS-INT-006", "integrity", "Signature could not be verified offline", _L),
        DossierRule("DOS-INT-007", "integrity", "Declared hash is not a SHA-256 digest", _L),
        DossierRule("DOS-INT-008", "integrity", "File was not hashed", _L),
        DossierRule(
            "DOS-COV-001", "coverage", "ATLAS technique not covered by any declared control", _M
        ),
        DossierRule("DOS-COV-002", "coverage", "Control id is not recognised", _L),
        DossierRule("DOS-DAT-001", "datasamples", "Personal data in a training-data sample", _M),
        DossierRule("DOS-DAT-002", "datasamples", "Secrets in a training-data sample", _H),
        DossierRule("DOS-DAT-003", "datasamples", "Dataset has no licence", _L),
        DossierRule("DOS-DAT-004", "datasamples", "Dataset has no provenance", _L),
        DossierRule("DOS-DAT-005", "datasamples", "Sample not fully scanned", _L),
    )
}
