"""A real OpenAI-compatible HTTP server on loopback, scripted per request, for tests and bench.

It speaks just enough HTTP/1.1 (keep-alive, Content-Length bodies) to serve
``POST /v1/chat/completions``. A ``script`` callable maps the request's JSON to a ``Reply``:
an answer text, a status, or a misbehaviour (hang, endless stream, huge body, garbage). A
concurrency limit answers 429 (with Retry-After) above it; a fixed latency is slept before
every answer. It runs in its own thread and event loop, so sync tests and other event loops
(inspect_ai's) can use it alike.
"""

from __future__ import annotations

import asyncio
import functools
import gzip
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Reply:
    text: str | None = None  # a normal chat completion with this content
    status: int = 200
    # normal | hang | endless | huge | huge_undeclared | garbage | not_chat | raw | gzip | gzip_bomb
    mode: str = "normal"
    body: bytes = b""  # for mode "raw"
    retry_after: float | None = None


Script = Callable[[dict[str, Any]], Reply]


@functools.cache
def _gzip_bomb() -> bytes:
    """16 MiB of spaces in about 16 KiB of gzip (made once: compressing blocks the loop)."""
    return gzip.compress(b" " * (16 * 1024 * 1024), compresslevel=9)


def echo_script(request: dict[str, Any]) -> Reply:
    """Answer every request with a fixed polite text."""
    return Reply(text="Hello! Here is my answer.")


@dataclass
class Stats:
    requests: int = 0
    answered_200: int = 0
    answered_429: int = 0
    answered_other: int = 0
    max_in_flight: int = 0
    done_times: list[float] = field(default_factory=list)
    start_times: list[float] = field(default_factory=list)
    auth_headers: list[str] = field(default_factory=list)
    events: list[tuple[float, int]] = field(default_factory=list)  # (time, status) per answer


class LoopbackChatServer:
    """Start with ``with LoopbackChatServer(script) as server: server.base_url``."""

    def __init__(
        self,
        script: Script = echo_script,
        *,
        latency: float = 0.0,
        concurrency_limit: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.script = script
        self.latency = latency
        self.concurrency_limit = concurrency_limit
        self.retry_after = retry_after
        self.stats = Stats()
        self._in_flight = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> LoopbackChatServer:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("loopback server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        async def stop() -> None:
            if self._server is not None:
                self._server.close()
            for w in list(self._writers):
                w.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def start() -> None:
            self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0, backlog=1024)
            self.port = self._server.sockets[0].getsockname()[1]
            self._ready.set()

        self._loop.run_until_complete(start())
        self._loop.run_forever()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                headers: dict[str, str] = {}
                while True:
                    h = await reader.readline()
                    if h in (b"\r\n", b"\n", b""):
                        break
                    k, _, v = h.decode("latin-1").partition(":")
                    headers[k.strip().lower()] = v.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                await self._answer(body, headers, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            return
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _answer(
        self, body: bytes, headers: dict[str, str], writer: asyncio.StreamWriter
    ) -> None:
        stats = self.stats
        stats.requests += 1
        stats.auth_headers.append(headers.get("authorization", ""))
        if self.concurrency_limit is not None and self._in_flight >= self.concurrency_limit:
            stats.answered_429 += 1
            stats.events.append((time.monotonic(), 429))
            extra = {"Retry-After": f"{self.retry_after:g}"} if self.retry_after is not None else {}
            await self._send(writer, 429, b'{"error": {"message": "rate limited"}}', extra)
            return
        self._in_flight += 1
        stats.max_in_flight = max(stats.max_in_flight, self._in_flight)
        stats.start_times.append(time.monotonic())
        try:
            if self.latency:
                await asyncio.sleep(self.latency)
            try:
                request = json.loads(body)
            except json.JSONDecodeError:
                await self._send(writer, 400, b'{"error": "bad json"}')
                return
            reply = self.script(request)
            await self._reply(writer, request, reply)
        finally:
            self._in_flight -= 1

    async def _reply(
        self, writer: asyncio.StreamWriter, request: dict[str, Any], reply: Reply
    ) -> None:
        stats = self.stats
        if reply.mode == "hang":
            await asyncio.sleep(3600)
            return
        if reply.mode == "endless":
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n"
            )
            while True:
                chunk = b'data: {"choices": [{"delta": {"content": "more "}}]}\n\n'
                writer.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                await writer.drain()
                await asyncio.sleep(0.01)
        if reply.mode == "huge":
            size = 64 * 1024 * 1024
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {size}\r\n\r\n".encode()
            )
            block = b" " * 65536
            for _ in range(size // len(block)):
                writer.write(block)
                await writer.drain()
            return
        if reply.mode == "huge_undeclared":
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n"
            )
            block = b"[" * 65536
            for _ in range(1024):
                writer.write(f"{len(block):x}\r\n".encode() + block + b"\r\n")
                await writer.drain()
            return
        if reply.mode == "gzip":
            # Compressed although the client asked for identity: it must still be decoded.
            doc = {"choices": [{"message": {"role": "assistant", "content": reply.text}}]}
            await self._send(
                writer, 200, gzip.compress(json.dumps(doc).encode()), {"Content-Encoding": "gzip"}
            )
            stats.answered_200 += 1
            return
        if reply.mode == "gzip_bomb":
            await self._send(writer, 200, _gzip_bomb(), {"Content-Encoding": "gzip"})
            stats.answered_other += 1
            return
        if reply.mode == "garbage":
            await self._send(writer, 200, b"\x00\xffnot json at all<html>")
            stats.answered_other += 1
            return
        if reply.mode == "not_chat":
            await self._send(writer, 200, b'{"object": "list", "data": []}')
            stats.answered_other += 1
            return
        if reply.mode == "raw":
            await self._send(writer, reply.status, reply.body)
            stats.answered_other += 1
            return
        if reply.status != 200:
            extra = (
                {"Retry-After": f"{reply.retry_after:g}"} if reply.retry_after is not None else {}
            )
            await self._send(
                writer, reply.status, b'{"error": {"message": "scripted error"}}', extra
            )
            if reply.status == 429:
                stats.answered_429 += 1
            else:
                stats.answered_other += 1
            return
        doc = {
            "id": "chatcmpl-loopback",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request.get("model", "loopback"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": reply.text},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
        }
        await self._send(writer, 200, json.dumps(doc).encode())
        stats.answered_200 += 1
        stats.done_times.append(time.monotonic())
        stats.events.append((stats.done_times[-1], 200))

    @staticmethod
    async def _send(
        writer: asyncio.StreamWriter, status: int, body: bytes, extra: dict[str, str] | None = None
    ) -> None:
        reason = {
            200: "OK",
            400: "Bad Request",
            429: "Too Many Requests",
            500: "Internal Server Error",
        }
        head = [
            f"HTTP/1.1 {status} {reason.get(status, 'Status')}",
            "Content-Type: application/json",
        ]
        head.append(f"Content-Length: {len(body)}")
        head += [f"{k}: {v}" for k, v in (extra or {}).items()]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        await writer.drain()
