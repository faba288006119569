"""The adversarial corpus, scanned the way a user does: `airlock scan DIR --format json`.

Builds every case of the case modules into one folder, scans the folder in a child process
(the scanner's own CLI, so start-up, folder walk and report are what a user runs), prints
per-class rates and asserts the targets of issue 8: malicious >= 97% detected and >= 90%
blocked, benign <= 2% flagged, peak memory of the whole-folder scan under 300 MB.

AIRLOCK_LONG_TESTS=1 adds mutated copies of every malicious case (compressed, wrapped in
archives, renamed), which the same targets must hold for.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
import tarfile
import zipfile
from collections import defaultdict
from pathlib import Path

import pytest
from adversarial import Case, benign, build_all, pickles

# The container and model-format cases (`formats`) run in test_adversarial_formats.py.
CASE_MODULES = [pickles, benign]
LONG = os.environ.get("AIRLOCK_LONG_TESTS") == "1"
PEAK_MB = 300


def _mutations(case: Case) -> list[Case]:
    """Structure-aware wrappers a loader sees through: gzip, tar, zip and a new file name."""

    def gz(path: Path, case: Case = case) -> None:
        inner = path.with_suffix(".inner")
        case.build(inner)
        path.write_bytes(gzip.compress(inner.read_bytes()))
        inner.unlink()

    def tar(path: Path, case: Case = case) -> None:
        inner = path.with_suffix(".inner")
        case.build(inner)
        with tarfile.open(path, "w") as tf:
            tf.add(inner, arcname=case.filename)
        inner.unlink()

    def zipped(path: Path, case: Case = case) -> None:
        inner = path.with_suffix(".inner")
        case.build(inner)
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            z.write(inner, arcname=f"model/{case.filename}")
        inner.unlink()

    return [
        Case(f"{case.name}~gzip", case.klass, case.label, case.filename + ".gz", gz),
        Case(f"{case.name}~tar", case.klass, case.label, "bundle.tar", tar),
        Case(f"{case.name}~zip", case.klass, case.label, "bundle.zip", zipped),
        Case(f"{case.name}~renamed", case.klass, case.label, "weights.dat", case.build),
    ]


def all_cases() -> list[Case]:
    """Every case of every module, plus mutations in the long run."""
    cases = [c for mod in CASE_MODULES for c in mod.cases()]
    if LONG:
        cases += [m for c in cases if c.label == "malicious" for m in _mutations(c)]
    return cases


# The child reports its own high-water mark: a forked child's ru_maxrss would count the
# test process (torch, scikit-learn...) it was forked from; VmHWM starts afresh at exec.
_CHILD = (
    "import atexit, sys\n"
    "def peak():\n"
    "    line = next(x for x in open('/proc/self/status') if x.startswith('VmHWM'))\n"
    "    sys.stderr.write('PEAK_KB ' + line.split()[1] + '\\n')\n"
    "atexit.register(peak)\n"
    "sys.argv = ['airlock', 'scan'] + sys.argv[1:]\n"
    "from airlock.cli.entry import main\n"
    "main()\n"
)


def scan_folder(root: Path) -> tuple[dict[str, str], float, int]:
    """Run `airlock scan DIR --format json`: verdict per path, peak RSS in MB, exit status."""
    cmd = [sys.executable, "-c", _CHILD, "--format", "json", str(root)]
    proc = subprocess.run(cmd, capture_output=True, timeout=1200, check=False)
    peak = [ln for ln in proc.stderr.decode().splitlines() if ln.startswith("PEAK_KB ")]
    doc = json.loads(proc.stdout)
    verdicts = {f["path"]: f["verdict"] for f in doc["files"]}
    return verdicts, int(peak[-1].split()[1]) / 1024, proc.returncode


def score(built: dict[Path, Case], verdicts: dict[str, str]) -> dict[str, dict[str, int]]:
    """Counts per class and label: n, detected (not pass), blocked."""
    table: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for path, case in built.items():
        v = verdicts[str(path)]
        row = table[f"{case.label}:{case.klass}"]
        row["n"] += 1
        row["detected"] += v != "pass"
        row["blocked"] += v == "block"
    return table


def print_table(table: dict[str, dict[str, int]]) -> None:
    """Per-class rates, the way the issue reports them."""
    print(f"\n{'label:class':44} {'n':>5} {'detected':>9} {'blocked':>8}")
    for key in sorted(table):
        r = table[key]
        n = r["n"]
        print(f"{key:44} {n:5} {r['detected'] / n:9.1%} {r['blocked'] / n:8.1%}")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[Path, Case], Path]:
    root = tmp_path_factory.mktemp("adversarial")
    return build_all(all_cases(), root), root


def test_case_modules_meet_their_size():
    mal = [c for c in pickles.cases() if c.label == "malicious"]
    ben = [c for c in benign.cases() if c.label == "benign"]
    assert len(mal) >= 100
    assert len(ben) >= 150
    assert len({c.name for c in mal + ben}) == len(mal) + len(ben)


def test_adversarial_corpus_rates_and_memory(corpus):
    built, root = corpus
    verdicts, peak_mb, status = scan_folder(root)
    assert set(verdicts) == {str(p) for p in built}
    table = score(built, verdicts)
    print_table(table)
    mal = [r for k, r in table.items() if k.startswith("malicious:")]
    ben = [r for k, r in table.items() if k.startswith("benign:")]
    n_mal, n_ben = sum(r["n"] for r in mal), sum(r["n"] for r in ben)
    detected = sum(r["detected"] for r in mal) / n_mal
    blocked = sum(r["blocked"] for r in mal) / n_mal
    flagged = sum(r["detected"] for r in ben) / n_ben
    missed = sorted(
        c.name for p, c in built.items() if c.label == "malicious" and verdicts[str(p)] == "pass"
    )
    noisy = sorted(
        c.name for p, c in built.items() if c.label == "benign" and verdicts[str(p)] != "pass"
    )
    print(
        f"malicious {n_mal}: detected {detected:.1%}, blocked {blocked:.1%}; "
        f"benign {n_ben}: flagged {flagged:.1%}; peak RSS of the folder scan {peak_mb:.0f} MB"
    )
    print("missed:", missed[:20])
    print("benign flagged:", noisy[:20])
    assert status == 1  # some file is `block`
    assert detected >= 0.97
    assert blocked >= 0.90
    assert flagged <= 0.02
    assert peak_mb < PEAK_MB


def test_mutations_keep_the_file_name_a_user_sees(tmp_path):
    case = pickles.cases()[0]
    built = build_all(_mutations(case), tmp_path)
    names = sorted(p.name for p in built)
    assert names == sorted(["model.pkl.gz", "bundle.tar", "bundle.zip", "weights.dat"])
    with tarfile.open(next(p for p in built if p.name == "bundle.tar")) as tf:
        assert tf.getnames() == [case.filename]
    assert io.BytesIO(gzip.decompress(next(p for p in built if p.suffix == ".gz").read_bytes()))
