"""Sealing confidential values under the organisation's key (AES-256-GCM).

A sealed value is the text `alk1:<key version>:<base64 nonce ‖ ciphertext ‖ tag>`, with
associated data "airlock/sealed/v1" ‖ org id ‖ key version ‖ what it is bound to (the object
and the field, e.g. "scan_result:<id>:content"), so a token moved to another object, field or
firm fails authentication. Once the firm withdrew its key is gone and nothing opens.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from airlock.core.uow import UnitOfWork
from airlock.vault import keyring
from airlock.vault.keys import KeyDestroyed, master_key_for

PREFIX = "alk1"


class SealedValueError(Exception):
    """A sealed value is malformed or was moved or altered (authentication failed)."""


def _aad(org_id: str, version: int, bound_to: str) -> bytes:
    return b"\0".join(
        [b"airlock/sealed/v1", org_id.encode(), str(version).encode(), bound_to.encode()]
    )


def is_sealed(value: object) -> bool:
    """Whether a stored value is a sealed token."""
    return isinstance(value, str) and value.startswith(PREFIX + ":")


def seal(uow: UnitOfWork, *, org_id: str, bound_to: str, plaintext: bytes) -> str:
    """Encrypt under the firm's current key; KeyDestroyed once it withdrew."""
    master = master_key_for(uow.services.settings)
    version, key = keyring.active_org_key_for(uow, org_id=org_id, master=master)
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, plaintext, _aad(org_id, version, bound_to))
    return f"{PREFIX}:{version}:{base64.b64encode(nonce + sealed).decode()}"


def open_sealed(uow: UnitOfWork, *, org_id: str, bound_to: str, token: str) -> bytes | None:
    """The plaintext, or None when the firm's key was destroyed (withdrawal)."""
    try:
        prefix, version_text, body = token.split(":", 2)
        version = int(version_text)
        raw = base64.b64decode(body, validate=True)
    except ValueError:
        raise SealedValueError(f"the sealed value of {bound_to} is malformed") from None
    if prefix != PREFIX or len(raw) < 12 + 16:
        raise SealedValueError(f"the sealed value of {bound_to} is malformed")
    master = master_key_for(uow.services.settings)
    try:
        key = keyring.org_key_for(uow, org_id=org_id, version=version, master=master)
    except KeyDestroyed:
        return None
    try:
        return AESGCM(key).decrypt(raw[:12], raw[12:], _aad(org_id, version, bound_to))
    except InvalidTag:
        raise SealedValueError(
            f"the sealed value of {bound_to} failed authentication (moved or altered)"
        ) from None
