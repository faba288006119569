"""Garbage collection: expire stale upload sessions and remove objects nothing refers to."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from airlock.core import audit
from airlock.core.db import utcnow
from airlock.core.ports import BlobStore
from airlock.core.uow import UnitOfWork
from airlock.vault.models import Artifact, UploadSession
from airlock.vault.rules import ArtifactState, UploadState

LIVE = (UploadState.OPEN, UploadState.COMPLETING)


@dataclass
class GcReport:
    """What a collection removed."""

    expired_uploads: list[str] = field(default_factory=list)
    stalled_completions: list[str] = field(default_factory=list)
    removed_objects: list[str] = field(default_factory=list)
    removed_incomplete_writes: int = 0


def expire_uploads(
    uow: UnitOfWork, *, now: datetime | None = None, stalled_after: timedelta = timedelta(hours=1)
) -> GcReport:
    """Expire open sessions past their deadline and fail completions a dead process left."""
    now = now or utcnow()
    report = GcReport()
    stmt = select(UploadSession).where(UploadSession.state.in_(LIVE)).with_for_update()
    for up in uow.session.scalars(stmt):
        if up.state == UploadState.OPEN and up.expires_at <= now:
            up.state, up.error, up.wrapped_key = UploadState.EXPIRED, "expired", None
            up.updated_at = now
            report.expired_uploads.append(up.id)
        elif up.state == UploadState.COMPLETING and up.updated_at <= now - stalled_after:
            up.state, up.error, up.wrapped_key = UploadState.FAILED, "completion stalled", None
            up.updated_at = now
            report.stalled_completions.append(up.id)
    return report


def _is_referenced(uow: UnitOfWork, key: str) -> bool:
    parts = key.split("/")
    if parts[0] == "uploads" and len(parts) == 3:
        up = uow.session.get(UploadSession, parts[1])
        if up is None:
            return False
        if up.state in LIVE:
            return True
        # A completed upload's sealed chunks are its artifact (those it recorded, not resends).
        stored = uow.session.get(Artifact, up.artifact_id) if up.artifact_id else None
        return (
            stored is not None
            and stored.state == ArtifactState.STORED
            and key in (stored.segments or [])
        )
    if parts[0] == "artifacts" and len(parts) == 3:
        art = uow.session.get(Artifact, parts[2])
        if art is not None:
            return art.state == ArtifactState.STORED and art.storage_key == key
        completing = uow.session.scalars(
            select(UploadSession.id).where(
                UploadSession.artifact_id == parts[2],
                UploadSession.state == UploadState.COMPLETING,
            )
        ).first()
        return completing is not None
    return True  # not the vault's: leave it alone


def sweep_objects(
    uow: UnitOfWork, *, store: BlobStore, report: GcReport, incomplete_after_seconds: float
) -> GcReport:
    """Delete vault objects that no live row refers to (listed first, so no race with writers)."""
    listed = [*store.keys("uploads/"), *store.keys("artifacts/")]
    for key in listed:
        if not _is_referenced(uow, key):
            store.delete(key)
            report.removed_objects.append(key)
    sweep = getattr(store, "sweep_incomplete", None)
    if callable(sweep):
        report.removed_incomplete_writes = int(sweep(older_than_seconds=incomplete_after_seconds))
    return report


def record(uow: UnitOfWork, *, report: GcReport, actor_label: str) -> None:
    """Write what a collection removed to the audit trail."""
    audit.append(
        uow.session,
        action="vault.gc",
        actor_label=actor_label,
        object_type="vault",
        detail={
            "expired_uploads": len(report.expired_uploads),
            "stalled_completions": len(report.stalled_completions),
            "removed_objects": len(report.removed_objects),
            "removed_incomplete_writes": report.removed_incomplete_writes,
        },
    )
