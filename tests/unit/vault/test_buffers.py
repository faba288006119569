"""The chunk path's buffer pool: reuse, sizes, and a bound on what it keeps."""

from __future__ import annotations

from airlock.vault.buffers import BufferPool


def test_a_buffer_given_back_is_taken_again_when_it_is_large_enough() -> None:
    pool = BufferPool(keep=2)
    buf = pool.take(100)
    assert len(buf) == 100
    pool.give(buf)
    assert pool.take(80) is buf
    assert len(pool.take(200)) == 200  # none large enough: a new one


def test_the_pool_keeps_at_most_keep_buffers_dropping_the_smallest() -> None:
    pool = BufferPool(keep=2)
    for size in (10, 30, 20):
        pool.give(bytearray(size))
    assert pool.kept_bytes == 50


def test_a_borrowed_buffer_comes_back_even_when_the_block_fails() -> None:
    pool = BufferPool(keep=1)
    try:
        with pool.borrowed(64) as buf:
            raise RuntimeError("sealing failed")
    except RuntimeError:
        pass
    assert pool.take(64) is buf
