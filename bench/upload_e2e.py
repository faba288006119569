"""End-to-end upload benchmark: `airlock submit` against a real server, and a raw PUT baseline.

Usage: python bench/upload_e2e.py [--dir /tmp] [--sizes 1,4] [--backends local,s3]
       [--in-flight 4] [--chunk-mib 8]

For each size (GiB) a file of random bytes is generated in --dir. In the same run, for each
size: `curl -T FILE` to a minimal HTTP sink on loopback (reads the body, answers 200) is the
raw PUT; then `airlock submit` of a folder holding the file, against a fresh `airlock serve`
(SQLite, in-process jobs) with local storage in --dir, and with S3 on loopback (moto's server
in its own process). Each Airlock run gets its own server, so the server's peak RSS (from
wait4) is that run's; timing starts once the fresh server is idle (the demo's start-up jobs
done). Printed per run: seconds, MB/s, the ratio to the raw PUT, the client's and the server's
peak RSS, the chunks in flight, the CPU seconds each used during the upload (steadier than
seconds on a shared machine), and the load average before and after.
Every file and folder made is deleted at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GiB = 1024**3
MiB = 1024**2
HERE = Path(__file__).resolve()
BIN = Path(sys.executable).parent
PASSWORD = "airlock-demo-2026"
FIRM_ADMIN = "admin@northwind.example"
DRAFT = "Atlas-70B rc3 (draft)"


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_file(path: Path, size: int) -> str:
    """Write size random bytes to path; return their SHA-256."""
    h = hashlib.sha256()
    block = 64 * MiB
    with path.open("wb") as f:
        left = size
        while left:
            data = os.urandom(min(block, left))
            h.update(data)
            f.write(data)
            left -= len(data)
    return h.hexdigest()


# --- the raw PUT baseline -------------------------------------------------------------------


def sink_main(port: int) -> None:
    """A minimal HTTP sink: for each request read the headers and the body, answer 200."""
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(8)
    buf = bytearray(4 * MiB)
    view = memoryview(buf)
    while True:
        conn, _ = srv.accept()
        with conn:
            head = b""
            while b"\r\n\r\n" not in head:
                piece = conn.recv(65536)
                if not piece:
                    break
                head += piece
            top, _, rest = head.partition(b"\r\n\r\n")
            length = 0
            for line in top.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
                if name.strip().lower() == b"expect":
                    conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            left = length - len(rest)
            while left > 0:
                n = conn.recv_into(view, min(len(buf), left))
                if not n:
                    break
                left -= n
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


def wait_port(port: int, seconds: float = 180) -> None:
    """Wait until something listens on the port."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after {seconds} s")


def raw_put(path: Path) -> float:
    """Seconds for `curl -T path` to the sink."""
    port = free_port()
    sink = subprocess.Popen([sys.executable, str(HERE), "--sink", str(port)])
    try:
        wait_port(port)
        start = time.perf_counter()
        subprocess.run(
            [
                "curl",
                "-sS",
                "-o",
                "/dev/null",
                "-H",
                "Expect:",
                "-T",
                str(path),
                f"http://127.0.0.1:{port}/sink",
            ],
            check=True,
        )
        return time.perf_counter() - start
    finally:
        sink.terminate()
        sink.wait()


# --- Airlock --------------------------------------------------------------------------------


@dataclass
class Served:
    base: str
    proc: subprocess.Popen[bytes]
    token: str
    submission: str


def _api(base: str, method: str, path: str, body: Any = None, token: str = "") -> Any:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"{base}/api/v1{path}", data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read() or b"null")


PROFILE: dict[str, Path] = {}  # "dir": where py-spy writes the server's profile, if asked


