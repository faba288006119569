"""Chunked AES-256-GCM streams: round trips and every kind of tampering."""

from __future__ import annotations

import hashlib
import os

import pytest

from airlock.vault.crypto import (
    HEADER,
    TAG_BYTES,
    StreamEncryptor,
    VaultIntegrityError,
    decrypt_stream,
    encrypted_size,
    new_key,
    seal_into,
    unwrap_data_key,
    wrap_data_key,
)

CHUNK = 1024


def encrypt(data: bytes, key: bytes, artifact_id: str = "art-1", block: int = 700) -> bytes:
    enc = StreamEncryptor(key, artifact_id=artifact_id, chunk_size=CHUNK)
    blocks = [data[i : i + block] for i in range(0, len(data), block)]
    out = b"".join(enc.encrypt(blocks))
    assert enc.size == len(data)
    assert enc.sha256 == hashlib.sha256(data).hexdigest()
    return out


def decrypt(stored: bytes, key: bytes, artifact_id: str = "art-1", block: int = 333) -> bytes:
    blocks = [stored[i : i + block] for i in range(0, len(stored), block)]
    return b"".join(decrypt_stream(key, blocks, artifact_id=artifact_id))


def chunks_of(stored: bytes) -> tuple[bytes, list[bytes]]:
    body = stored[HEADER.size :]
    step = CHUNK + TAG_BYTES
    return stored[: HEADER.size], [body[i : i + step] for i in range(0, len(body), step)]


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 5 * CHUNK + 17])
@pytest.mark.parametrize("block", [1, 100, CHUNK, 4 * CHUNK + 3])
def test_round_trip_for_any_size_and_block_split(size: int, block: int) -> None:
    key = new_key()
    data = os.urandom(size)
    stored = encrypt(data, key, block=block)
    assert len(stored) == encrypted_size(size, CHUNK)
    assert decrypt(stored, key, block=block) == data


def test_large_blocks_use_threaded_hash_and_still_round_trip() -> None:
    key = new_key()
    data = os.urandom(3 * 1024 * 1024 + 5)
    enc = StreamEncryptor(key, artifact_id="big")
    stored = b"".join(enc.encrypt([data[:1_000_000], bytearray(data[1_000_000:]), b""]))
    assert enc.sha256 == hashlib.sha256(data).hexdigest()
    assert b"".join(decrypt_stream(key, [stored], artifact_id="big")) == data


def test_ciphertext_reveals_no_plaintext() -> None:
    data = b"secret weights " * 500
    stored = encrypt(data, new_key())
    assert b"secret weights" not in stored


def test_flipped_bit_fails_at_the_altered_chunk() -> None:
    key = new_key()
    stored = bytearray(encrypt(os.urandom(5 * CHUNK), key))
    stored[HEADER.size + 3 * (CHUNK + TAG_BYTES) + 10] ^= 0x01
    with pytest.raises(
        VaultIntegrityError, match="chunk 3 of artifact art-1 failed authentication"
    ):
        decrypt(bytes(stored), key)


def test_truncation_at_a_chunk_boundary_is_detected() -> None:
    key = new_key()
    stored = encrypt(os.urandom(5 * CHUNK + 10), key)
    header, chunks = chunks_of(stored)
    with pytest.raises(VaultIntegrityError, match="truncated: it ends after chunk 2"):
        decrypt(header + b"".join(chunks[:3]), key)


def test_truncation_inside_a_chunk_is_detected() -> None:
    key = new_key()
    stored = encrypt(os.urandom(5 * CHUNK + 10), key)
    with pytest.raises(VaultIntegrityError, match="chunk 5 of artifact art-1"):
        decrypt(stored[:-3], key)
    with pytest.raises(VaultIntegrityError, match="chunk 2 of artifact art-1"):
        decrypt(stored[: HEADER.size + 2 * (CHUNK + TAG_BYTES) + 50], key)


def test_truncated_header_is_detected() -> None:
    with pytest.raises(VaultIntegrityError, match="header is incomplete"):
        decrypt(encrypt(b"abc", new_key())[:5], new_key())


def test_appended_data_is_detected() -> None:
    key = new_key()
    stored = encrypt(os.urandom(2 * CHUNK + 10), key)
    with pytest.raises(VaultIntegrityError, match="failed authentication"):
        decrypt(stored + os.urandom(CHUNK + TAG_BYTES), key)


def test_reordered_chunks_are_detected() -> None:
    key = new_key()
    header, chunks = chunks_of(encrypt(os.urandom(4 * CHUNK + 1), key))
    chunks[1], chunks[2] = chunks[2], chunks[1]
    with pytest.raises(VaultIntegrityError, match="chunk 1 of artifact art-1"):
        decrypt(header + b"".join(chunks), key)


def test_chunk_swapped_in_from_another_artifact_is_detected() -> None:
    key = new_key()  # even under the same key, the artifact id is bound
    a_header, a_chunks = chunks_of(encrypt(os.urandom(3 * CHUNK), key, artifact_id="a"))
    _, b_chunks = chunks_of(encrypt(os.urandom(3 * CHUNK), key, artifact_id="b"))
    a_chunks[1] = b_chunks[1]
    with pytest.raises(VaultIntegrityError, match="chunk 1 of artifact a"):
        decrypt(a_header + b"".join(a_chunks), key, artifact_id="a")


