"""System reads of artifacts: plaintext for a background job that has no signed-in actor.

A scanner job decrypts an artifact to a bounded temporary file, scans it and deletes it. The
caller records what it did in the audit trail; nothing here commits.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from airlock.core.errors import NotFound, PayloadTooLarge
from airlock.core.ports import BlobStore
from airlock.core.uow import UnitOfWork
from airlock.vault import crypto
from airlock.vault.keyring import artifact_data_key
from airlock.vault.keys import (
    MasterKey,
    master_key_for,
)
from airlock.vault.models import Artifact
from airlock.vault.service import artifact_plaintext

SCRATCH_HEADROOM_BYTES = 256 * 1024 * 1024  # left free on the scratch disk for everyone else


@dataclass(frozen=True)
class SystemVault:
    """What a job needs to read the vault: the blob store, the master key, a scratch folder."""

    store: BlobStore
    master: MasterKey
    scratch: Path


def system_vault(uow: UnitOfWork) -> SystemVault:
    """The vault of the container this unit of work came from."""
    services = uow.services
    scratch = services.settings.data_dir / "tmp"
    return SystemVault(services.blob_store, master_key_for(services.settings), scratch)


@dataclass(frozen=True)
class SystemRead:
    """Everything needed to stream one artifact's plaintext, gathered in a unit of work."""

    artifact_id: str
    submission_id: str
    org_id: str
    name: str
    size: int
    sha256: str
    storage_key: str
    segments: list[Any] | None
    bound_to: str
    data_key: bytes

    def __repr__(self) -> str:
        return f"SystemRead(artifact_id={self.artifact_id!r}, name={self.name!r})"


def open_for_system(uow: UnitOfWork, *, artifact_id: str, master: MasterKey) -> SystemRead:
    """An artifact's data key for a system job; KeyDestroyed once its firm withdrew."""
    art = uow.session.get(Artifact, artifact_id) if len(artifact_id) <= 64 else None
    if art is None:
        raise NotFound(f"artifact {artifact_id} not found")
    data_key = artifact_data_key(uow, art, master=master)
    return SystemRead(
        artifact_id=art.id,
        submission_id=art.submission_id,
        org_id=art.org_id,
        name=art.name,
        size=art.size,
        sha256=art.sha256,
        storage_key=art.storage_key,
        segments=art.segments,
        bound_to=art.bound_to,
        data_key=data_key,
    )


@contextlib.contextmanager
def plaintext_file(
    store: BlobStore, read: SystemRead, *, scratch: Path, max_bytes: int
) -> Iterator[Path]:
    """Decrypt the artifact to a private temporary file, yield its path, then delete it.

    The file is never larger than the artifact's recorded size nor max_bytes: a stored object
    that decrypts to more is refused (VaultIntegrityError) and the partial file deleted.
    """
    if read.size > max_bytes:
        raise PayloadTooLarge(
            f"artifact {read.artifact_id} is {read.size} bytes, over the {max_bytes} bytes a "
            "system read may decrypt to disk"
        )
    scratch.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(scratch).free
    if read.size + SCRATCH_HEADROOM_BYTES > free:
        # Transient: the job fails and is retried once space is freed.
        raise OSError(
            f"{scratch} has {free} bytes free; decrypting artifact {read.artifact_id} needs "
            f"{read.size} plus {SCRATCH_HEADROOM_BYTES} bytes of headroom"
        )
    fd, name = tempfile.mkstemp(prefix="scan-", suffix=".bin", dir=scratch)
    path = Path(name)
    try:
        written = 0
        with os.fdopen(fd, "wb") as out:
            blocks = artifact_plaintext(
                store,
                data_key=read.data_key,
                artifact_id=read.artifact_id,
                storage_key=read.storage_key,
                segments=read.segments,
                bound_to=read.bound_to,
            )
            for block in blocks:
                written += len(block)
                if written > read.size:
                    raise crypto.VaultIntegrityError(
                        f"artifact {read.artifact_id} decrypts to more than its recorded "
                        f"{read.size} bytes"
                    )
                out.write(block)
        if written != read.size:
            raise crypto.VaultIntegrityError(
                f"artifact {read.artifact_id} decrypts to {written} bytes, not its recorded "
                f"{read.size}"
            )
        yield path
    finally:
        path.unlink(missing_ok=True)
