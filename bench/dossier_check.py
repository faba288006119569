"""Dossier checks: header-only reading of big weights, and data-sample scan throughput.

    .venv/bin/python bench/dossier_check.py [--workdir DIR] [--size-gb 2] [--sample-mb 32]

1. A model folder with one multi-gigabyte safetensors file: the declared-vs-actual check
   (which reads tensor headers only) against `cat FILE > /dev/null` in the same run; the whole
   `airlock dossier check` is shown too, since its hash manifest must read every byte.
2. A generated JSON Lines sample with planted personal data: the data-sample scan's MB/s
   against one plain email regex pass over the same lines.

Ratios are against baselines measured in this run. Timing is never asserted in tests.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from airlock.scanning.dossier import datasamples, declared, runner  # noqa: E402


def _write_safetensors(path: Path, size: int) -> int:
    """A safetensors file of about size bytes, 64 F16 tensors, real (non-sparse) data."""
    n_tensors = 64
    per = (size // n_tensors) // 2 * 2
    rows = per // 2 // 4096
    header, offset = {}, 0
    for i in range(n_tensors):
        nbytes = rows * 4096 * 2
        header[f"model.layers.{i}.weight"] = {
            "dtype": "F16", "shape": [rows, 4096], "data_offsets": [offset, offset + nbytes],
        }  # fmt: skip
        offset += nbytes
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    block = os.urandom(16 * 1024 * 1024)
    with path.open("wb") as fh:
        fh.write(struct.pack("<Q", len(raw)) + raw)
        left = offset
        while left:
            n = min(left, len(block))
            fh.write(block[:n])
            left -= n
    return n_tensors * rows * 4096


def _timed(fn, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def bench_weights(work: Path, size_gb: float) -> None:
    folder = work / "big-model"
    folder.mkdir(exist_ok=True)
    weights = folder / "model.safetensors"
    size = int(size_gb * 1024**3)
    if not weights.exists() or abs(weights.stat().st_size - size) > 64 * 1024 * 1024:
        print(f"writing {size / 1024**3:.1f} GiB to {weights} ...", flush=True)
        params = _write_safetensors(weights, size)
    else:
        params = None
    (folder / "config.json").write_text('{"model_type": "custom"}')
    real = weights.stat().st_size

    def cat() -> None:
        subprocess.run(["cat", str(weights)], stdout=subprocess.DEVNULL, check=True)

    t_cat = _timed(cat)
    report = declared.check_declared(folder, None)
    t_decl = _timed(lambda: declared.check_declared(folder, None), repeat=5)
    t_full = _timed(lambda: runner.run_checks(folder, None), repeat=1)
    found = report.summary["parameters"]["actual"]
    assert params is None or found == params, (found, params)
    print(f"\n== weights: {real / 1024**3:.2f} GiB safetensors, {found:,} parameters ==")
    print(f"cat file > /dev/null          {t_cat:8.3f} s  ({real / t_cat / 1e9:.2f} GB/s)")
    print(f"declared-vs-actual (headers)  {t_decl:8.4f} s  = {t_decl / t_cat:.5f} x cat")
    print(f"whole dossier check (hashes)  {t_full:8.3f} s  = {t_full / t_cat:.2f} x cat")


_WORDS = [
    "the",
    "model",
    "was",
    "trained",
    "on",
    "public",
    "text",
    "about",
    "science",
    "history",
    "music",
    "cooking",
    "travel",
    "and",
    "code",
    "with",
    "careful",
    "filtering",
    "of",
    "low",
    "quality",
    "pages",
    "and",
    "duplicate",
    "documents",
    "across",
    "many",
    "languages",
]


def _sample(path: Path, mb: int) -> int:
    rng = random.Random(3)
    planted = ["jane.doe@example.com", "4111 1111 1111 1111", "AKIAQ3EGRTYUXMPL7ZVB",
               "+1 415-555-0132", "DE89 3704 0044 0532 0130 00"]  # fmt: skip
    size = 0
    with path.open("w", encoding="utf-8") as fh:
        i = 0
        while size < mb * 1024 * 1024:
            text = " ".join(rng.choice(_WORDS) for _ in range(60))
            if i % 97 == 0:
                text += f" contact {planted[i % len(planted)]}"
            line = json.dumps({"id": i, "text": text, "source": "web", "date": "2024-03-01"}) + "\n"
            fh.write(line)
            size += len(line.encode())
            i += 1
    return size


def bench_samples(work: Path, mb: int) -> None:
    path = work / "sample.jsonl"
    size = _sample(path, mb)
    email = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")

    def plain() -> None:
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                email.findall(line)

    t_plain = _timed(plain)
    t_scan = _timed(lambda: datasamples.scan_sample(path), repeat=1)
    rep = datasamples.scan_sample(path)
    print(f"\n== data sample: {size / 1e6:.1f} MB JSON Lines, {rep.rows:,} rows ==")
    print(f"plain email regex pass        {t_plain:8.3f} s  ({size / t_plain / 1e6:7.1f} MB/s)")
    print(
        f"data-sample scan (all kinds)  {t_scan:8.3f} s  ({size / t_scan / 1e6:7.1f} MB/s)"
        f" = {t_plain / t_scan:.3f} x the plain pass's throughput"
    )
    print(f"found: {rep.counts}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--size-gb", type=float, default=2.0)
    ap.add_argument("--sample-mb", type=int, default=32)
    args = ap.parse_args()
    work = args.workdir or Path(tempfile.gettempdir()) / "airlock-dossier-bench"
    work.mkdir(parents=True, exist_ok=True)
    bench_weights(work, args.size_gb)
    bench_samples(work, args.sample_mb)


if __name__ == "__main__":
    main()
