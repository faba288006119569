"""Send one file to an Airlock server: several chunks in flight, hashed while it is sent.

Used by `airlock submit` and `AirlockClient.upload_artifact`; it needs httpx alone. The file is
read once, in order: each chunk is hashed into the file's SHA-256 and, unless the server has it
already, handed to one of `in_flight` sender threads sharing a pool of keep-alive connections.
The server takes chunks in any order; the hash goes with the completion. An interrupted upload
resumes: declaring the same name and size returns the open session with the chunks it lacks.

Errors: a connection lost or a 502/503/504 (a proxy or a server restarting) is retried with
backoff and reported at once through `notice`; any other 5xx is a fault retrying cannot fix, so
it stops the upload at once with the server's message; a 4xx stops it with the server's words.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Final

import httpx

DEFAULT_IN_FLIGHT: Final = 4
# A chunk is read, hashed and sent in pieces of this size: small enough to be reused by the
# allocator (no page faults) and sent whole by one system call, large enough to be cheap.
PIECE_BYTES: Final = 1024 * 1024
RETRIES: Final = 6
MAX_DELAY: Final = 8.0
# Answers that a later attempt may not get: a proxy, a gateway, a server restarting.
RETRYABLE: Final = frozenset({502, 503, 504})

Notice = Callable[[str], None]


class TransferError(Exception):
    """The server refused the upload or failed; the message says which and why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Sent:
    """What sending a file did."""

    artifact: dict[str, Any]
    sha256: str
    resumed_chunks: int
    sent_chunks: int
    in_flight: int


def detail(r: httpx.Response) -> str:
    """The server's explanation of a refusal."""
    try:
        body = r.json()
    except ValueError:
        return r.text[:300] or r.reason_phrase
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        return str(body["detail"])
    return r.text[:300]


def call(
    send: Callable[[], httpx.Response], *, what: str, notice: Notice, retries: int = RETRIES
) -> httpx.Response:
    """Send; retry what retrying can fix, say so at once; raise TransferError otherwise."""
    delay = 0.5
    for attempt in range(retries + 1):
        try:
            r = send()
        except httpx.TransportError as exc:
            if attempt == retries:
                raise TransferError(0, f"{what}: the connection failed ({exc})") from None
            notice(f"{what}: the connection failed ({exc}); retrying in {delay:g} s")
        else:
            if r.status_code < 400:
                return r
            if r.status_code < 500:
                raise TransferError(r.status_code, f"{r.status_code}: {detail(r)}")
            if r.status_code not in RETRYABLE or attempt == retries:
                raise TransferError(
                    r.status_code, f"the server failed ({r.status_code}) on {what}: {detail(r)}"
                )
            notice(f"{what}: the server answered {r.status_code}; retrying in {delay:g} s")
        time.sleep(delay)
        delay = min(delay * 2, MAX_DELAY)
    raise AssertionError("unreachable")


def _missing(up: dict[str, Any]) -> set[int]:
    if "missing" in up:
        return {i for start, end in up["missing"] for i in range(int(start), int(end))}
    # A server from before parallel uploads: chunks arrive in order from next_index on.
    first = up["next_index"]
    return set() if first is None else set(range(int(first), int(up["chunks_total"])))


def _read_hashed(f: BinaryIO, length: int, digest: Any) -> list[bytes]:
    """Read length bytes in pieces of PIECE_BYTES, hashing each (fewer if the file ends)."""
    pieces: list[bytes] = []
    left = length
    while left:
        piece = f.read(min(PIECE_BYTES, left))
        if not piece:
            break
        # hashlib releases the GIL: hashing overlaps with the chunks being sent.
        digest.update(piece)
        pieces.append(piece)
        left -= len(piece)
    return pieces


def send_file(
    http: httpx.Client,
    *,
    submission_id: str,
    path: Path,
    name: str,
    kind: str,
    media_type: str = "",
    in_flight: int = DEFAULT_IN_FLIGHT,
    advance: Callable[[int], None] = lambda n: None,
    notice: Notice = lambda message: None,
    api: str = "/api/v1",
) -> Sent:
    """Upload path as `name` into a submission and return the stored artifact's JSON."""
    in_flight = max(1, in_flight)
    size = path.stat().st_size
    body = {"name": name, "kind": kind, "media_type": media_type, "size": size}
    up: dict[str, Any] = call(
        lambda: http.post(f"{api}/submissions/{submission_id}/uploads", json=body),
        what=f"declaring {name}",
        notice=notice,
    ).json()
    upload_id = str(up["id"])
    chunk = int(up["chunk_bytes"])
    total = int(up["chunks_total"])
    missing = _missing(up)
    resumed = total - len(missing)
    digest = hashlib.sha256()
    slots = threading.BoundedSemaphore(in_flight)
    failed = threading.Event()

    def put(index: int, pieces: list[bytes], length: int) -> None:
        try:
            if failed.is_set():
                return
            url = f"{api}/uploads/{upload_id}/chunks/{index}"
            # The chunk goes as the pieces it was read in, with its length declared (so not
            # chunked encoding): one bytes object of the whole chunk would be copied again by
            # every partial send (httpcore sends `buffer[n:]`), and held several times over.
            headers = {"Content-Type": "application/octet-stream", "Content-Length": str(length)}
            call(
                lambda: http.put(url, content=pieces, headers=headers),
                what=f"chunk {index} of {name}",
                notice=notice,
            )
            advance(length)
        except BaseException:
            failed.set()
            raise
        finally:
            slots.release()

    futures: list[Future[None]] = []
    with (
        ThreadPoolExecutor(in_flight, thread_name_prefix="airlock-upload") as pool,
        path.open("rb", buffering=0) as f,
    ):
        for index in range(total):
            length = min(chunk, size - index * chunk)
            pieces = _read_hashed(f, length, digest)
            if sum(map(len, pieces)) != length:
                failed.set()
                raise TransferError(0, f"{name} shrank while it was being sent; send it again")
            if index not in missing:
                advance(length)
                continue
            slots.acquire()
            if failed.is_set():
                slots.release()
                break
            futures.append(pool.submit(put, index, pieces, length))
        if not failed.is_set() and f.read(1):
            failed.set()
            raise TransferError(0, f"{name} grew while it was being sent; send it again")
    for fut in futures:
        exc = fut.exception()
        if exc is not None:
            raise exc
    sha256 = digest.hexdigest()
    url = f"{api}/uploads/{upload_id}/complete"
    try:
        r = call(
            lambda: http.post(url, json={"sha256": sha256}, timeout=3600),
            what=f"completing {name}",
            notice=notice,
        )
        artifact: dict[str, Any] = r.json()
    except TransferError as exc:
        if exc.status != 409:
            raise
        # An earlier attempt may have completed it before its answer was lost.
        status = http.get(f"{api}/uploads/{upload_id}").json()
        if status.get("state") != "completed" or not status.get("artifact_id"):
            raise
        artifact = http.get(f"{api}/artifacts/{status['artifact_id']}").json()
    return Sent(artifact, sha256, resumed, total - resumed, in_flight)
