"""Envelope encryption primitives: key wrapping and chunked AES-256-GCM streams.

Stored format of one encrypted object::

    header   "ALV1" | chunk size (u32, big-endian) | nonce prefix (8 random bytes)
    chunk i  AES-256-GCM(plaintext[i*size:(i+1)*size]) with its 16-byte tag

Every chunk but the last holds exactly `chunk size` plaintext bytes; the last holds fewer
(possibly none), so a reader knows where the object ends without looking ahead. The nonce of
chunk i is prefix || i, and its associated data binds the artifact id, i and whether the chunk
is the last, so truncation, reordering, swapping between artifacts or any altered bit fails
authentication at the chunk where it happens.
"""

from __future__ import annotations

import hashlib
import os
import struct
import threading
from collections.abc import Iterable, Iterator
from typing import Final, TypeAlias

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from airlock.core.errors import AirlockError

KEY_BYTES: Final = 32
TAG_BYTES: Final = 16
WRAP_NONCE_BYTES: Final = 12
NONCE_PREFIX_BYTES: Final = 8
DEFAULT_CHUNK_BYTES: Final = 1024 * 1024
MAX_CHUNK_BYTES: Final = 16 * 1024 * 1024
MAX_CHUNKS: Final = 2**32
MAGIC: Final = b"ALV1"
HEADER: Final = struct.Struct(">4sI8s")
_CHUNK_AAD_TAIL: Final = struct.Struct(">IB")
# Hashing moves to a helper thread once blocks are this large (hashlib releases the GIL).
_THREADED_HASH_MIN: Final = 256 * 1024

BytesLike: TypeAlias = bytes | bytearray | memoryview


class VaultIntegrityError(AirlockError):
    """Stored content or a wrapped key failed authentication: altered, truncated or misplaced."""

    status_code = 500


def new_key() -> bytes:
    """A fresh random 256-bit key."""
    return os.urandom(KEY_BYTES)


def _check_key(key: bytes, what: str) -> None:
    if len(key) != KEY_BYTES:
        raise ValueError(f"{what} must be {KEY_BYTES} bytes (got {len(key)})")


def wrap_key(kek: bytes, key: bytes, *, aad: bytes) -> bytes:
    """Encrypt key under kek with AES-256-GCM; returns nonce || ciphertext || tag."""
    _check_key(kek, "key-encryption key")
    _check_key(key, "wrapped key")
    nonce = os.urandom(WRAP_NONCE_BYTES)
    return nonce + AESGCM(kek).encrypt(nonce, key, aad)


def unwrap_key(kek: bytes, wrapped: bytes, *, aad: bytes, what: str) -> bytes:
    """Decrypt a key made by wrap_key; VaultIntegrityError names `what` if it fails."""
    _check_key(kek, "key-encryption key")
    if len(wrapped) != WRAP_NONCE_BYTES + KEY_BYTES + TAG_BYTES:
        raise VaultIntegrityError(f"{what} is malformed ({len(wrapped)} bytes)")
    nonce, body = wrapped[:WRAP_NONCE_BYTES], wrapped[WRAP_NONCE_BYTES:]
    try:
        return AESGCM(kek).decrypt(nonce, body, aad)
    except InvalidTag:
        raise VaultIntegrityError(
            f"{what} failed authentication (wrong wrapping key, or the wrapped key was altered)"
        ) from None


def org_key_aad(org_id: str, version: int) -> bytes:
    """Associated data binding a wrapped organisation key to its organisation and version."""
    return b"airlock/org-key/v1\x00" + org_id.encode() + b"\x00" + str(version).encode()


def data_key_aad(artifact_id: str) -> bytes:
    """Associated data binding a wrapped data key to its artifact."""
    return b"airlock/data-key/v1\x00" + artifact_id.encode()


def wrap_data_key(org_key: bytes, data_key: bytes, *, artifact_id: str) -> bytes:
    """Wrap an artifact's data key under its organisation key."""
    return wrap_key(org_key, data_key, aad=data_key_aad(artifact_id))


def unwrap_data_key(org_key: bytes, wrapped: bytes, *, artifact_id: str) -> bytes:
    """Unwrap an artifact's data key; fails if the organisation key or artifact id differ."""
    return unwrap_key(
        org_key, wrapped, aad=data_key_aad(artifact_id), what=f"data key of artifact {artifact_id}"
    )


def _aad_head(artifact_id: str) -> bytes:
    return b"airlock/chunk/v1\x00" + artifact_id.encode() + b"\x00"


def encrypted_size(plaintext_size: int, chunk_size: int = DEFAULT_CHUNK_BYTES) -> int:
    """The stored size of a plaintext of this many bytes."""
    chunks = plaintext_size // chunk_size + 1
    return HEADER.size + plaintext_size + chunks * TAG_BYTES


