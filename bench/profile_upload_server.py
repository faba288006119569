"""Where the server's time goes on an upload: cProfile over the vault flows, in one thread.

Usage: python bench/profile_upload_server.py [--mib 256] [--chunk-mib 8] [--dir /tmp]

Runs the work a server does for one upload (every chunk, then the completion) through
`airlock.vault.flows` on a fresh SQLite database and a local store in --dir, without HTTP, under
cProfile, and prints the functions with the most own time and the flows' cumulative times. Run
it from a checkout before and after a change (PYTHONPATH=that/src:that) to compare; it works
with the flows of before parallel uploads (hash declared first, chunks in order) and after.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import inspect
import os
import pstats
import shutil
import tempfile
import time
from pathlib import Path

MiB = 1024 * 1024


def main() -> None:
    """Profile one upload and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--chunk-mib", type=int, default=8)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()))
    args = parser.parse_args()

    from airlock.bootstrap import build
    from airlock.core.migrate import upgrade
    from airlock.settings import Settings
    from airlock.vault import flows
    from tests.factories.program import make_program

    root = Path(tempfile.mkdtemp(prefix="airlock-profile-", dir=args.dir))
    try:
        url = f"sqlite:///{root / 'airlock.db'}"
        upgrade(url)
        chunk = args.chunk_mib * MiB
        settings = Settings(  # type: ignore[call-arg]
            dev=True,
            database_url=url,
            data_dir=root / "data",
            upload_chunk_bytes=chunk,
            max_artifact_bytes=64 * 1024**3,
        )
        container = build(settings)
        prog = make_program(container)
        firm = prog.actors["firm_a_admin"]
        data = os.urandom(args.mib * MiB)
        chunks = [data[i : i + chunk] for i in range(0, len(data), chunk)]
        digest = hashlib.sha256(data).hexdigest()
        new_api = "sha256" in inspect.signature(flows.complete_upload).parameters
        profile = cProfile.Profile()
        start = time.perf_counter()
        profile.enable()
        up = flows.declare_upload(
            container.uow,
            actor=firm,
            submission_id=prog.ids["draft_a"],
            name="model.safetensors",
            kind="weights",  # type: ignore[arg-type]
            media_type="application/octet-stream",
            size=len(data),
            sha256="" if new_api else digest,
        )
        for index, piece in enumerate(chunks):
            buf = bytearray(piece)  # what the route hands over
            flows.put_chunk(container.uow, actor=firm, upload_id=up.id, index=index, data=buf)
        if new_api:
            art = flows.complete_upload(container.uow, actor=firm, upload_id=up.id, sha256=digest)
        else:
            art = flows.complete_upload(container.uow, actor=firm, upload_id=up.id)
        profile.disable()
        seconds = time.perf_counter() - start
        assert art.sha256 == digest
        container.close()
        print(
            f"{args.mib} MiB in {len(chunks)} chunks: {seconds:.2f} s under cProfile, "
            f"{args.mib * MiB / seconds / 1e6:.0f} MB/s; load average {os.getloadavg()}"
        )
        stats = pstats.Stats(profile)
        stats.sort_stats("tottime").print_stats(14)
        stats.sort_stats("cumulative").print_stats(r"vault/(flows|service|crypto|digests)")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
