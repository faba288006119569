"""Key stores: where organisation keys live, outside the database (chosen by URL)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from airlock.core.ports import KeyStore, KeyStoreError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,199}$")


def _check_name(name: str) -> str:
    if not _NAME.match(name):
        raise KeyStoreError(f"key name {name!r} is not allowed (letters, digits, _ and - only)")
    return name


class FolderKeyStore:
    """One file per key (0600) in a private folder (0700), written atomically."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(root, 0o700)  # mkdir's mode is masked by umask and ignored if it existed

    def put(self, name: str, secret: bytes) -> bytes:
        """Store (or replace) a key; the folder store needs no reference in the database."""
        path = self.root / _check_name(name)
        tmp = self.root / f".tmp-{name}-{os.getpid()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, secret)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        self._sync_folder()
        return b""

    def get(self, name: str, ref: bytes) -> bytes | None:
        """The key, or None when it does not exist (destroyed or never made)."""
        try:
            return (self.root / _check_name(name)).read_bytes()
        except FileNotFoundError:
            return None

    def delete(self, name: str) -> None:
        """Remove the key for good (overwritten first, then unlinked); safe to repeat."""
        path = self.root / _check_name(name)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            return
        # Overwriting helps on simple file systems; copy-on-write ones and snapshots keep the
        # old blocks (docs/security.md says what that means).
        with open(path, "r+b") as f:
            f.write(b"\0" * size)
            f.flush()
            os.fsync(f.fileno())
        path.unlink(missing_ok=True)
        self._sync_folder()

    def _sync_folder(self) -> None:
        fd = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class KmsKeyStore:
    """AWS KMS: one KMS key per stored key (alias airlock/<prefix>/<name>); the secret is
    encrypted under it and the ciphertext kept in the database as the reference. Deleting
    disables the KMS key at once and schedules its deletion, so the reference is useless."""

    def __init__(self, *, prefix: str, endpoint_url: str | None, region: str | None) -> None:
        import boto3  # only deployments that use KMS need boto3's KMS client

        self.prefix = prefix.strip("/") or "airlock"
        self.client: Any = boto3.client("kms", endpoint_url=endpoint_url, region_name=region)

    def _alias(self, name: str) -> str:
        return f"alias/{self.prefix}/{_check_name(name)}"

    def _key_id(self, name: str) -> str | None:
        try:
            meta = self.client.describe_key(KeyId=self._alias(name))["KeyMetadata"]
        except self.client.exceptions.NotFoundException:
            return None
        if meta.get("KeyState") != "Enabled":
            return None
        return str(meta["KeyId"])

    def put(self, name: str, secret: bytes) -> bytes:
        """Encrypt the key under its own KMS key (made on first use); returns the ciphertext."""
        key_id = self._key_id(name)
        if key_id is None:
            key_id = self.client.create_key(
                Description=f"airlock key {name}", KeyUsage="ENCRYPT_DECRYPT"
            )["KeyMetadata"]["KeyId"]
            try:
                self.client.create_alias(AliasName=self._alias(name), TargetKeyId=key_id)
            except self.client.exceptions.AlreadyExistsException:
                self.client.update_alias(AliasName=self._alias(name), TargetKeyId=key_id)
        out = self.client.encrypt(
            KeyId=key_id, Plaintext=secret, EncryptionContext={"airlock-key": name}
        )
        return bytes(out["CiphertextBlob"])

    def get(self, name: str, ref: bytes) -> bytes | None:
        """Decrypt the reference with the key's KMS key; None once that key is disabled."""
        key_id = self._key_id(name)
        if key_id is None or not ref:
            return None
        from botocore.exceptions import ClientError

        try:
            out = self.client.decrypt(
                CiphertextBlob=ref, KeyId=key_id, EncryptionContext={"airlock-key": name}
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("DisabledException", "KMSInvalidStateException", "NotFoundException"):
                return None
            if code in (
                "InvalidCiphertextException",
                "IncorrectKeyException",
                "AccessDeniedException",
            ):
                raise KeyStoreError(
                    f"the KMS reference of key {name} does not open under its KMS key "
                    "(moved or altered)"
                ) from None
            raise
        return bytes(out["Plaintext"])

    def delete(self, name: str) -> None:
        """Disable the KMS key now and schedule its deletion (KMS's shortest wait, 7 days)."""
        try:
            meta = self.client.describe_key(KeyId=self._alias(name))["KeyMetadata"]
        except self.client.exceptions.NotFoundException:
            return
        if meta.get("KeyState") in ("PendingDeletion", "PendingReplicaDeletion"):
            return
        key_id = meta["KeyId"]
        self.client.disable_key(KeyId=key_id)
        self.client.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)


def key_store_from_url(url: str) -> KeyStore:
    """file:///absolute/folder, or kms://prefix?endpoint_url=…&region=… (boto3 only then)."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        if not parsed.path.startswith("/"):
            raise KeyStoreError("AIRLOCK_KEYSTORE_URL: a file:// URL needs an absolute path")
        return FolderKeyStore(Path(parsed.path))
    if parsed.scheme == "kms":
        query = parse_qs(parsed.query)
        endpoint = query.get("endpoint_url", [""])[0] or os.environ.get("AIRLOCK_KMS_ENDPOINT_URL")
        region = query.get("region", [""])[0] or None
        return KmsKeyStore(prefix=parsed.netloc + parsed.path, endpoint_url=endpoint, region=region)
    raise KeyStoreError(
        f"AIRLOCK_KEYSTORE_URL: unknown scheme {parsed.scheme!r} (use file:// or kms://)"
    )