def seal_into(
    data_key: bytes,
    plaintext: BytesLike,
    out: bytearray,
    *,
    artifact_id: str,
    nonce_prefix: bytes | None = None,
) -> memoryview:
    """Encrypt a plaintext held in memory into out as one stored object; return its view.

    The same format as StreamEncryptor (1 MiB chunks, then a last one of the rest) in one pass
    with no thread and no copy: each chunk is sealed straight into its place in out, which must
    hold encrypted_size(len(plaintext)) bytes (a caller may reuse it once the view is written).
    """
    _check_key(data_key, "data key")
    src = memoryview(plaintext).cast("B")
    size = DEFAULT_CHUNK_BYTES
    need = encrypted_size(len(src), size)
    if len(out) < need:
        raise ValueError(f"the output buffer holds {len(out)} bytes; sealing needs {need}")
    prefix = nonce_prefix or os.urandom(NONCE_PREFIX_BYTES)
    if len(prefix) != NONCE_PREFIX_BYTES:
        raise ValueError(f"nonce prefix must be {NONCE_PREFIX_BYTES} bytes")
    aes = AESGCM(data_key)
    head = _aad_head(artifact_id)
    dst = memoryview(out)[:need]
    HEADER.pack_into(dst, 0, MAGIC, size, prefix)
    full = len(src) // size
    pos = HEADER.size
    for index in range(full + 1):
        piece = src[index * size : (index + 1) * size] if index < full else src[full * size :]
        nonce = prefix + index.to_bytes(4, "big")
        aad = head + _CHUNK_AAD_TAIL.pack(index, 1 if index == full else 0)
        end = pos + len(piece) + TAG_BYTES
        aes.encrypt_into(nonce, piece, aad, dst[pos:end])
        pos = end
    return dst


class _Hasher:
    """SHA-256 of one block at a time on a helper thread, overlapping with encryption.

    `start(block)` begins hashing and `wait()` returns once the block is no longer read, so
    callers may hand in buffers that are reused after `wait()`.
    """

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self._thread: threading.Thread | None = None
        self._go = threading.Semaphore(0)
        self._done = threading.Semaphore(0)
        self._block: memoryview | None = None
        self._busy = False
        self._error: BaseException | None = None

    def start(self, block: memoryview) -> None:
        if len(block) < _THREADED_HASH_MIN:
            self._hash.update(block)
            return
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="vault-sha256", daemon=True)
            self._thread.start()
        self._block = block
        self._busy = True
        self._go.release()

    def _run(self) -> None:
        while True:
            self._go.acquire()
            block, self._block = self._block, None
            if block is None:
                return
            try:
                self._hash.update(block)
            except BaseException as exc:  # re-raised by wait()
                self._error = exc
            finally:
                del block
                self._done.release()

    def wait(self) -> None:
        if self._busy:
            self._done.acquire()
            self._busy = False
        if self._error is not None:
            raise self._error

    def close(self) -> None:
        if self._busy:
            self._done.acquire()
            self._busy = False
        if self._thread is not None:
            self._go.release()  # with no block set: stop
            self._thread.join()
            self._thread = None

    def hexdigest(self) -> str:
        self.wait()
        return self._hash.hexdigest()


