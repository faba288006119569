"""The audit trail's two keys, held in the key store and never in the database.

- `audit-mac`: 32 random bytes; every row's link is an HMAC-SHA256 under it.
- `audit-signing`: an Ed25519 private key (raw 32 bytes) that signs checkpoints.

A key store may hand back a reference to keep (KMS returns the ciphertext); the audit keeps it
in the blob store under `audit-keys/`, written once, so that deleting database rows (the head
among them) never loses the way to the key.
"""

from __future__ import annotations

import hashlib
import os
import weakref
from typing import Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from airlock.core.errors import AirlockError, NotFound
from airlock.core.ports import Services

MAC_KEY: Final = "audit-mac"
SIGNING_KEY: Final = "audit-signing"
REF_PREFIX: Final = "audit-keys/"
KEY_BYTES: Final = 32

# Keys never change once made, so a process reads each one once per key store.
_CACHE: weakref.WeakKeyDictionary[object, dict[str, bytes]] = weakref.WeakKeyDictionary()


class AuditKeyMissing(AirlockError):
    """An audit key is not in the configured key store (wrong AIRLOCK_KEYSTORE_URL, or lost)."""

    status_code = 503


def _ref_key(name: str) -> str:
    return f"{REF_PREFIX}{name}.ref"


def _read_ref(services: Services, name: str) -> bytes:
    try:
        return b"".join(services.blob_store.open(_ref_key(name)))
    except NotFound:
        return b""


def load_key(services: Services, name: str, *, create: bool) -> bytes | None:
    """The audit key `name` from the key store; made when missing and create is true.

    Callers that may create hold the audit head's row lock, so that two processes on one
    database never make two different keys (a folder key store replaces on put).
    """
    store = services.key_store
    cached = _CACHE.get(store, {}).get(name)
    if cached is not None:
        return cached
    secret = store.get(name, _read_ref(services, name))
    if secret is None:
        if not create:
            return None
        secret = os.urandom(KEY_BYTES)
        ref = store.put(name, secret)
        # A folder store needs no reference; a KMS reference is written once, first one wins.
        if ref and not services.blob_store.put_new(_ref_key(name), ref):
            # Another database on the same stores made it first: use theirs.
            secret = store.get(name, _read_ref(services, name))
            if secret is None:
                raise AuditKeyMissing(f"the audit key {name} could not be read back")
    _CACHE.setdefault(store, {})[name] = secret
    return secret


def require_key(services: Services, name: str) -> bytes:
    """The audit key `name`, or AuditKeyMissing naming the setting to check."""
    secret = load_key(services, name, create=False)
    if secret is None:
        raise AuditKeyMissing(
            f"the audit key {name} is not in the key store of AIRLOCK_KEYSTORE_URL; "
            "the audit chain cannot be extended or checked without it"
        )
    return secret


def signing_key(secret: bytes) -> Ed25519PrivateKey:
    """The Ed25519 private key kept as raw bytes in the key store."""
    return Ed25519PrivateKey.from_private_bytes(secret)


def key_id(public_raw: bytes) -> str:
    """A short fingerprint of a public key, written into each checkpoint."""
    return hashlib.sha256(public_raw).hexdigest()[:16]


def forget_cached() -> None:
    """Drop every cached key (tests that swap key stores in one process)."""
    _CACHE.clear()
