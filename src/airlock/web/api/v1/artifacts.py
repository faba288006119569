"""API: resumable chunked uploads into the vault, the manifest, need-to-know downloads."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from airlock.core.errors import InvalidInput
from airlock.scanning import service as scanning
from airlock.vault import flows, service
from airlock.vault.buffers import BufferPool
from airlock.vault.keys import master_key_for
from airlock.vault.schemas import (
    ArtifactOut,
    CompleteIn,
    ManifestOut,
    UploadIn,
    UploadOut,
    upload_out,
)
from airlock.web.deps import ActorDep, ContainerDep, UoWDep

router = APIRouter(tags=["artifacts"])


@router.post("/submissions/{submission_id}/uploads", response_model=UploadOut, status_code=201)
def start_upload(
    submission_id: str, body: UploadIn, actor: ActorDep, container: ContainerDep
) -> UploadOut:
    """Declare a file (name, kind, size, SHA-256); an open session for the same file resumes."""
    up = flows.declare_upload(
        container.uow,
        actor=actor,
        submission_id=submission_id,
        name=body.name,
        kind=body.kind,
        media_type=body.media_type,
        size=body.size,
        sha256=body.sha256,
    )
    return upload_out(up)


@router.get("/uploads/{upload_id}", response_model=UploadOut)
def upload_status(upload_id: str, actor: ActorDep, uow: UoWDep) -> UploadOut:
    """Where an upload stands: chunks received and the next index and offset to send."""
    with uow:
        up = service.upload_status(uow, actor=actor, upload_id=upload_id)
        uow.commit()  # an expired session is marked so
        return upload_out(up)


@router.put("/uploads/{upload_id}/chunks/{index}", response_model=UploadOut)
async def put_chunk(
    upload_id: str, index: int, request: Request, actor: ActorDep, container: ContainerDep
) -> UploadOut:
    """Send chunk `index` (raw bytes). Chunks may come in any order and several at once;
    resending a chunk already received is harmless."""
    expected = await run_in_threadpool(
        partial(flows.chunk_size_of, actor=actor, upload_id=upload_id, index=index),
        container.uow,
    )
    buf = _RECEIVING.take(expected)
    try:
        data = await _receive(request, memoryview(buf)[:expected], index)
    except BaseException:
        _RECEIVING.give(buf)
        raise
    up = await run_in_threadpool(
        partial(
            flows.put_chunk,
            actor=actor,
            upload_id=upload_id,
            index=index,
            data=data,
            release=partial(_RECEIVING.give, buf),  # once sealed and hashed (or dropped)
        ),
        container.uow,
    )
    return upload_out(up)


# Chunks are received into reused buffers: a fresh one per chunk costs page faults and
# zeroing on the event loop, which every other request waits for.
_RECEIVING = BufferPool(keep=6)


async def _receive(request: Request, view: memoryview, index: int) -> memoryview:
    """The body, received into one buffer of the chunk's size (no list of pieces to join)."""
    expected = len(view)
    got = 0
    async for piece in request.stream():
        end = got + len(piece)
        if end > expected:
            raise InvalidInput(f"chunk {index} must be {expected} bytes (got more)")
        view[got:end] = piece
        got = end
    if got != expected:
        raise InvalidInput(f"chunk {index} must be {expected} bytes (got {got})")
    return view


@router.post("/uploads/{upload_id}/complete", response_model=ArtifactOut, status_code=201)
async def complete_upload(
    upload_id: str, actor: ActorDep, container: ContainerDep, body: CompleteIn | None = None
) -> ArtifactOut:
    """Check size and SHA-256 of everything received and store the artifact."""
    sha256 = body.sha256 if body is not None else ""
    art = await run_in_threadpool(
        partial(flows.complete_upload, actor=actor, upload_id=upload_id, sha256=sha256),
        container.uow,
    )
    return ArtifactOut.model_validate(art)


@router.get("/submissions/{submission_id}/artifacts", response_model=ManifestOut)
def manifest(submission_id: str, actor: ActorDep, uow: UoWDep) -> ManifestOut:
    """The submission's manifest: every file with its kind, size and SHA-256 (for staff not
    assigned to the submission: the count and verdicts only). Each read is audited."""
    with uow:
        manifest = service.read_manifest(uow, actor=actor, submission_id=submission_id)
        items = [ArtifactOut.model_validate(a) for a in manifest.artifacts]
        verdicts = scanning.verdict_counts(uow, actor=actor, submission_id=manifest.submission_id)
        uow.commit()  # the audit row of the read
    return ManifestOut(
        submission_id=submission_id,
        artifacts=items,
        total_bytes=sum(a.size for a in items if a.state == "stored"),
        artifact_count=manifest.count,
        withheld=manifest.withheld,
        verdicts=verdicts,
    )


@router.get("/artifacts/{artifact_id}", response_model=ArtifactOut)
def get_artifact(artifact_id: str, actor: ActorDep, uow: UoWDep) -> ArtifactOut:
    """One artifact's manifest line."""
    with uow:
        return ArtifactOut.model_validate(
            service.get_artifact(uow, actor=actor, artifact_id=artifact_id)
        )


@router.get("/artifacts/{artifact_id}/content")
def download(
    artifact_id: str,
    actor: ActorDep,
    uow: UoWDep,
    container: ContainerDep,
    confirm_finding: str | None = Query(default=None, min_length=1, max_length=64),
) -> StreamingResponse:
    """Stream the decrypted file, verified as it goes (owning firm and assigned reviewers; an
    artifact a check blocked: assigned reviewers only, confirming the finding by its id)."""
    with uow:
        dl = service.open_download(
            uow,
            actor=actor,
            artifact_id=artifact_id,
            master=master_key_for(container.settings),
            confirm_finding=confirm_finding,
        )
        uow.commit()  # the audit row goes in before a byte leaves
    body: Iterator[bytes] = service.stream_download(container.blob_store, dl)
    art = dl.artifact
    filename = art.name.rsplit("/", 1)[-1]
    return StreamingResponse(
        body,
        # Always a download, never rendered: a firm's declared type could be text/html.
        media_type="application/octet-stream",
        headers={
            "X-Artifact-Media-Type": art.media_type,
            "Content-Length": str(art.size),
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
            "X-Content-SHA256": art.sha256,
        },
    )
