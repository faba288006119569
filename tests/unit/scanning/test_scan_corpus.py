"""Score the shared regression corpus and the generated samples; print per-category rates.

The corpus files are only read as bytes by the scanner, never loaded.
"""

from __future__ import annotations

import csv
import os
from collections import defaultdict
from pathlib import Path

import pytest

from airlock.scanning.engine import Verdict, scan_path

# shared/ sits beside the repository checkout (locally and in CI).
_DEFAULT = Path(__file__).resolve().parents[4] / "shared" / "data" / "scan-corpus"
CORPUS = Path(os.environ.get("AIRLOCK_SCAN_CORPUS", _DEFAULT))


def _score(rows: list[tuple[Path, str, str]]) -> dict[str, float]:
    """Print per-category rates and return the overall ones."""
    by_cat: dict[tuple[str, str], list[Verdict]] = defaultdict(list)
    for path, label, category in rows:
        by_cat[(label, category)].append(scan_path(path).verdict)
    print(f"\n{'label':10} {'category':28} {'n':>4} {'block':>7} {'review':>7} {'pass':>7}")
    totals: dict[str, list[Verdict]] = defaultdict(list)
    for (label, cat), verdicts in sorted(by_cat.items()):
        n = len(verdicts)
        share = {v: sum(1 for x in verdicts if x is v) / n for v in Verdict}
        print(
            f"{label:10} {cat:28} {n:4} {share[Verdict.BLOCK]:7.1%} "
            f"{share[Verdict.REVIEW]:7.1%} {share[Verdict.PASS]:7.1%}"
        )
        totals[label].extend(verdicts)
    mal, ben = totals.get("malicious", []), totals.get("benign", [])
    out = {
        "detected": sum(v is not Verdict.PASS for v in mal) / max(len(mal), 1),
        "blocked": sum(v is Verdict.BLOCK for v in mal) / max(len(mal), 1),
        "false_positive": sum(v is not Verdict.PASS for v in ben) / max(len(ben), 1),
    }
    print(
        f"malicious detected {out['detected']:.1%} (block {out['blocked']:.1%}) of {len(mal)}; "
        f"benign not pass {out['false_positive']:.1%} of {len(ben)}"
    )
    return out


@pytest.mark.skipif(not (CORPUS / "labels.csv").exists(), reason="shared scan corpus not present")
def test_corpus_detection_and_false_positive_goals():
    with (CORPUS / "labels.csv").open() as fh:
        rows = [
            (CORPUS / r["path"], r["label"], r["source"])
            for r in csv.DictReader(fh)
            if r["label"] in ("malicious", "benign")  # "policy" is debatable: not scored
        ]
    score = _score(rows)
    assert score["detected"] >= 0.99
    assert score["blocked"] >= 0.90
    assert score["false_positive"] <= 0.02


def test_generated_samples_detection_and_false_positive_goals(generated):
    score = _score(list(generated))
    assert score["detected"] >= 0.99
    assert score["blocked"] >= 0.90
    assert score["false_positive"] <= 0.02
