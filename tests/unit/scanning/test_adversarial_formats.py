"""The container and model-format adversarial corpus: rates per class, and bounded memory.

Malicious files are detected when the verdict is not `pass` (bombs: `review` with a finding
naming the limit), blocked when it is `block` (bombs are never blocked, they are left out of
that rate); benign files, written by the real libraries, must `pass`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections import defaultdict
from pathlib import Path

import pytest
from adversarial import Case, build_all
from adversarial.formats import cases

from airlock.scanning.engine import FileReport, Verdict, scan_path

_LIMIT_RULES = {"AIR-LIM-001", "AIR-LIM-002", "AIR-ARC-005"}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[Path, Case]]:
    """Every case written once, each in its own folder under the user's file name."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    root = tmp_path_factory.mktemp("adversarial-formats")
    return root, build_all(cases(), root)


def _limit_named(report: FileReport) -> bool:
    return report.verdict is Verdict.REVIEW and any(
        f.rule_id in _LIMIT_RULES and (f.evidence.detail or "limit" in f.message)
        for f in report.findings
    )


def _detected(case: Case, report: FileReport) -> bool:
    if case.klass == "bombs":
        return _limit_named(report)
    return report.verdict is not Verdict.PASS


def test_adversarial_format_corpus_rates_per_class(corpus, capsys):
    _, built = corpus
    stats: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    misses: list[str] = []
    for path, case in built.items():
        report = scan_path(path)
        s = stats[case.klass]
        if case.label == "malicious":
            s["malicious"] += 1
            hit = _detected(case, report)
            s["detected"] += hit
            if case.klass != "bombs":
                s["blockable"] += 1
                s["blocked"] += report.verdict is Verdict.BLOCK
            if not hit or (case.klass != "bombs" and report.verdict is not Verdict.BLOCK):
                rules = sorted({f.rule_id for f in report.findings})
                misses.append(f"{case.name}: {report.verdict} {rules}")
        else:
            s["benign"] += 1
            flagged = report.verdict is not Verdict.PASS
            s["flagged"] += flagged
            if flagged:
                misses.append(
                    f"{case.name} (benign): {report.verdict} "
                    f"{[f.message[:90] for f in report.findings][:2]}"
                )
    total: dict[str, int] = defaultdict(int)
    lines = [f"{'class':20} {'detected':>12} {'blocked':>12} {'benign flagged':>16}"]
    for klass in sorted(stats):
        s = stats[klass]
        for k, v in s.items():
            total[k] += v
        lines.append(_row(klass, s))
    lines.append(_row("all", total))
    with capsys.disabled():
        print("\n" + "\n".join(lines))
        if misses:
            print("not detected / not blocked / flagged:\n  " + "\n  ".join(misses))
    assert total["malicious"] >= 80 and total["benign"] >= 40
    # Per class too, so a regression in one small class cannot hide in the total; every bomb
    # must stop at a named limit.
    for klass, s in stats.items():
        assert s["detected"] >= 0.9 * s["malicious"], (klass, misses)
        assert s["flagged"] <= 0.1 * s["benign"], (klass, misses)
    assert stats["bombs"]["detected"] == stats["bombs"]["malicious"], misses
    assert total["detected"] >= 0.97 * total["malicious"], misses
    assert total["blocked"] >= 0.90 * total["blockable"], misses
    assert total["flagged"] <= 0.02 * total["benign"], misses


def _row(klass: str, s: dict[str, int]) -> str:
    det = f"{s['detected']}/{s['malicious']}"
    blk = f"{s['blocked']}/{s['blockable']}" if s["blockable"] else "-"
    ben = f"{s['flagged']}/{s['benign']}"
    return f"{klass:20} {det:>12} {blk:>12} {ben:>16}"


def test_whole_corpus_scan_stays_under_300_mb(corpus, capsys):
    root, _ = corpus
    # A fresh process scans the whole folder as a user would (`airlock scan DIR`), then
    # reports its own peak RSS: the figure includes every bomb of the corpus.
    code = textwrap.dedent(
        """
        import runpy, sys
        sys.argv = ["airlock-scan", "--format", "json", sys.argv[1]]
        try:
            runpy.run_module("airlock.scanning.engine", run_name="__main__")
        except SystemExit:
            pass
        # VmHWM belongs to this process image; ru_maxrss would carry pytest's peak over exec.
        hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0]
        print(int(hwm.split()[1]), file=sys.stderr)
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(root)], capture_output=True, text=True, timeout=600
    )
    peak_mb = int(proc.stderr.strip().splitlines()[-1]) / 1024
    out = json.loads(proc.stdout)
    scanned = len(out["files"])
    seconds = sum(f["seconds"] for f in out["files"])
    slowest = max(out["files"], key=lambda f: f["seconds"])
    with capsys.disabled():
        print(
            f"\nwhole-folder scan: {scanned} files, peak RSS {peak_mb:.0f} MB, "
            f"scan time {seconds:.2f} s, slowest {slowest['seconds']:.2f} s "
            f"({Path(slowest['path']).parent.name})"
        )
    assert scanned >= 150
    assert peak_mb < 300
