"""Per-file scan state: findings collected so far, the deadline and the byte budget."""

from __future__ import annotations

import time

from .model import Evidence, Finding, LimitExceeded, Limits
from .rules import LIMIT, RULES, TIMEOUT

_WHOLE_FILE_FLOOR = 64 << 20


class ScanContext:
    """Collects findings for one top-level file and enforces its limits."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.deadline = time.monotonic() + limits.time_seconds
        self.findings: list[Finding] = []
        self.expanded = 0
        self.members = 0
        self.formats: list[str] = []
        self.pickle_profile = "any"
        self._seen: set[tuple[str, str, str]] = set()
        self.root_size = 0  # size of the top-level file, for the whole-file expansion ratio

    def add(
        self,
        rule_id: str,
        message: str,
        location: str,
        *,
        offset: int | None = None,
        trace: tuple[str, ...] = (),
        global_name: str | None = None,
        detail: str | None = None,
    ) -> None:
        """Record a finding; repeats of one rule, place and global are kept once."""
        key = (rule_id, location, global_name or message)
        if key in self._seen:
            return
        self._seen.add(key)
        if len(self.findings) >= self.limits.max_findings:
            # A flood of findings still has to say that it was cut short.
            if len(self.findings) == self.limits.max_findings:
                self.findings.append(
                    self._make(LIMIT, "too many findings: later ones dropped", location)
                )
            return
        self.findings.append(
            self._make(rule_id, message, location, offset, trace, global_name, detail)
        )

    def _make(
        self,
        rule_id: str,
        message: str,
        location: str,
        offset: int | None = None,
        trace: tuple[str, ...] = (),
        global_name: str | None = None,
        detail: str | None = None,
    ) -> Finding:
        rule = RULES[rule_id]
        ev = Evidence(location, offset, trace[-self.limits.max_trace :], global_name, detail)
        return Finding(rule_id, rule.severity, rule.verdict, message, ev, rule.atlas)

    def check_time(self) -> None:
        """Raise LimitExceeded once the per-file time limit has passed."""
        if time.monotonic() > self.deadline:
            raise LimitExceeded(
                "time_seconds", f"time limit of {self.limits.time_seconds:g} s per file reached"
            )

    def charge(self, nbytes: int, where: str) -> None:
        """Count bytes expanded from archives or compression against the total budget."""
        self.expanded += nbytes
        self.charge_stream(0)

    def charge_stream(self, pending: int) -> None:
        """Check bytes being expanded right now (not yet charged) against the file's budget.

        The whole-file ratio stops nested bombs whose every layer looks modest on its own.
        """
        total = self.expanded + pending
        if total > self.limits.max_expanded_bytes:
            raise LimitExceeded(
                "max_expanded_bytes",
                f"expanded content exceeds {self.limits.max_expanded_bytes} bytes in total",
            )
        if total > _WHOLE_FILE_FLOOR and total > self.limits.max_ratio * max(self.root_size, 1):
            raise LimitExceeded(
                "max_ratio",
                f"the file expands to over {total} bytes from {self.root_size}: ratio above "
                f"{self.limits.max_ratio} (bomb)",
            )

    def limit_hit(self, exc: LimitExceeded, location: str, offset: int | None = None) -> None:
        """Turn a LimitExceeded into a review finding that names the limit."""
        rule = TIMEOUT if exc.limit == "time_seconds" else LIMIT
        self.add(rule, f"{exc} (limit {exc.limit})", location, offset=offset, detail=exc.limit)
