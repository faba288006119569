"""The file's SHA-256 as chunks arrive in any order, from several threads at once."""

from __future__ import annotations

import hashlib
import os
import random
import threading
from collections.abc import Callable

from airlock.vault.digests import RunningDigests


def test_chunks_in_any_order_from_many_threads_hash_to_the_file() -> None:
    chunks = [os.urandom(random.randint(1, 300_000)) for _ in range(64)]
    order = list(range(64))
    random.Random(16).shuffle(order)
    running = RunningDigests()
    threads = [threading.Thread(target=running.offer, args=("up", i, chunks[i])) for i in order]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    hashed, digest = running.take("up")
    assert hashed == 64
    assert digest.hexdigest() == hashlib.sha256(b"".join(chunks)).hexdigest()
    assert running.held_bytes == 0


def test_over_the_budget_the_prefix_stops_where_a_chunk_was_let_go() -> None:
    running = RunningDigests(budget_bytes=10)
    running.offer("up", 2, b"c" * 8)  # kept
    running.offer("up", 3, b"d" * 8)  # over the budget: read back at completion
    running.offer("up", 2, b"c" * 8)  # a resend of a kept chunk changes nothing
    running.offer("up", 0, b"a" * 8)  # the next one is always hashed
    running.offer("up", 1, b"b" * 8)
    running.offer("up", 0, b"x" * 8)  # already hashed: ignored
    hashed, digest = running.take("up")
    assert hashed == 3
    assert digest.hexdigest() == hashlib.sha256(b"a" * 8 + b"b" * 8 + b"c" * 8).hexdigest()
    assert running.held_bytes == 0
    assert running.take("unknown")[0] == 0


def test_each_offered_buffer_is_released_once_when_no_longer_needed() -> None:
    released: list[str] = []

    def mark(name: str) -> Callable[[], None]:
        return lambda: released.append(name)

    running = RunningDigests(budget_bytes=10)
    running.offer("up", 1, b"b" * 8, mark("early"))
    assert released == []  # kept until chunk 0 is hashed
    running.offer("up", 2, b"c" * 8, mark("over budget"))
    assert released == ["over budget"]
    running.offer("up", 0, b"a" * 8, mark("next"))
    assert released == ["over budget", "next", "early"]
    running.offer("up", 0, b"a" * 8, mark("resend"))
    assert released[-1] == "resend"
    running.offer("other", 5, b"e" * 8, mark("forgotten"))
    running.forget("other")
    assert released[-1] == "forgotten" and len(released) == 5
    running.offer("up", 4, b"e" * 8, mark("taken"))
    running.take("up")
    assert released[-1] == "taken" and running.held_bytes == 0


def test_chunks_after_one_let_go_are_not_kept_since_they_are_read_back_anyway() -> None:
    running = RunningDigests(budget_bytes=20)
    running.offer("up", 2, b"c" * 8)
    running.offer("up", 4, b"e" * 8)
    running.offer("up", 3, b"d" * 8)  # over the budget: let go, and 4 with it
    assert running.held_bytes == 8
    running.offer("up", 5, b"f" * 8)  # after the gap: not kept
    assert running.held_bytes == 8
    running.offer("up", 0, b"a" * 8)
    running.offer("up", 1, b"b" * 8)
    running.offer("up", 3, b"d" * 8)  # sent again: the prefix passes the gap
    hashed, digest = running.take("up")
    assert hashed == 4
    expected = b"a" * 8 + b"b" * 8 + b"c" * 8 + b"d" * 8
    assert digest.hexdigest() == hashlib.sha256(expected).hexdigest()