@contextlib.contextmanager
def airlock_server(work: Path, env_extra: dict[str, str], chunk: int) -> Iterator[Served]:
    """A fresh `airlock serve` with the demo program; yields it; stops it and reaps it."""
    data = work / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRLOCK_")}
    env.update(
        AIRLOCK_DEV="1",
        AIRLOCK_DATA_DIR=str(data),
        AIRLOCK_COOKIE_SECURE="false",
        AIRLOCK_QUEUE_URL="inprocess://",
        AIRLOCK_UPLOAD_CHUNK_BYTES=str(chunk),
        AIRLOCK_INPROCESS_WORKERS="1",
        **env_extra,
    )
    for step in (["db", "upgrade"], ["demo", "seed"]):
        subprocess.run(
            [str(BIN / "airlock"), *step], env=env, cwd=work, check=True, capture_output=True
        )
    port = free_port()
    env["AIRLOCK_BASE_URL"] = f"http://127.0.0.1:{port}"
    log = (work / "server.log").open("ab")
    cmd = [str(BIN / "airlock"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    if "dir" in PROFILE:
        out = PROFILE["dir"] / f"server-{work.name}.txt"
        spy = shutil.which("py-spy") or str(BIN / "py-spy")
        cmd = [
            spy,
            "record",
            "--format",
            "raw",
            "--nolineno",
            "-r",
            "97",
            "-o",
            str(out),
            "--",
            *cmd,
        ]
    proc = subprocess.Popen(cmd, env=env, cwd=work, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_port(port)
        token = _api(
            base,
            "POST",
            "/auth/token",
            {"email": FIRM_ADMIN, "password": PASSWORD, "token_name": "bench"},
        )["secret"]
        subs = _api(base, "GET", "/submissions", token=token)
        sid = next(s["id"] for s in subs if s["state"] == "draft")
        settle(proc.pid)
        yield Served(base, proc, token, sid)
    finally:
        if proc.returncode is None:
            proc.kill()
            proc.wait()
        log.close()


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far; NaN where /proc is missing."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def settle(pid: int, seconds: float = 90) -> None:
    """Wait until a fresh server is idle: the demo's start-up jobs (scans, checks) run in its
    in-process workers, and timing an upload while they run measures them too."""
    deadline = time.monotonic() + seconds
    before = cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = cpu_seconds(pid)
        if not now - before > 0.05:  # also stops at once without /proc (NaN)
            return
        before = now


def stop_for_rss(proc: subprocess.Popen[bytes]) -> float:
    """Stop the server and return its peak RSS in MB (ru_maxrss from wait4)."""
    proc.send_signal(signal.SIGINT)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = status  # reaped here: Popen must not wait for it again
    return usage.ru_maxrss / 1024


def airlock_submit(
    path: Path, sha: str, work: Path, env_extra: dict[str, str], in_flight: int, chunk: int
) -> dict[str, Any]:
    """One `airlock submit` of a folder holding path; timings and peak memory of both ends."""
    folder = work / "model"
    folder.mkdir()
    os.link(path, folder / "model.safetensors")
    with airlock_server(work, env_extra, chunk) as srv:
        cmd = [
            str(BIN / "airlock"),
            "submit",
            str(folder),
            "--server",
            srv.base,
            "--token",
            srv.token,
            "--submission",
            srv.submission,
        ]
        if in_flight:  # 0: a client from before parallel uploads, which has no such option
            cmd += ["--in-flight", str(in_flight)]
        output = work / "submit.log"
        with output.open("wb") as log:
            server_cpu = cpu_seconds(srv.proc.pid)
            start = time.perf_counter()
            client = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
            _, status, usage = os.wait4(client.pid, 0)
            seconds = time.perf_counter() - start
            server_cpu = cpu_seconds(srv.proc.pid) - server_cpu
            client.returncode = status
        client_rss = usage.ru_maxrss / 1024
        client_cpu = usage.ru_utime + usage.ru_stime
        if status != 0:
            raise RuntimeError(f"airlock submit failed ({status}):\n{output.read_text()[-3000:]}")
        manifest = _api(
            srv.base, "GET", f"/submissions/{srv.submission}/artifacts", token=srv.token
        )
        stored = {a["name"]: a["sha256"] for a in manifest["artifacts"]}
        if stored.get("model.safetensors") != sha:
            raise RuntimeError(f"stored hash {stored} differs from the file's {sha}")
        server_rss = stop_for_rss(srv.proc)
    return {
        "seconds": seconds,
        "client_rss": client_rss,
        "server_rss": server_rss,
        "client_cpu": client_cpu,
        "server_cpu": server_cpu,
    }


@contextlib.contextmanager
def moto_server(work: Path) -> Iterator[dict[str, str]]:
    """moto's S3 server in its own process on loopback; yields the server's S3 settings."""
    import boto3

    port = free_port()
    creds = {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    env = {**os.environ, **creds, "TMPDIR": str(work)}
    proc = subprocess.Popen(
        [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_port(port)
        endpoint = f"http://127.0.0.1:{port}"
        bucket = "airlock-bench"
        boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
        ).create_bucket(Bucket=bucket)
        yield {**creds, "AIRLOCK_STORAGE_URL": f"s3://{bucket}/vault?endpoint_url={endpoint}"}
    finally:
        proc.terminate()
        proc.wait()


def summarize(path: Path, top: int = 18) -> None:
    """Print where a py-spy raw profile spent its samples: by function, self and inclusive."""
    own: dict[str, int] = {}
    incl: dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [
            f.split(" (")[0] + " " + f.rsplit("/", 1)[-1].rstrip(")") for f in stack.split(";")
        ]
        # idle threads (waiting for work or sockets) are not where the time goes
        if any(w in frames[-1] for w in ("wait ", "select ", "_worker ", "acquire ", "poll ")):
            continue
        total += n
        own[frames[-1]] = own.get(frames[-1], 0) + n
        for f in set(frames):
            incl[f] = incl.get(f, 0) + n
    print(f"{path.name}: {total} busy samples")
    print("self:")
    for f, n in sorted(own.items(), key=lambda kv: -kv[1])[:top]:
        print(f"  {100 * n / total:5.1f}%  {f}")
    print("inclusive (airlock and the web stack):")
    keep = ("airlock", "starlette", "uvicorn", "h11", "fastapi", "sqlalchemy")
    for f, n in sorted(incl.items(), key=lambda kv: -kv[1])[:200]:
        if any(k in f for k in keep) and n / total > 0.02:
            print(f"  {100 * n / total:5.1f}%  {f}")


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--sizes", default="1,4", help="GiB, comma-separated")
    parser.add_argument("--backends", default="local,s3")
    parser.add_argument("--in-flight", type=int, default=4)
    parser.add_argument("--chunk-mib", type=int, default=8)
    parser.add_argument("--profile", type=Path, help="write py-spy profiles of the server here")
    parser.add_argument("--no-baseline", action="store_true", help="skip the raw PUT")
    parser.add_argument("--sink", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--summarize", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sink:
        sink_main(args.sink)
        return
    if args.summarize:
        summarize(args.summarize)
        return
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
        PROFILE["dir"] = args.profile
    chunk = args.chunk_mib * MiB
    root = Path(tempfile.mkdtemp(prefix="airlock-upload-bench-", dir=args.dir))
    rows: list[dict[str, Any]] = []
    print(f"load average before: {os.getloadavg()}", flush=True)
    try:
        for size_gib in [float(x) for x in args.sizes.split(",")]:
            size = int(size_gib * GiB)
            path = root / f"random-{size_gib:g}g.bin"
            sha = make_file(path, size)
            raw = float("nan") if args.no_baseline else raw_put(path)
            rows.append(
                {
                    "size": size_gib,
                    "what": "curl -T to sink",
                    "seconds": raw,
                    "mbps": size / raw / 1e6,
                    "ratio": 1.0,
                }
            )
            print(json.dumps(rows[-1]), flush=True)
            for backend in args.backends.split(","):
                work = root / f"{backend}-{size_gib:g}"
                work.mkdir()
                with contextlib.ExitStack() as stack:
                    extra = stack.enter_context(moto_server(work)) if backend == "s3" else {}
                    got = airlock_submit(path, sha, work, extra, args.in_flight, chunk)
                rows.append(
                    {
                        "size": size_gib,
                        "what": f"airlock submit, {backend}",
                        **got,
                        "mbps": size / got["seconds"] / 1e6,
                        "ratio": raw / got["seconds"],
                        "in_flight": args.in_flight,
                    }
                )
                print(json.dumps(rows[-1]), flush=True)
                shutil.rmtree(work, ignore_errors=True)
            path.unlink()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"load average after: {os.getloadavg()}")
    print()
    print(
        "| size | what | s | MB/s | x raw PUT | client peak MB | server peak MB | in flight "
        "| client CPU s | server CPU s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    nan = float("nan")
    for r in rows:
        print(
            f"| {r['size']:g} GiB | {r['what']} | {r['seconds']:.1f} | {r['mbps']:.0f} | "
            f"{r['ratio']:.2f}x | {r.get('client_rss', nan):.0f} | "
            f"{r.get('server_rss', nan):.0f} | {r.get('in_flight', '')} | "
            f"{r.get('client_cpu', nan):.1f} | {r.get('server_cpu', nan):.1f} |"
        )


if __name__ == "__main__":
    main()