class StreamEncryptor:
    """Encrypts blocks of any size into the chunked format, hashing the plaintext in one pass.

    Iterate `encrypt(blocks)` (for example into BlobStore.put); afterwards `sha256` and `size`
    describe the plaintext. A block may still be read (hashed) until the block after next is
    requested, so a reader may alternate two buffers. Memory use is about two blocks and two
    chunks.
    """

    def __init__(
        self,
        data_key: bytes,
        *,
        artifact_id: str,
        chunk_size: int = DEFAULT_CHUNK_BYTES,
        nonce_prefix: bytes | None = None,
    ) -> None:
        _check_key(data_key, "data key")
        if not 0 < chunk_size <= MAX_CHUNK_BYTES:
            raise ValueError(f"chunk size must be 1..{MAX_CHUNK_BYTES} (got {chunk_size})")
        self._aes = AESGCM(data_key)
        self._aad_head = _aad_head(artifact_id)
        self._chunk_size = chunk_size
        self._prefix = nonce_prefix or os.urandom(NONCE_PREFIX_BYTES)
        if len(self._prefix) != NONCE_PREFIX_BYTES:
            raise ValueError(f"nonce prefix must be {NONCE_PREFIX_BYTES} bytes")
        self._index = 0
        self._ring: list[bytearray] = []
        self._used = False
        self.size = 0
        self.sha256 = ""

    def _seal(self, chunk: BytesLike, *, last: bool) -> BytesLike:
        if self._index >= MAX_CHUNKS:
            raise ValueError("artifact too large for the chunk counter")
        nonce = self._prefix + self._index.to_bytes(4, "big")
        aad = self._aad_head + _CHUNK_AAD_TAIL.pack(self._index, 1 if last else 0)
        self._index += 1
        if not self._ring:
            return self._aes.encrypt(nonce, chunk, aad)
        # Sealing into a few reused buffers spares the page faults of a fresh megabyte per
        # chunk, which cost more than the encryption itself.
        slot = self._index % len(self._ring)
        need = len(chunk) + TAG_BYTES
        if len(self._ring[slot]) < need:
            self._ring[slot] = bytearray(need)
        out = memoryview(self._ring[slot])[:need]
        self._aes.encrypt_into(nonce, chunk, aad, out)
        return out

    def encrypt(
        self, blocks: Iterable[BytesLike], *, reuse_after: int | None = None
    ) -> Iterator[BytesLike]:
        """Yield the header then one ciphertext chunk per full plaintext chunk, then the last.

        By default every chunk is a new bytes object. With reuse_after=N the chunks are views
        of a few reused buffers: each stays valid until N more chunks have been requested
        (BlobStore.max_held_chunks tells a store's N).
        """
        if self._used:
            raise RuntimeError("a StreamEncryptor encrypts one stream only")
        self._used = True
        if reuse_after is not None:
            self._ring = [bytearray() for _ in range(reuse_after + 2)]
        size = self._chunk_size
        hasher = _Hasher()
        pending = bytearray()
        try:
            yield HEADER.pack(MAGIC, size, self._prefix)
            for block in blocks:
                view = memoryview(block).cast("B")
                if not view:
                    continue
                # The previous block was hashed while this one was read (read_blocks keeps
                # two buffers), so hashing, reading and encrypting overlap.
                hasher.wait()
                hasher.start(view)
                self.size += len(view)
                start = 0
                if pending:
                    take = min(size - len(pending), len(view))
                    pending += view[:take]
                    start = take
                    if len(pending) == size:
                        yield self._seal(pending, last=False)
                        pending.clear()
                while len(view) - start >= size:
                    yield self._seal(view[start : start + size], last=False)
                    start += size
                if start < len(view):
                    pending += view[start:]
            hasher.wait()
            yield self._seal(pending, last=True)
            self.sha256 = hasher.hexdigest()
        finally:
            hasher.close()


def decrypt_stream(
    data_key: bytes, blocks: Iterable[bytes], *, artifact_id: str
) -> Iterator[bytes]:
    """Yield the plaintext of a stored object, verifying each chunk before it is yielded."""
    _check_key(data_key, "data key")
    aes = AESGCM(data_key)
    aad_head = _aad_head(artifact_id)
    where = f"artifact {artifact_id}"
    buf = bytearray()
    it = iter(blocks)
    for block in it:
        buf += block
        if len(buf) >= HEADER.size:
            break
    if len(buf) < HEADER.size:
        raise VaultIntegrityError(f"{where} is truncated: its header is incomplete")
    magic, chunk_size, prefix = HEADER.unpack_from(buf)
    if magic != MAGIC or not 0 < chunk_size <= MAX_CHUNK_BYTES:
        raise VaultIntegrityError(f"{where} does not start with a valid vault header")
    del buf[: HEADER.size]
    full = chunk_size + TAG_BYTES
    index = 0

    def open_chunk(chunk: memoryview, last: bool) -> bytes:
        nonce = prefix + index.to_bytes(4, "big")
        aad = aad_head + _CHUNK_AAD_TAIL.pack(index, 1 if last else 0)
        try:
            return aes.decrypt(nonce, chunk, aad)
        except InvalidTag:
            raise VaultIntegrityError(
                f"chunk {index} of {where} failed authentication "
                "(the stored object is truncated, reordered, swapped or altered)"
            ) from None

    def drain() -> Iterator[bytes]:
        nonlocal index
        done = 0
        with memoryview(buf) as view:
            while len(view) - done >= full:
                yield open_chunk(view[done : done + full], False)
                index += 1
                done += full
        if done:
            del buf[:done]

    yield from drain()
    for block in it:
        buf += block
        if len(buf) >= full:
            yield from drain()
    if len(buf) < TAG_BYTES:
        ended = f"after chunk {index - 1}" if index else "before its first chunk"
        raise VaultIntegrityError(f"{where} is truncated: it ends {ended} with no final chunk")
    with memoryview(buf) as view:
        yield open_chunk(view, True)
