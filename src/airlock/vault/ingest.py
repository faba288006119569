"""Encrypt a stream of plaintext blocks into the blob store, hashing it in the same pass."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from airlock.core.ports import BlobStore
from airlock.vault.crypto import BytesLike, StreamEncryptor

READ_BYTES: Final = 8 * 1024 * 1024


@dataclass(frozen=True)
class Stored:
    """What was stored: plaintext size and SHA-256, and the bytes the store holds."""

    size: int
    sha256: str
    stored_bytes: int


def read_blocks(path: Path, *, block_bytes: int = READ_BYTES) -> Iterator[memoryview]:
    """Yield a file's content in large blocks read into two alternating buffers.

    A block stays valid until the block after next is requested, so the encryptor can hash one
    block while the next is read (StreamEncryptor honours that).
    """
    bufs = (bytearray(block_bytes), bytearray(block_bytes))
    with path.open("rb", buffering=0) as f:
        turn = 0
        while n := f.readinto(bufs[turn]):
            yield memoryview(bufs[turn])[:n]
            turn ^= 1


def encrypt_into_store(
    store: BlobStore, key: str, blocks: Iterable[BytesLike], *, data_key: bytes, artifact_id: str
) -> Stored:
    """Encrypt blocks under data_key and store them atomically under key."""
    enc = StreamEncryptor(data_key, artifact_id=artifact_id)
    written = store.put(key, enc.encrypt(blocks, reuse_after=store.max_held_chunks))
    return Stored(size=enc.size, sha256=enc.sha256, stored_bytes=written)
