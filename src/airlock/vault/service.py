"""The vault: resumable uploads, the manifest and need-to-know downloads (keys: keyring.py).

Services never commit and never hold a transaction across bulk I/O: an upload chunk or a
completion is planned in one unit of work, written to the blob store outside it, and recorded
in another, so a process killed in between leaves only unreferenced objects for `vault gc`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from airlock.core import audit, events
from airlock.core.access import Actor, authorize, may_read_confidential
from airlock.core.db import new_id, utcnow
from airlock.core.errors import Conflict, Forbidden, InvalidInput, NotFound, PayloadTooLarge
from airlock.core.ports import BlobStore
from airlock.core.uow import UnitOfWork
from airlock.enrollment import service as enrollment
from airlock.enrollment.rules import Scope
from airlock.submissions import service as submissions
from airlock.submissions.models import Submission
from airlock.submissions.rules import SubmissionState as SS
from airlock.vault import crypto, rules
from airlock.vault.buffers import BufferPool
from airlock.vault.crypto import BytesLike
from airlock.vault.ingest import Stored
from airlock.vault.keyring import (
    active_org_key_for,
    artifact_data_key,
    org_key_for,
    upload_aad,
    upload_session_key,
)
from airlock.vault.keys import (
    MasterKey,
)
from airlock.vault.models import Artifact, UploadSession
from airlock.vault.rules import ArtifactKind, ArtifactState, UploadState

CLOSED_FOR_UPLOADS = frozenset({SS.REVIEW_COMPLETE, SS.CLOSED})
# Published once an artifact is whole and visible; later stages (scanning) subscribe jobs.
ARTIFACT_STORED_EVENT = "artifact.stored"


@dataclass(frozen=True)
class UploadLimits:
    """Limits from settings."""

    max_artifact_bytes: int
    max_submission_bytes: int
    chunk_bytes: int
    session_hours: int


# --- uploads ----------------------------------------------------------------------------------


def check_may_upload(uow: UnitOfWork, *, actor: Actor, sub: Submission) -> frozenset[Scope]:
    """The scopes the actor's firm may upload artifacts of into sub, or the error saying why not.

    The one eligibility check of uploads: `start_upload` and the submission page's uploader.
    """
    authorize(actor, "artifact.upload", org_id=sub.org_id)
    if actor.org_id != sub.org_id:
        raise NotFound("submission not found")
    if sub.state in CLOSED_FOR_UPLOADS:
        raise Conflict(f"a submission that is {sub.state} takes no more artifacts")
    return enrollment.scopes_while_submitting(uow, org_id=sub.org_id, doing="upload")


def _upload(uow: UnitOfWork, *, actor: Actor, upload_id: str, lock: bool = False) -> UploadSession:
    up = (
        uow.session.get(UploadSession, upload_id, with_for_update=lock)
        if len(upload_id) <= 64
        else None
    )
    if up is None:
        raise NotFound("upload session not found")
    authorize(actor, "artifact.upload", org_id=up.org_id)
    if actor.org_id != up.org_id:
        raise NotFound("upload session not found")
    if up.state == UploadState.OPEN and up.expires_at <= utcnow():
        up.state, up.updated_at = UploadState.EXPIRED, utcnow()
    return up


def _require_open(up: UploadSession) -> None:
    if up.state == UploadState.EXPIRED:
        raise Conflict("this upload session has expired; start a new one")
    if up.state != UploadState.OPEN:
        raise Conflict(f"this upload session is {up.state}")


def start_upload(
    uow: UnitOfWork,
    *,
    actor: Actor,
    submission_id: str,
    name: str,
    kind: ArtifactKind,
    media_type: str,
    size: int,
    sha256: str,
    limits: UploadLimits,
    master: MasterKey,
) -> UploadSession:
    """Open an upload session (or return the open one for the same file, to resume it)."""
    sub = submissions.get_submission(uow, actor=actor, submission_id=submission_id)
    agreed = check_may_upload(uow, actor=actor, sub=sub)
    name = rules.check_name(name)
    sha256 = rules.check_sha256(sha256) if sha256 else ""
    media_type = rules.check_media_type(media_type or rules.guess_media_type(name))
    rules.check_kind_allowed(kind, agreed)
    if size < 0:
        raise InvalidInput(f"size: must be 0 or more (got {size})")
    if size > limits.max_artifact_bytes:
        raise PayloadTooLarge(
            f"size: {size} bytes is over the limit of {limits.max_artifact_bytes} bytes per file"
        )
    stored = uow.session.scalars(
        select(Artifact).where(Artifact.submission_id == sub.id, Artifact.name == name)
    ).first()
    if stored is not None:
        same = "the same content" if stored.sha256 == sha256 else "different content"
        raise Conflict(f"name: {name!r} is already stored in this submission ({same})")
    now = utcnow()
    for up in uow.session.scalars(
        select(UploadSession).where(
            UploadSession.submission_id == sub.id,
            UploadSession.name == name,
            UploadSession.state == UploadState.OPEN,
        )
    ):
        # The same file resumes; a client that hashes as it sends declares no SHA-256 yet.
        same_hash = not sha256 or not up.sha256 or up.sha256 == sha256
        if up.expires_at > now and up.size == size and same_hash:
            if sha256 and not up.sha256:
                up.sha256 = sha256
            return up  # resume
        up.state, up.updated_at, up.error = UploadState.EXPIRED, now, "replaced by a new upload"
    used = (
        uow.session.scalar(
            select(func.coalesce(func.sum(Artifact.size), 0)).where(
                Artifact.submission_id == sub.id, Artifact.state == ArtifactState.STORED
            )
        )
        or 0
    )
    pending = (
        uow.session.scalar(
            select(func.coalesce(func.sum(UploadSession.size), 0)).where(
                UploadSession.submission_id == sub.id,
                UploadSession.state.in_([UploadState.OPEN, UploadState.COMPLETING]),
            )
        )
        or 0
    )
    if used + pending + size > limits.max_submission_bytes:
        raise PayloadTooLarge(
            f"size: this file would bring the submission to {used + pending + size} bytes, over "
            f"the limit of {limits.max_submission_bytes} bytes per submission"
        )
    version, org_key = active_org_key_for(uow, org_id=sub.org_id, master=master)
    up = UploadSession(
        id=new_id(),
        submission_id=sub.id,
        org_id=sub.org_id,
        created_by=actor.user_id,
        name=name,
        kind=kind,
        media_type=media_type,
        size=size,
        sha256=sha256,
        chunk_bytes=limits.chunk_bytes,
        state=UploadState.OPEN,
        parts=[],
        key_version=version,
        created_at=now,
        updated_at=now,
        expires_at=now + timedelta(hours=limits.session_hours),
    )
    up.wrapped_key = crypto.wrap_data_key(org_key, crypto.new_key(), artifact_id=upload_aad(up.id))
    uow.session.add(up)
    uow.flush()
    audit.append(
        uow.session,
        action="artifact.upload_started",
        actor=actor,
        object_type="upload",
        object_id=up.id,
        org_id=up.org_id,
        detail={"submission_id": sub.id, "name": name, "size": size, "sha256": sha256},
    )
    return up


def upload_status(uow: UnitOfWork, *, actor: Actor, upload_id: str) -> UploadSession:
    """An upload session, with how far it got (expired sessions are marked so)."""
    return _upload(uow, actor=actor, upload_id=upload_id)


@dataclass(frozen=True, repr=False)
class ChunkTarget:
    """What sealing a chunk of an upload needs; it does not change while the session lives."""

    upload_id: str
    org_id: str
    size: int
    chunk_bytes: int
    session_key: bytes

    def __repr__(self) -> str:
        return f"ChunkTarget(upload_id={self.upload_id!r})"

    def expected_size(self, index: int) -> int:
        """The exact size of chunk index; InvalidInput if the file has no such chunk."""
        return rules.expected_chunk_size(self.size, self.chunk_bytes, index)


@dataclass(frozen=True)
class Part:
    """A chunk sealed into the blob store."""

    key: str
    size: int


# Sealed chunks are built here before they are stored: about one per chunk in flight.
_SEALING = BufferPool(keep=4)


def chunk_target(
    uow: UnitOfWork, *, actor: Actor, upload_id: str, master: MasterKey
) -> ChunkTarget:
    """The session a chunk goes to, checked open; callers may keep it while it stays open."""
    up = _upload(uow, actor=actor, upload_id=upload_id)
    _require_open(up)
    key = upload_session_key(uow, up, master=master)
    return ChunkTarget(up.id, up.org_id, up.size, up.chunk_bytes, key)


def check_chunk_actor(actor: Actor, target: ChunkTarget) -> None:
    """The access check of a chunk against a known session (the same as `_upload`'s)."""
    authorize(actor, "artifact.upload", org_id=target.org_id)
    if actor.org_id != target.org_id:
        raise NotFound("upload session not found")


def chunk_binding(upload_id: str, index: int) -> str:
    """What the staging object of chunk index of an upload is bound to."""
    return segment_binding(upload_aad(upload_id), index)


def seal_chunk(store: BlobStore, target: ChunkTarget, index: int, data: BytesLike) -> Part:
    """Seal and store one chunk under a fresh staging key, in one pass over its bytes.

    Each write has a fresh nonce prefix, so a resend never reuses a (key, nonce) pair. The
    staging object is a whole vault object bound to the upload and the index: the artifact is
    these objects in order, so completion copies nothing. The chunk is not hashed here: the
    file's hash covers it (digests.py), and a resend is compared byte for byte (same_chunk).
    """
    expected = target.expected_size(index)
    if len(data) != expected:
        raise InvalidInput(f"chunk {index} must be {expected} bytes (got {len(data)})")
    key = f"uploads/{target.upload_id}/{index:08d}-{new_id()[:8]}"
    bound_to = chunk_binding(target.upload_id, index)
    with _SEALING.borrowed(crypto.encrypted_size(len(data))) as out:
        sealed = crypto.seal_into(target.session_key, data, out, artifact_id=bound_to)
        store.put(key, [sealed])  # written (or copied) before put returns: out is free again
    return Part(key, len(data))


def same_chunk(
    store: BlobStore, target: ChunkTarget, index: int, key: str, data: BytesLike
) -> bool:
    """Whether the chunk stored under key holds exactly data (a resend must not change it)."""
    view = memoryview(data).cast("B")
    at = 0
    bound_to = chunk_binding(target.upload_id, index)
    for block in crypto.decrypt_stream(target.session_key, store.open(key), artifact_id=bound_to):
        if view[at : at + len(block)].tobytes() != block:
            return False
        at += len(block)
    return at == len(view)


def record_chunk(
    uow: UnitOfWork, *, actor: Actor, upload_id: str, index: int, part: Part, session_hours: int
) -> tuple[UploadSession, str | None]:
    """Record a stored chunk (any order). Returns the session and, if the chunk was recorded
    before (a resend, or a concurrent send won), the key it was stored under; the caller then
    checks the bytes are the same and deletes its own copy."""
    up = _upload(uow, actor=actor, upload_id=upload_id, lock=True)
    _require_open(up)
    rules.expected_chunk_size(up.size, up.chunk_bytes, index)
    parts = up.parts or []
    earlier = parts[index] if index < len(parts) else None
    if earlier is not None:
        return up, str(earlier["key"])
    entry = {"key": part.key, "size": part.size}
    up.parts = rules.with_part(parts, index, entry)
    up.updated_at = utcnow()
    up.expires_at = max(up.expires_at, up.updated_at + timedelta(hours=session_hours))
    return up, None


@dataclass(frozen=True, repr=False)
class Completion:
    """What checking the received file needs."""

    upload_id: str
    artifact_id: str
    part_keys: list[str]
    part_sizes: list[int]
    session_key: bytes
    size: int
    sha256: str

    def __repr__(self) -> str:
        return f"Completion(upload_id={self.upload_id!r}, artifact_id={self.artifact_id!r})"


def begin_completion(
    uow: UnitOfWork, *, actor: Actor, upload_id: str, master: MasterKey, sha256: str = ""
) -> Completion:
    """Check every chunk arrived and reserve the artifact; the caller commits, then verifies.

    sha256 is the file's hash if the client gives it now (it hashed while sending); if it was
    declared at the start as well, the two must agree.
    """
    up = _upload(uow, actor=actor, upload_id=upload_id, lock=True)
    _require_open(up)
    given = rules.check_sha256(sha256) if sha256 else ""
    if given and up.sha256 and given != up.sha256:
        raise InvalidInput(
            f"sha256: {given} differs from the {up.sha256} declared when the upload started"
        )
    expected = given or up.sha256
    if not expected:
        raise InvalidInput("sha256: give the file's SHA-256 to complete the upload")
    total = rules.chunk_count(up.size, up.chunk_bytes)
    parts = up.parts or []
    missing = rules.missing_ranges(parts, total)
    if missing:
        have = len(rules.received_indexes(parts))
        first = missing[0][0]
        raise Conflict(f"{have} of {total} chunks received; send chunk {first} next")
    session_key = upload_session_key(uow, up, master=master)
    artifact_id = new_id()
    up.sha256 = expected
    up.state, up.artifact_id, up.updated_at = UploadState.COMPLETING, artifact_id, utcnow()
    return Completion(
        upload_id=up.id,
        artifact_id=artifact_id,
        part_keys=[str(p["key"]) for p in parts],
        part_sizes=[int(p["size"]) for p in parts],
        session_key=session_key,
        size=up.size,
        sha256=expected,
    )


def segment_binding(bound_to: str, index: int) -> str:
    """What segment index of a chunked artifact (a staging object) is bound to."""
    return f"{bound_to}:{index}"


def segments_plaintext(
    store: BlobStore, keys: list[str], *, data_key: bytes, bound_to: str, start: int = 0
) -> Iterator[bytes]:
    """The plaintext of sealed segments from `start` on, each verified as it is read."""
    for index in range(start, len(keys)):
        yield from crypto.decrypt_stream(
            data_key, store.open(keys[index]), artifact_id=segment_binding(bound_to, index)
        )


def verify_received(store: BlobStore, plan: Completion, *, hashed: int, digest: Any) -> Stored:
    """Finish the file's SHA-256 from the first chunk not hashed yet; InvalidInput on mismatch.

    `hashed` leading chunks are in `digest` already (hashed as they arrived); the rest are
    read back from the store, so the result is the hash of exactly what was recorded.
    """
    size = sum(plan.part_sizes[:hashed])
    for block in segments_plaintext(
        store,
        plan.part_keys,
        data_key=plan.session_key,
        bound_to=upload_aad(plan.upload_id),
        start=hashed,
    ):
        digest.update(block)
        size += len(block)
    got = digest.hexdigest()
    if (size, got) != (plan.size, plan.sha256):
        raise InvalidInput(
            f"the received file does not match what was declared: size {size} "
            f"(declared {plan.size}), sha256 {got} (declared {plan.sha256})"
        )
    stored = sum(crypto.encrypted_size(n) for n in plan.part_sizes)
    return Stored(size=size, sha256=got, stored_bytes=stored)


def finish_completion(
    uow: UnitOfWork, *, actor: Actor, plan: Completion, stored: Stored, master: MasterKey
) -> Artifact:
    """Make the artifact visible (its sealed chunks, in order) and close the session.

    The session key becomes the artifact's data key, wrapped again bound to the artifact.
    """
    up = _upload(uow, actor=actor, upload_id=plan.upload_id, lock=True)
    if up.state != UploadState.COMPLETING or up.artifact_id != plan.artifact_id:
        raise Conflict(f"this upload session is {up.state}")
    org_key = org_key_for(uow, org_id=up.org_id, version=up.key_version, master=master)
    art = Artifact(
        id=plan.artifact_id,
        submission_id=up.submission_id,
        org_id=up.org_id,
        name=up.name,
        kind=up.kind,
        media_type=up.media_type,
        size=stored.size,
        sha256=stored.sha256,
        state=ArtifactState.STORED,
        storage_key=f"uploads/{up.id}",
        segments=list(plan.part_keys),
        bound_to=upload_aad(up.id),
        stored_bytes=stored.stored_bytes,
        key_version=up.key_version,
        wrapped_data_key=crypto.wrap_data_key(
            org_key, plan.session_key, artifact_id=plan.artifact_id
        ),
        created_by=up.created_by,
        created_at=utcnow(),
    )
    uow.session.add(art)
    up.state, up.updated_at, up.wrapped_key = UploadState.COMPLETED, utcnow(), None
    uow.flush()
    audit.append(
        uow.session,
        action="artifact.stored",
        actor=actor,
        object_type="artifact",
        object_id=art.id,
        org_id=art.org_id,
        detail={
            "submission_id": art.submission_id,
            "name": art.name,
            "kind": art.kind,
            "size": art.size,
            "sha256": art.sha256,
        },
    )
    events.publish(uow, ARTIFACT_STORED_EVENT, {"artifact_id": art.id})
    return art


def fail_completion(uow: UnitOfWork, *, actor: Actor, upload_id: str, error: str) -> list[str]:
    """Mark a completion that failed; returns the staging keys to delete."""
    up = _upload(uow, actor=actor, upload_id=upload_id, lock=True)
    if up.state == UploadState.COMPLETING:
        up.state, up.error, up.updated_at = UploadState.FAILED, error[:500], utcnow()
        up.wrapped_key = None
    return [str(p["key"]) for p in up.parts or [] if p is not None]


def pending_uploads(uow: UnitOfWork, *, actor: Actor, sub: Submission) -> list[UploadSession]:
    """The open, unexpired upload sessions of a submission, oldest first (its firm only)."""
    check_may_upload(uow, actor=actor, sub=sub)
    stmt = (
        select(UploadSession)
        .where(
            UploadSession.submission_id == sub.id,
            UploadSession.state == UploadState.OPEN,
            UploadSession.expires_at > utcnow(),
        )
        .order_by(UploadSession.created_at)
    )
    return list(uow.session.scalars(stmt))


# --- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Manifest:
    """A submission's manifest as one viewer may see it: the lines, or only their count."""

    submission_id: str
    artifacts: list[Artifact]
    count: int
    # True for agency staff not assigned to the submission: no names, sizes or hashes.
    withheld: bool


def read_manifest(uow: UnitOfWork, *, actor: Actor, submission_id: str) -> Manifest:
    """The manifest, in full for the firm and assigned staff, as a count for other staff;
    every read is audited."""
    sub = submissions.get_submission(uow, actor=actor, submission_id=submission_id)
    authorize(actor, "artifact.read", org_id=sub.org_id)
    stmt = select(Artifact).where(Artifact.submission_id == sub.id).order_by(Artifact.name)
    arts = list(uow.session.scalars(stmt))
    assigned = submissions.assigned_user_ids(uow, submission_id=sub.id)
    full = may_read_confidential(actor, org_id=sub.org_id, assigned_user_ids=assigned)
    audit.append(
        uow.session,
        action="artifact.manifest_read",
        actor=actor,
        object_type="submission",
        object_id=sub.id,
        org_id=sub.org_id,
        detail={"artifacts": len(arts), "withheld": not full},
    )
    return Manifest(sub.id, arts if full else [], len(arts), not full)


def list_artifacts(uow: UnitOfWork, *, actor: Actor, submission_id: str) -> list[Artifact]:
    """The submission's manifest lines (kind, size, SHA-256); Forbidden for unassigned staff."""
    manifest = read_manifest(uow, actor=actor, submission_id=submission_id)
    if manifest.withheld:
        raise Forbidden(_NEED_TO_KNOW)
    return manifest.artifacts


_NEED_TO_KNOW = (
    "only the owning firm and the staff assigned to this submission see its file names, "
    "sizes and hashes"
)


def _artifact(uow: UnitOfWork, *, actor: Actor, artifact_id: str) -> Artifact:
    art = uow.session.get(Artifact, artifact_id) if len(artifact_id) <= 64 else None
    if art is None:
        raise NotFound("artifact not found")
    submissions.get_submission(uow, actor=actor, submission_id=art.submission_id)
    authorize(actor, "artifact.read", org_id=art.org_id)
    return art


def get_artifact(uow: UnitOfWork, *, actor: Actor, artifact_id: str) -> Artifact:
    """One artifact's manifest line, for the firm and the staff assigned to its submission."""
    art = _artifact(uow, actor=actor, artifact_id=artifact_id)
    assigned = submissions.assigned_user_ids(uow, submission_id=art.submission_id)
    if not may_read_confidential(actor, org_id=art.org_id, assigned_user_ids=assigned):
        raise Forbidden(_NEED_TO_KNOW)
    return art


@dataclass(frozen=True)
class Download:
    """What streaming an artifact back needs."""

    artifact: Artifact
    data_key: bytes


# A later stage may hold a download back (the findings stage: an artifact a check blocked).
# A guard raises to refuse, or returns what the audit row should add (None: nothing to say).
DownloadGuard = Callable[[UnitOfWork, Actor, Artifact, str | None], dict[str, Any] | None]
_DOWNLOAD_GUARDS: list[DownloadGuard] = []


def add_download_guard(guard: DownloadGuard) -> None:
    """Register a check every download passes before a byte leaves the vault."""
    if guard not in _DOWNLOAD_GUARDS:
        _DOWNLOAD_GUARDS.append(guard)


def open_download(
    uow: UnitOfWork,
    *,
    actor: Actor,
    artifact_id: str,
    master: MasterKey,
    confirm_finding: str | None = None,
) -> Download:
    """Need-to-know check and audit of a download; the caller commits, then streams.

    confirm_finding is the explicit confirmation a guard may ask for (the finding it names).
    """
    art = _artifact(uow, actor=actor, artifact_id=artifact_id)
    assigned = submissions.assigned_user_ids(uow, submission_id=art.submission_id)
    if not may_read_confidential(actor, org_id=art.org_id, assigned_user_ids=assigned):
        raise Forbidden(
            "only the owning firm and the reviewers assigned to this submission may download it"
        )
    detail: dict[str, Any] = {
        "submission_id": art.submission_id,
        "name": art.name,
        "sha256": art.sha256,
    }
    action = "artifact.downloaded"
    for guard in _DOWNLOAD_GUARDS:
        extra = guard(uow, actor, art, confirm_finding)
        if extra:
            detail.update(extra)
            action = "artifact.downloaded_blocked"
    data_key = artifact_data_key(uow, art, master=master)
    audit.append(
        uow.session,
        action=action,
        actor=actor,
        object_type="artifact",
        object_id=art.id,
        org_id=art.org_id,
        detail=detail,
    )
    return Download(art, data_key)


def artifact_plaintext(
    store: BlobStore,
    *,
    data_key: bytes,
    artifact_id: str,
    storage_key: str,
    segments: list[Any] | None,
    bound_to: str,
) -> Iterator[bytes]:
    """An artifact's plaintext, verified chunk by chunk: its segments in order, or one object."""
    if segments is not None:
        keys = [str(k) for k in segments]
        return segments_plaintext(store, keys, data_key=data_key, bound_to=bound_to)
    return crypto.decrypt_stream(data_key, store.open(storage_key), artifact_id=artifact_id)


def stream_download(store: BlobStore, download: Download) -> Iterator[bytes]:
    """The artifact's plaintext, verified chunk by chunk as it streams."""
    art = download.artifact
    return artifact_plaintext(
        store,
        data_key=download.data_key,
        artifact_id=art.id,
        storage_key=art.storage_key,
        segments=art.segments,
        bound_to=art.bound_to,
    )
