"""Probe throughput: the engine's adaptive client against inspect_ai's OpenAI provider.

    .venv/bin/python bench/probe_throughput.py [--latency 0.2] [--concurrency 16] [--limit 24]

A loopback OpenAI-compatible server answers every request after a fixed latency and answers
429 when more than ``--limit`` requests are in flight. Three measurements, in one run:

1. below the limit: the engine at ``--concurrency`` (< limit); completed requests/s against
   the ideal concurrency / latency;
2. above the limit: the engine allowed 4 x limit in flight; how the adaptive limit settles
   (share of answers that are 429 after the first ``--settle`` seconds, throughput against
   limit / latency, the limit's range after settling);
3. the workload of (1) through inspect_ai's OpenAI-compatible provider
   (``openai-api/<service>/<model>`` with a base URL: chat completions), max_connections =
   ``--concurrency``, as the baseline; and of (2) too with ``--inspect-above`` (slow).

Throughput is measured by the server (first request received to last answer sent), so
neither client's start-up is counted. Timing is never asserted in tests; read figures here.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from airlock.probes.engine.limiter import AdaptiveLimiter  # noqa: E402
from airlock.probes.engine.packs import Message  # noqa: E402
from airlock.probes.engine.targets import EndpointLimits, OpenAIChatTarget  # noqa: E402
from tests.support.openai_loopback import LoopbackChatServer, Reply, Stats  # noqa: E402

PROMPT = [Message("user", "Say something short.")]


def answer(request: dict[str, Any]) -> Reply:
    return Reply(text="A short answer.")


class ServerProcess:
    """The loopback server in a child process, so client and server do not share one GIL."""

    def __init__(self, latency: float, limit: int) -> None:
        self.latency, self.limit = latency, limit
        ctx = multiprocessing.get_context("fork")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=self._serve, args=(child, latency, limit), daemon=True)
        self.stats: Stats = Stats()
        self.base_url = ""

    @staticmethod
    def _serve(conn: Any, latency: float, limit: int) -> None:
        with LoopbackChatServer(answer, latency=latency, concurrency_limit=limit) as server:
            conn.send(server.base_url)
            conn.recv()
            conn.send(server.stats)

    def __enter__(self) -> ServerProcess:
        self._proc.start()
        self.base_url = self._conn.recv()
        return self

    def __exit__(self, *exc: object) -> None:
        self._conn.send("stop")
        self.stats = self._conn.recv()
        self._proc.join(10)


def server_rate(server: ServerProcess) -> float:
    stats = server.stats
    if not stats.done_times:
        return 0.0
    span = max(stats.done_times) - min(stats.start_times)
    return len(stats.done_times) / span


async def _engine(url: str, n: int, maximum: int, initial: int) -> OpenAIChatTarget:
    target = OpenAIChatTarget(
        base_url=url,
        model="bench",
        limiter=AdaptiveLimiter(initial=initial, maximum=maximum),
        limits=EndpointLimits(request_timeout=30, retries=8, backoff_base=0.05, backoff_cap=1.0),
    )
    remaining = n

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await target.complete(PROMPT, max_tokens=16)

    await asyncio.gather(*(worker() for _ in range(maximum)))
    await target.aclose()
    return target


async def _raw(url: str, n: int, concurrency: int) -> None:
    payload = {"model": "bench", "messages": [{"role": "user", "content": PROMPT[0].content}]}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits) as client:
        remaining = n

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                (await client.post(url + "/chat/completions", json=payload)).json()

        await asyncio.gather(*(worker() for _ in range(concurrency)))


def run_raw(latency: float, limit: int, n: int, concurrency: int) -> ServerProcess:
    with ServerProcess(latency, limit) as server:
        asyncio.run(_raw(server.base_url, n, concurrency))
    return server


def run_engine(latency: float, limit: int, n: int, maximum: int, initial: int) -> dict[str, Any]:
    with ServerProcess(latency, limit) as server:
        started = time.monotonic()
        target = asyncio.run(_engine(server.base_url, n, maximum, initial))
        wall = time.monotonic() - started
    return {"server": server, "target": target, "wall": wall}


def run_inspect(latency: float, limit: int, n: int, connections: int) -> dict[str, Any]:
    from inspect_ai import Task
    from inspect_ai import eval as inspect_eval
    from inspect_ai.dataset import Sample
    from inspect_ai.solver import generate

    os.environ.setdefault("LOOPBACK_API_KEY", "bench-not-a-real-key")
    task = Task(
        dataset=[Sample(input=PROMPT[0].content, target="x") for _ in range(n)], solver=generate()
    )
    with ServerProcess(latency, limit) as server:
        started = time.monotonic()
        with tempfile.TemporaryDirectory() as logs:
            [log] = inspect_eval(
                task,
                model="openai-api/loopback/bench",  # chat completions, not the Responses API
                model_base_url=server.base_url,
                max_connections=connections,
                max_samples=connections,
                max_tokens=16,
                log_dir=logs,
                display="none",
            )
            if log.status != "success":
                raise SystemExit(f"inspect_ai run failed: {log.error and log.error.message}")
        wall = time.monotonic() - started
    return {"server": server, "wall": wall}


def share_429_after(server: ServerProcess, settle: float) -> tuple[float, int]:
    events = server.stats.events
    if not events:
        return 0.0, 0
    t0 = min(server.stats.start_times) if server.stats.start_times else events[0][0]
    late = [status for t, status in events if t - t0 >= settle]
    return (sum(s == 429 for s in late) / len(late) if late else 0.0), len(late)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--limit", type=int, default=24)
    parser.add_argument("--requests", type=int, default=800)
    parser.add_argument("--settle", type=float, default=3.0)
    parser.add_argument("--no-inspect", action="store_true")
    parser.add_argument(
        "--inspect-above", action="store_true", help="also run inspect_ai above the limit (slow)"
    )
    args = parser.parse_args()
    lat, c, lim, n = args.latency, args.concurrency, args.limit, args.requests
    ideal = c / lat
    print(f"server: latency {lat * 1000:.0f} ms, 429 above {lim} in flight; {n} requests per phase")

    raw = server_rate(run_raw(lat, lim, n, c))
    print(
        f"\n0. this machine's floor: bare httpx, fixed {c} in flight, no limiter/retries/"
        f"parsing: {raw:.1f} req/s = {raw / ideal:.1%} of ideal"
    )
    below = run_engine(lat, lim, n, maximum=c, initial=min(16, c))
    rate_below = server_rate(below["server"])
    print(
        f"\n1. engine below the limit (max {c} in flight): {rate_below:.1f} req/s server-side, "
        f"ideal {ideal:.1f} -> {rate_below / ideal:.1%} of ideal "
        f"(wall {below['wall']:.2f} s, 429s {below['server'].stats.answered_429})"
    )

    above = run_engine(lat, lim, int(n * 1.5), maximum=4 * lim, initial=16)
    stats = above["server"].stats
    share, late_n = share_429_after(above["server"], args.settle)
    history = [v for t, v in above["target"].limiter.history if t >= args.settle]
    rate_above = server_rate(above["server"])
    print(
        f"\n2. engine above the limit (allowed {4 * lim} in flight, server limit {lim}):"
        f"\n   429 share after {args.settle:g} s: {share:.2%} of {late_n} answers"
        f" (whole run: {stats.answered_429} of {stats.requests}, "
        f"{stats.answered_429 / max(1, stats.requests):.2%})"
        f"\n   throughput {rate_above:.1f} req/s = {rate_above / (lim / lat):.1%} of limit/latency "
        f"({lim / lat:.1f}); adaptive limit after settling "
        f"{min(history, default=0):.1f}..{max(history, default=0):.1f}; "
        f"peak in flight at server {stats.max_in_flight}"
    )

    if args.no_inspect:
        return
    base = run_inspect(lat, lim, n, connections=c)
    rate_inspect = server_rate(base["server"])
    print(
        f"\n3. inspect_ai openai provider, same workload as 1 (max_connections {c}): "
        f"{rate_inspect:.1f} req/s server-side = {rate_inspect / ideal:.1%} of ideal "
        f"(wall {base['wall']:.2f} s incl. start-up; server saw {base['server'].stats.requests} "
        f"requests, peak {base['server'].stats.max_in_flight} in flight)"
        f"\n   engine / inspect_ai = {rate_below / rate_inspect:.2f}x server-side, "
        f"{base['wall'] / below['wall']:.2f}x by wall time"
    )
    if not args.inspect_above:
        return
    base_above = run_inspect(lat, lim, int(n * 1.5), connections=4 * lim)
    s2 = base_above["server"].stats
    share_i, late_i = share_429_after(base_above["server"], args.settle)
    print(
        f"   inspect_ai above the limit (max_connections {4 * lim}): 429 share after "
        f"{args.settle:g} s {share_i:.2%} of {late_i}; whole run {s2.answered_429} of "
        f"{s2.requests}; throughput {server_rate(base_above['server']):.1f} req/s"
    )


if __name__ == "__main__":
    main()
