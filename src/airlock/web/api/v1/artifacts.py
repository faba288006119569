"""API: resumable chunked uploads into the vault, the manifest, need-to-know downloads."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from airlock.bootstrap import Container
from airlock.core.access import Actor
from airlock.core.errors import AirlockError
from airlock.vault import rules, service
from airlock.vault.keys import master_key_for
from airlock.vault.models import UploadSession
from airlock.vault.schemas import ArtifactOut, ManifestOut, UploadIn, UploadOut
from airlock.web.deps import ActorDep, ContainerDep, UoWDep

router = APIRouter(tags=["artifacts"])


def _limits(container: Container) -> service.UploadLimits:
    s = container.settings
    return service.UploadLimits(
        max_artifact_bytes=s.max_artifact_bytes,
        max_submission_bytes=s.max_submission_bytes,
        chunk_bytes=s.upload_chunk_bytes,
        session_hours=s.upload_session_hours,
    )


def upload_out(up: UploadSession) -> UploadOut:
    """The API view of an upload session, with where to resume."""
    total = rules.chunk_count(up.size, up.chunk_bytes)
    received = len(up.parts)
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
        next_index=received if received < total else None,
        next_offset=min(received * up.chunk_bytes, up.size),
        expires_at=up.expires_at,
        artifact_id=up.artifact_id,
        error=up.error,
    )


@router.post("/submissions/{submission_id}/uploads", response_model=UploadOut, status_code=201)
def start_upload(
    submission_id: str, body: UploadIn, actor: ActorDep, uow: UoWDep, container: ContainerDep
) -> UploadOut:
    """Declare a file (name, kind, size, SHA-256); an open session for the same file resumes."""
    with uow:
        up = service.start_upload(
            uow,
            actor=actor,
            submission_id=submission_id,
            name=body.name,
            kind=body.kind,
            media_type=body.media_type,
            size=body.size,
            sha256=body.sha256,
            limits=_limits(container),
            master=master_key_for(container.settings),
        )
        uow.commit()
        return upload_out(up)


@router.get("/uploads/{upload_id}", response_model=UploadOut)
def upload_status(upload_id: str, actor: ActorDep, uow: UoWDep) -> UploadOut:
    """Where an upload stands: chunks received and the next index and offset to send."""
    with uow:
        up = service.upload_status(uow, actor=actor, upload_id=upload_id)
        uow.commit()  # an expired session is marked so
        return upload_out(up)


def _put_chunk(
    container: Container, actor: Actor, upload_id: str, index: int, data: bytes
) -> UploadOut:
    master = master_key_for(container.settings)
    store = container.blob_store
    with container.uow() as uow:
        plan = service.plan_chunk(
            uow, actor=actor, upload_id=upload_id, index=index, length=len(data), master=master
        )
        uow.commit()
    part = service.write_chunk(store, plan, data)
    try:
        with container.uow() as uow:
            up, surplus = service.record_chunk(
                uow,
                actor=actor,
                upload_id=upload_id,
                index=index,
                part=part,
                session_hours=container.settings.upload_session_hours,
            )
            uow.commit()
            out = upload_out(up)
    except BaseException:
        if part.written:
            store.delete(part.key)
        raise
    if surplus:
        store.delete(surplus)
    return out


@router.put("/uploads/{upload_id}/chunks/{index}", response_model=UploadOut)
async def put_chunk(
    upload_id: str, index: int, request: Request, actor: ActorDep, container: ContainerDep
) -> UploadOut:
    """Send chunk `index` (raw bytes); resending a chunk already received is harmless."""
    data = await request.body()
    return await run_in_threadpool(_put_chunk, container, actor, upload_id, index, data)


def _complete(container: Container, actor: Actor, upload_id: str) -> ArtifactOut:
    master = master_key_for(container.settings)
    store = container.blob_store
    with container.uow() as uow:
        plan = service.begin_completion(uow, actor=actor, upload_id=upload_id, master=master)
        uow.commit()
    try:
        stored = service.assemble(store, plan)
        with container.uow() as uow:
            art = service.finish_completion(
                uow, actor=actor, plan=plan, stored=stored, master=master
            )
            uow.commit()
            out = ArtifactOut.model_validate(art)
    except BaseException as exc:
        message = str(exc) if isinstance(exc, AirlockError) else type(exc).__name__
        with container.uow() as uow:
            stale = service.fail_completion(uow, actor=actor, upload_id=upload_id, error=message)
            uow.commit()
        for key in [plan.storage_key, *stale]:
            with contextlib.suppress(Exception):
                store.delete(key)
        raise
    for key in plan.part_keys:
        with contextlib.suppress(Exception):  # `vault gc` removes what is left
            store.delete(key)
    return out


@router.post("/uploads/{upload_id}/complete", response_model=ArtifactOut, status_code=201)
async def complete_upload(upload_id: str, actor: ActorDep, container: ContainerDep) -> ArtifactOut:
    """Check size and SHA-256 of everything received and store the artifact."""
    return await run_in_threadpool(_complete, container, actor, upload_id)


@router.get("/submissions/{submission_id}/artifacts", response_model=ManifestOut)
def manifest(submission_id: str, actor: ActorDep, uow: UoWDep) -> ManifestOut:
    """The submission's manifest: every file with its kind, size and SHA-256."""
    with uow:
        arts = service.list_artifacts(uow, actor=actor, submission_id=submission_id)
        items = [ArtifactOut.model_validate(a) for a in arts]
    return ManifestOut(
        submission_id=submission_id,
        artifacts=items,
        total_bytes=sum(a.size for a in items if a.state == "stored"),
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
    artifact_id: str, actor: ActorDep, uow: UoWDep, container: ContainerDep
) -> StreamingResponse:
    """Stream the decrypted file, verified as it goes (owning firm and assigned reviewers)."""
    with uow:
        dl = service.open_download(
            uow,
            actor=actor,
            artifact_id=artifact_id,
            master=master_key_for(container.settings),
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