def test_whole_object_under_another_artifact_id_is_rejected() -> None:
    key = new_key()
    stored = encrypt(b"hello", key, artifact_id="a")
    with pytest.raises(VaultIntegrityError, match="chunk 0 of artifact b"):
        decrypt(stored, key, artifact_id="b")


def test_altered_header_is_detected() -> None:
    key = new_key()
    stored = bytearray(encrypt(os.urandom(2 * CHUNK), key))
    stored[10] ^= 0xFF  # inside the nonce prefix
    with pytest.raises(VaultIntegrityError, match="chunk 0"):
        decrypt(bytes(stored), key)
    stored[0:4] = b"XXXX"
    with pytest.raises(VaultIntegrityError, match="valid vault header"):
        decrypt(bytes(stored), key)


def test_wrong_data_key_fails() -> None:
    stored = encrypt(b"payload", new_key())
    with pytest.raises(VaultIntegrityError, match="chunk 0"):
        decrypt(stored, new_key())


def test_data_key_unwraps_only_with_its_org_key_and_artifact() -> None:
    org_key, dek = new_key(), new_key()
    wrapped = wrap_data_key(org_key, dek, artifact_id="a")
    assert unwrap_data_key(org_key, wrapped, artifact_id="a") == dek
    with pytest.raises(VaultIntegrityError, match="data key of artifact a failed authentication"):
        unwrap_data_key(new_key(), wrapped, artifact_id="a")
    with pytest.raises(VaultIntegrityError, match="data key of artifact b"):
        unwrap_data_key(org_key, wrapped, artifact_id="b")


def test_an_encryptor_is_single_use() -> None:
    enc = StreamEncryptor(new_key(), artifact_id="x")
    list(enc.encrypt([b"a"]))
    with pytest.raises(RuntimeError):
        list(enc.encrypt([b"b"]))


def test_same_plaintext_twice_gives_different_ciphertext() -> None:
    key = new_key()
    assert encrypt(b"same", key) != encrypt(b"same", key)


@pytest.mark.parametrize("held", [0, 1, 9])
def test_reused_chunk_buffers_stay_intact_for_a_consumer_holding_that_many(held: int) -> None:
    """A consumer that keeps `held` chunks before copying them still gets every byte right."""
    from collections import deque

    key = new_key()
    data = os.urandom(40 * CHUNK + 5)
    enc = StreamEncryptor(key, artifact_id="ring", chunk_size=CHUNK)
    waiting: deque[bytes | memoryview] = deque()
    out = bytearray()
    for chunk in enc.encrypt(
        [data[i : i + 3000] for i in range(0, len(data), 3000)], reuse_after=held
    ):
        waiting.append(chunk)
        if len(waiting) > held:
            out += waiting.popleft()
    while waiting:
        out += waiting.popleft()
    assert enc.sha256 == hashlib.sha256(data).hexdigest()
    assert decrypt(bytes(out), key, artifact_id="ring") == data


def test_a_consumer_holding_more_than_it_declared_sees_overwritten_chunks() -> None:
    key = new_key()
    data = os.urandom(40 * CHUNK)
    enc = StreamEncryptor(key, artifact_id="ring", chunk_size=CHUNK)
    kept = list(enc.encrypt([data], reuse_after=1))  # holds every chunk: breaks the contract
    with pytest.raises(VaultIntegrityError):
        decrypt(b"".join(bytes(c) for c in kept), key, artifact_id="ring")


def test_the_local_store_holds_no_more_chunks_than_it_declares(tmp_path) -> None:
    from airlock.adapters.storage_local import LocalBlobStore
    from airlock.vault.ingest import encrypt_into_store

    store = LocalBlobStore(tmp_path, fsync=False)
    key = new_key()
    data = os.urandom(64 * 1024 * 1024 + 7)  # 65 chunks of 1 MiB: the ring turns over often
    stored = encrypt_into_store(store, "obj", [data], data_key=key, artifact_id="local")
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert b"".join(decrypt_stream(key, store.open("obj"), artifact_id="local")) == data


MiB = 1024 * 1024


@pytest.mark.parametrize("size", [0, 1, MiB - 1, MiB, MiB + 1, 3 * MiB + 17])
def test_sealing_a_buffer_in_place_reads_back_like_a_stream(size: int) -> None:
    key = new_key()
    data = os.urandom(size)
    out = bytearray(encrypted_size(size) + 5)  # a reused buffer may be larger
    view = seal_into(key, memoryview(bytearray(data)), out, artifact_id="buf-1")
    assert len(view) == encrypted_size(size)
    stream = StreamEncryptor(key, artifact_id="buf-1", nonce_prefix=bytes(view[8:16]))
    assert bytes(view) == b"".join(stream.encrypt([data]))
    assert decrypt(bytes(view), key, artifact_id="buf-1") == data
    with pytest.raises(VaultIntegrityError):
        decrypt(bytes(view), key, artifact_id="buf-2")


def test_sealing_into_a_buffer_too_small_is_refused() -> None:
    with pytest.raises(ValueError, match="sealing needs"):
        seal_into(new_key(), b"x" * 10, bytearray(20), artifact_id="small")


def test_sealing_the_same_buffer_twice_uses_fresh_nonces() -> None:
    key, data = new_key(), os.urandom(MiB + 3)
    out = bytearray(encrypted_size(len(data)))
    first = bytes(seal_into(key, data, out, artifact_id="again"))
    assert bytes(seal_into(key, data, out, artifact_id="again")) != first
