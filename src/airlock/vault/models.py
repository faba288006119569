"""Vault tables: organisation keys, stored artifacts and resumable upload sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from airlock.core.db import ID, Base, new_id, utcnow


class OrgKey(Base):
    """An organisation key's record. The key itself, wrapped under the master key, lives in the
    key store (`in_store`; `store_ref` is what the store needs to find it, e.g. a KMS
    ciphertext); rows from before the key store keep it in `wrapped` until moved. Shredding
    deletes it from the store and erases both columns."""

    __tablename__ = "vault_org_keys"
    __table_args__ = (UniqueConstraint("org_id", "version", name="uq_vault_org_keys_org_version"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ID, ForeignKey("organisations.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))
    master_key_id: Mapped[str] = mapped_column(String(32), default="")
    wrapped: Mapped[bytes | None] = mapped_column(LargeBinary(128))
    in_store: Mapped[bool] = mapped_column(Boolean, default=False)
    store_ref: Mapped[bytes | None] = mapped_column(LargeBinary(4096))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    rotated_at: Mapped[datetime | None] = mapped_column()
    destroyed_at: Mapped[datetime | None] = mapped_column()


class Artifact(Base):
    """A file stored encrypted in the vault, attached to a submission."""

    __tablename__ = "artifacts"
    __table_args__ = (
        UniqueConstraint("submission_id", "name", name="uq_artifacts_submission_name"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    submission_id: Mapped[str] = mapped_column(ID, ForeignKey("submissions.id"), index=True)
    org_id: Mapped[str] = mapped_column(ID, ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(24))
    media_type: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    storage_key: Mapped[str] = mapped_column(String(255))
    # Artifacts uploaded in chunks are stored as the sealed chunks themselves, in order (no
    # second copy at completion); chunk i is bound to f"{bound_to}:{i}". Older artifacts are
    # one object under storage_key, and segments is None.
    segments: Mapped[list[Any] | None] = mapped_column(default=None)
    bound_to: Mapped[str] = mapped_column(String(64), default="", server_default="")
    stored_bytes: Mapped[int] = mapped_column(BigInteger)
    key_version: Mapped[int] = mapped_column(Integer)
    wrapped_data_key: Mapped[bytes | None] = mapped_column(LargeBinary(128))
    created_by: Mapped[str] = mapped_column(ID, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    destroyed_at: Mapped[datetime | None] = mapped_column()


class UploadSession(Base):
    """A chunked upload in progress; each received chunk is a separate encrypted staging object.

    `parts[i]` is {"key", "sha256", "size"} of chunk i once received, None while it is not:
    chunks arrive in any order, several at once, and a resent chunk is compared with what was
    stored. `sha256` is "" when the client gives it only at completion (hashing as it sends).
    """

    __tablename__ = "vault_uploads"
    __table_args__ = (Index("ix_vault_uploads_state_expires", "state", "expires_at"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    submission_id: Mapped[str] = mapped_column(ID, ForeignKey("submissions.id"), index=True)
    org_id: Mapped[str] = mapped_column(ID, ForeignKey("organisations.id"), index=True)
    created_by: Mapped[str] = mapped_column(ID, ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(24))
    media_type: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    chunk_bytes: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))
    parts: Mapped[list[Any]] = mapped_column(default=list)
    key_version: Mapped[int] = mapped_column(Integer)
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary(128))
    artifact_id: Mapped[str | None] = mapped_column(ID)
    error: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
