"""API shapes of the vault: upload sessions, artifacts and the manifest."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from airlock.vault.models import UploadSession
from airlock.vault.rules import ArtifactKind, chunk_count, missing_ranges, received_indexes


class UploadIn(BaseModel):
    """Declare a file before sending it in chunks."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=255)
    kind: ArtifactKind
    media_type: str = Field(default="", max_length=127)
    size: int = Field(ge=0)
    # Optional: a client that hashes while it sends gives the SHA-256 at completion instead.
    sha256: str = Field(default="", max_length=64)


class CompleteIn(BaseModel):
    """The file's SHA-256, if the client hashed it while sending (else the declared one)."""

    model_config = ConfigDict(extra="forbid")

    sha256: str = Field(default="", max_length=64)


class UploadOut(BaseModel):
    """An upload session: what was declared and where to resume."""

    id: str
    submission_id: str
    name: str
    kind: str
    size: int
    sha256: str
    state: str
    chunk_bytes: int
    chunks_total: int
    chunks_received: int
    # The first chunk not received yet, and its offset; chunks may be sent in any order.
    next_index: int | None
    next_offset: int
    # Every chunk still to send, as [start, end) index ranges.
    missing: list[tuple[int, int]]
    expires_at: datetime
    artifact_id: str | None
    error: str


class ArtifactOut(BaseModel):
    """A stored artifact as its manifest line."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    submission_id: str
    name: str
    kind: str
    media_type: str
    size: int
    sha256: str
    state: str
    created_at: datetime


class ManifestOut(BaseModel):
    """Every file of a submission with its size and hash; for agency staff not assigned to it
    only the count and the verdicts (`withheld`: no lines, total_bytes 0)."""

    submission_id: str
    artifacts: list[ArtifactOut]
    total_bytes: int
    artifact_count: int = 0
    withheld: bool = False
    # how many artifacts have each verdict ("unscanned" for none yet)
    verdicts: dict[str, int] = {}


def upload_out(up: UploadSession) -> UploadOut:
    """The API view of an upload session, with where to resume."""
    total = chunk_count(up.size, up.chunk_bytes)
    parts = up.parts or []
    received = len(received_indexes(parts))
    missing = missing_ranges(parts, total)
    first = missing[0][0] if missing else None
    return UploadOut(
        id=up.id,
        submission_id=up.submission_id,
        name=up.name,
        kind=up.kind,
        size=up.size,
        sha256=up.sha256,
        state=up.state,
        chunk_bytes=up.chunk_bytes,
        chunks_total=total,
        chunks_received=received,
        next_index=first,
        next_offset=up.size if first is None else min(first * up.chunk_bytes, up.size),
        missing=missing,
        expires_at=up.expires_at,
        artifact_id=up.artifact_id,
        error=up.error,
    )
