"""Case messages encrypted under the firm's organisation key (AES-256-GCM), so a withdrawal's
crypto-shredding leaves them unreadable even in old database copies."""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from airlock.core.uow import UnitOfWork
from airlock.vault.crypto import VaultIntegrityError
from airlock.vault.keyring import active_org_key_for, org_key_for
from airlock.vault.keys import master_key_for

NONCE_BYTES = 12


def _aad(message_id: str) -> bytes:
    return b"airlock/case-message/v1\x00" + message_id.encode()


def seal(uow: UnitOfWork, *, org_id: str, message_id: str, text: str) -> tuple[int, bytes]:
    """Encrypt a message body for the firm; returns the key version and nonce || ciphertext."""
    master = master_key_for(uow.services.settings)
    version, key = active_org_key_for(uow, org_id=org_id, master=master)
    nonce = os.urandom(NONCE_BYTES)
    return version, nonce + AESGCM(key).encrypt(nonce, text.encode(), _aad(message_id))


def open_sealed(
    uow: UnitOfWork, *, org_id: str, message_id: str, version: int, sealed: bytes
) -> str:
    """Decrypt a message body; KeyDestroyed once the firm withdrew."""
    master = master_key_for(uow.services.settings)
    key = org_key_for(uow, org_id=org_id, version=version, master=master)
    try:
        plain = AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], _aad(message_id))
    except InvalidTag:
        raise VaultIntegrityError(f"message {message_id} failed authentication") from None
    return plain.decode()
