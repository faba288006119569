"""The master key and the organisation keys it wraps; rotation rewraps without touching content."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from airlock.core.errors import AirlockError
from airlock.settings import Settings, SettingsError
from airlock.vault.crypto import (
    KEY_BYTES,
    VaultIntegrityError,
    new_key,
    org_key_aad,
    unwrap_key,
    wrap_key,
)

log = logging.getLogger(__name__)

DEV_KEY_FILE = "master.key"


class KeyDestroyed(AirlockError):
    """The organisation key was destroyed (crypto-shredded); its artifacts cannot be read."""

    status_code = 410


@dataclass(frozen=True, repr=False)
class MasterKey:
    """The key that wraps every organisation key; its repr shows only the key id."""

    secret: bytes

    def __post_init__(self) -> None:
        if len(self.secret) != KEY_BYTES:
            raise ValueError(f"a master key is {KEY_BYTES} bytes (got {len(self.secret)})")

    @property
    def key_id(self) -> str:
        """A short public fingerprint that tells master keys apart without revealing them."""
        return hmac.new(self.secret, b"airlock master key id", hashlib.sha256).hexdigest()[:16]

    def __repr__(self) -> str:
        return f"MasterKey(key_id={self.key_id!r})"


def generate_master_key() -> str:
    """A new random master key, base64-encoded as AIRLOCK_MASTER_KEY expects."""
    return base64.b64encode(new_key()).decode()


def parse_master_key(value: str, *, setting: str = "AIRLOCK_MASTER_KEY") -> MasterKey:
    """Decode a base64 master key; the error names the setting, never the value."""
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise SettingsError(f"{setting} is not valid base64") from None
    if len(raw) != KEY_BYTES:
        raise SettingsError(f"{setting} must decode to {KEY_BYTES} bytes (got {len(raw)})")
    return MasterKey(raw)


def dev_key_path(settings: Settings) -> Path:
    """Where a development server keeps its generated master key."""
    return settings.data_dir / DEV_KEY_FILE


def write_key_file(path: Path, value: str) -> None:
    """Write a base64 key to path, readable by the owner only, replacing it atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(value + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load_master_key(settings: Settings) -> MasterKey:
    """The configured master key; in development one is generated on first run, with a warning."""
    if settings.master_key:
        return parse_master_key(settings.master_key)
    if not settings.dev:
        raise SettingsError(
            "AIRLOCK_MASTER_KEY is missing; set it to 32 random bytes in base64 "
            "(for example the output of `airlock keys generate`)"
        )
    path = dev_key_path(settings)
    if not path.exists():
        write_key_file(path, generate_master_key())
        message = (
            f"WARNING: no AIRLOCK_MASTER_KEY set; generated a development master key in {path}. "
            "Anyone who can read that file can decrypt the vault; never use this in production."
        )
        log.warning(message)
        print(message, file=sys.stderr)
    return parse_master_key(path.read_text(), setting=str(path))


@dataclass(frozen=True, repr=False)
class WrappedOrgKey:
    """An organisation key as stored: wrapped under a master key, bound to org and version."""

    org_id: str
    version: int
    master_key_id: str
    wrapped: bytes

    def __repr__(self) -> str:
        return f"WrappedOrgKey(org_id={self.org_id!r}, version={self.version})"


def wrap_org_key(master: MasterKey, org_key: bytes, *, org_id: str, version: int) -> WrappedOrgKey:
    """Wrap an organisation key under the master key."""
    wrapped = wrap_key(master.secret, org_key, aad=org_key_aad(org_id, version))
    return WrappedOrgKey(org_id, version, master.key_id, wrapped)


def unwrap_org_key(master: MasterKey, stored: WrappedOrgKey) -> bytes:
    """Recover an organisation key; fails clearly under any other master key."""
    what = f"organisation key of {stored.org_id} (version {stored.version})"
    if stored.master_key_id != master.key_id:
        raise VaultIntegrityError(
            f"{what} is wrapped under master key {stored.master_key_id}, "
            f"but the configured master key is {master.key_id}"
        )
    return unwrap_key(
        master.secret, stored.wrapped, aad=org_key_aad(stored.org_id, stored.version), what=what
    )


def rewrap_org_keys(
    stored: Iterable[WrappedOrgKey], *, old: MasterKey, new: MasterKey
) -> list[WrappedOrgKey]:
    """Rewrap organisation keys from the old master key to the new one; content is untouched."""
    if old.key_id == new.key_id:
        raise ValueError("the new master key is the same as the old one")
    out: list[WrappedOrgKey] = []
    for item in stored:
        org_key = unwrap_org_key(old, item)
        out.append(wrap_org_key(new, org_key, org_id=item.org_id, version=item.version))
    return out


_CACHE: dict[tuple[str, str, bool], MasterKey] = {}


def master_key_for(settings: Settings) -> MasterKey:
    """The master key of these settings, loaded once per process."""
    secret_digest = hashlib.sha256(settings.master_key.encode()).hexdigest()
    token = (secret_digest, str(settings.data_dir.resolve()), settings.dev)
    key = _CACHE.get(token)
    if key is None:
        key = _CACHE[token] = load_master_key(settings)
    return key
