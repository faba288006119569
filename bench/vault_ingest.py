"""Benchmark vault ingest (read, hash, encrypt, store locally) against sha256sum and hashlib.

Usage: python bench/vault_ingest.py [--dir /tmp] [--store-dir /dev/shm] [--sizes 0.5,4]
       [--repeat 3] [--disk]

For each size a file of random bytes is generated in --dir, then measured in the same run,
each in its own child process: `sha256sum FILE`, hashlib.sha256 over the file in 1 MiB reads,
and Airlock ingest into a local blob store in --store-dir. The median of --repeat runs is
reported, with the ingest's peak RSS (ru_maxrss of the child, from wait4). --disk adds one
ingest into a store on --dir, which is bound by the disk's write speed. Files are deleted
afterwards.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

GiB = 1024**3
MiB = 1024**2


def child_hashlib(path: Path) -> dict[str, Any]:
    """hashlib.sha256 over the file in 1 MiB reads into a preallocated buffer."""
    start = time.perf_counter()
    h = hashlib.sha256()
    buf = bytearray(MiB)
    view = memoryview(buf)
    with path.open("rb", buffering=0) as f:
        while n := f.readinto(buf):
            h.update(view[:n])
    return {"seconds": time.perf_counter() - start, "sha256": h.hexdigest()}


def child_ingest(path: Path, store_dir: Path) -> dict[str, Any]:
    """Airlock ingest: read, hash, encrypt and store on the local backend."""
    from airlock.adapters.storage import blob_store_from_url
    from airlock.vault.crypto import new_key
    from airlock.vault.ingest import encrypt_into_store, read_blocks

    store = blob_store_from_url(f"file://{store_dir}")
    key = f"bench/{path.name}"
    start = time.perf_counter()
    stored = encrypt_into_store(
        store, key, read_blocks(path), data_key=new_key(), artifact_id=path.name
    )
    seconds = time.perf_counter() - start
    store.delete(key)
    return {"seconds": seconds, "sha256": stored.sha256, "stored_bytes": stored.stored_bytes}


def child_encrypt(path: Path) -> dict[str, Any]:
    """Ingest without the store: read, hash and encrypt, discarding the ciphertext."""
    from airlock.vault.crypto import StreamEncryptor, new_key
    from airlock.vault.ingest import read_blocks

    start = time.perf_counter()
    enc = StreamEncryptor(new_key(), artifact_id=path.name)
    for _ in enc.encrypt(read_blocks(path)):
        pass
    return {"seconds": time.perf_counter() - start, "sha256": enc.sha256}


def run_child(args: list[str]) -> dict[str, Any]:
    """Run this script as a child; return its JSON result with its own peak RSS in MB."""
    proc = subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"child {args} failed with {proc.returncode}")
    result: dict[str, Any] = json.loads(out)
    result["peak_rss_mb"] = usage.ru_maxrss / 1024  # Linux reports KiB
    return result


def time_sha256sum(path: Path) -> tuple[float, str]:
    """Wall time of the coreutils sha256sum over the file."""
    start = time.perf_counter()
    out = subprocess.run(["sha256sum", str(path)], capture_output=True, text=True, check=True)
    return time.perf_counter() - start, out.stdout.split()[0]


def generate(path: Path, size: int) -> None:
    """Write size random-looking bytes (a random block, varied per block)."""
    block = bytearray(os.urandom(8 * MiB))
    with path.open("wb") as f:
        written = 0
        counter = 0
        while written < size:
            block[:8] = counter.to_bytes(8, "big")
            n = min(len(block), size - written)
            f.write(memoryview(block)[:n])
            written += n
            counter += 1


def bench_size(size: int, work: Path, store: Path, repeat: int, disk: bool) -> dict[str, Any]:
    """Measure one file size; return medians, ratios and peak RSS."""
    path = work / f"airlock-bench-{size}.bin"
    generate(path, size)
    try:
        runs: dict[str, list[float]] = {
            "sha256sum": [],
            "hashlib": [],
            "ingest": [],
            "encrypt_only": [],
        }
        rss: list[float] = []
        for _ in range(repeat):
            seconds, digest = time_sha256sum(path)
            runs["sha256sum"].append(seconds)
            hashed = run_child(["--child", "hashlib", str(path)])
            runs["hashlib"].append(hashed["seconds"])
            ingested = run_child(["--child", "ingest", str(path), str(store)])
            runs["ingest"].append(ingested["seconds"])
            rss.append(ingested["peak_rss_mb"])
            encrypted = run_child(["--child", "encrypt", str(path)])
            runs["encrypt_only"].append(encrypted["seconds"])
            if not digest == hashed["sha256"] == ingested["sha256"] == encrypted["sha256"]:
                raise SystemExit("hashes disagree")
        med = {k: statistics.median(v) for k, v in runs.items()}
        best = {k: min(v) for k, v in runs.items()}
        result: dict[str, Any] = {
            "size_gib": size / GiB,
            "seconds": med,
            "runs": runs,
            "mb_per_s": {k: size / MiB / v for k, v in med.items()},
            "ingest_vs_hashlib": med["hashlib"] / med["ingest"],
            "ingest_vs_sha256sum": med["sha256sum"] / med["ingest"],
            "best_ingest_vs_best_hashlib": best["hashlib"] / best["ingest"],
            "encrypt_only_vs_hashlib": med["hashlib"] / med["encrypt_only"],
            "ingest_peak_rss_mb": max(rss),
            "load_average": os.getloadavg()[0],
        }
        if disk:
            disk_store = Path(tempfile.mkdtemp(prefix="airlock-bench-store-", dir=work))
            try:
                on_disk = run_child(["--child", "ingest", str(path), str(disk_store)])
            finally:
                shutil.rmtree(disk_store, ignore_errors=True)
            result["disk_ingest_mb_per_s"] = size / MiB / on_disk["seconds"]
            result["disk_ingest_peak_rss_mb"] = on_disk["peak_rss_mb"]
        return result
    finally:
        path.unlink(missing_ok=True)


def main() -> None:
    """Parse arguments, run every size and print a table and JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs="+")
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()))
    default_store = Path("/dev/shm") if Path("/dev/shm").is_dir() else None
    parser.add_argument("--store-dir", type=Path, default=default_store)
    parser.add_argument("--sizes", default="0.5,4", help="GiB, comma-separated")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--disk", action="store_true", help="also ingest into a store on --dir")
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        if kind == "hashlib":
            print(json.dumps(child_hashlib(Path(rest[0]))))
        elif kind == "encrypt":
            print(json.dumps(child_encrypt(Path(rest[0]))))
        else:
            print(json.dumps(child_ingest(Path(rest[0]), Path(rest[1]))))
        return
    store_root = args.store_dir or args.dir
    store = Path(tempfile.mkdtemp(prefix="airlock-bench-store-", dir=store_root))
    results = []
    try:
        for text in args.sizes.split(","):
            size = int(float(text) * GiB)
            r = bench_size(size, args.dir, store, args.repeat, args.disk)
            results.append(r)
            mbps = r["mb_per_s"]
            line = (
                f"{r['size_gib']:>4} GiB  sha256sum {mbps['sha256sum']:7.0f} MB/s  "
                f"hashlib {mbps['hashlib']:7.0f} MB/s  ingest {mbps['ingest']:7.0f} MB/s  "
                f"ingest/hashlib {r['ingest_vs_hashlib']:.2f}x  "
                f"ingest/sha256sum {r['ingest_vs_sha256sum']:.2f}x  "
                f"ingest peak RSS {r['ingest_peak_rss_mb']:.0f} MB  "
                f"(best-of ingest/hashlib {r['best_ingest_vs_best_hashlib']:.2f}x, "
                f"without the store write {r['encrypt_only_vs_hashlib']:.2f}x, "
                f"load {r['load_average']:.1f})"
            )
            if "disk_ingest_mb_per_s" in r:
                line += f"  (ingest to disk {r['disk_ingest_mb_per_s']:.0f} MB/s)"
            print(line, flush=True)
    finally:
        shutil.rmtree(store, ignore_errors=True)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(
        json.dumps(
            {
                "store": str(store_root),
                "results": results,
                "max_child_rss_mb": usage.ru_maxrss / 1024,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
