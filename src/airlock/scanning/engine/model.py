"""Value types the engine returns: verdicts, findings, file reports and limits."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final


class Verdict(StrEnum):
    """What the platform should do with a file: block it, have a human look, or let it pass."""

    PASS = "pass"  # noqa: S105 - a verdict, not a password
    REVIEW = "review"
    BLOCK = "block"

    @property
    def rank(self) -> int:
        """Order verdicts so the worst one wins: pass < review < block."""
        return _VERDICT_RANK[self]


_VERDICT_RANK: Final = {Verdict.PASS: 0, Verdict.REVIEW: 1, Verdict.BLOCK: 2}


def worst(verdicts: list[Verdict] | tuple[Verdict, ...]) -> Verdict:
    """Return the most severe verdict, pass when there is none."""
    out = Verdict.PASS
    for v in verdicts:
        if v.rank > out.rank:
            out = v
    return out


class Severity(StrEnum):
    """Finding severity, the same scale the findings stage uses."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"


# MITRE ATLAS techniques: a booby-trapped artifact is a supply-chain compromise that runs when
# a user loads it.
ATLAS_SUPPLY_CHAIN: Final = "AML.T0010"
ATLAS_USER_EXECUTION: Final = "AML.T0011"
ATLAS_CODE_EXEC: Final = (ATLAS_SUPPLY_CHAIN, ATLAS_USER_EXECUTION)


@dataclass(frozen=True, slots=True)
class Evidence:
    """Where a finding was seen: container path, byte offset, opcode trace and the global."""

    location: str
    offset: int | None = None
    trace: tuple[str, ...] = ()
    global_name: str | None = None
    detail: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready mapping."""
        return {
            "location": self.location,
            "offset": self.offset,
            "trace": list(self.trace),
            "global": self.global_name,
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem the engine found in one file."""

    rule_id: str
    severity: Severity
    verdict: Verdict
    message: str
    evidence: Evidence
    atlas: tuple[str, ...] = ()

    def fingerprint(self) -> str:
        """Stable id of the problem across versions of a model: rule, inner path and global.

        Offsets and the outer file name are left out on purpose, so the same payload in the
        next release of the same model gets the same fingerprint.
        """
        import hashlib  # start-up time: fingerprints are computed on demand

        loc = self.evidence.location
        inner = loc.split("!", 1)[1] if "!" in loc else ""
        key = "\x1f".join((self.rule_id, inner, self.evidence.global_name or ""))
        return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready mapping."""
        return {
            "rule_id": self.rule_id,
            "severity": self.severity.value,
            "verdict": self.verdict.value,
            "message": self.message,
            "evidence": self.evidence.to_dict(),
            "atlas": list(self.atlas),
            "fingerprint": self.fingerprint(),
        }


@dataclass(frozen=True, slots=True)
class FileReport:
    """The engine's answer for one file."""

    path: str
    verdict: Verdict
    format: str
    findings: tuple[Finding, ...] = ()
    size: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready mapping."""
        return {
            "path": self.path,
            "verdict": self.verdict.value,
            "format": self.format,
            "size": self.size,
            "seconds": round(self.seconds, 6),
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on every size, count, depth and the time spent on one file."""

    time_seconds: float = 120.0
    max_file_bytes: int = 1 << 40
    max_depth: int = 6
    max_members: int = 20_000
    max_expanded_bytes: int = 8 << 30
    max_member_bytes: int = 2 << 30
    max_ratio: int = 200
    max_stack: int = 5_000_000
    max_memo: int = 50_000_000
    max_marks: int = 1_000_000
    max_header_bytes: int = 100 << 20
    max_json_depth: int = 200
    max_findings: int = 200
    max_trace: int = 12
    # Extra exact (module, name) pairs a deployment trusts, added to every profile.
    allow_globals: frozenset[tuple[str, str]] = frozenset()


class LimitExceeded(Exception):
    """A bound from Limits was reached; the file gets a review verdict naming it."""

    def __init__(self, limit: str, message: str) -> None:
        super().__init__(message)
        self.limit = limit


class ParseError(Exception):
    """The bytes do not follow the format; the message says where and what."""

    def __init__(self, message: str, offset: int | None = None) -> None:
        super().__init__(message)
        self.offset = offset
