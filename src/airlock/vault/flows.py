"""Vault workflows that span transactions: declaring, sending and completing an upload.

A flow owns its transactions through units of work from `uows` and never holds one across
bulk I/O: a chunk is planned in one transaction, encrypted into the blob store outside any and
recorded in a second; a completion is reserved, assembled, then recorded (or its failure is),
and the staging objects it no longer needs are deleted. A process killed in between leaves only
unreferenced objects for `vault gc`. The API, the pages, the CLI and jobs all call these.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from airlock.core.access import Actor
from airlock.core.errors import AirlockError
from airlock.core.uow import UnitOfWork
from airlock.settings import Settings
from airlock.vault import service
from airlock.vault.keys import master_key_for
from airlock.vault.models import Artifact, UploadSession
from airlock.vault.rules import ArtifactKind

UnitsOfWork = Callable[[], UnitOfWork]


def upload_limits(settings: Settings) -> service.UploadLimits:
    """The upload limits these settings set."""
    return service.UploadLimits(
        max_artifact_bytes=settings.max_artifact_bytes,
        max_submission_bytes=settings.max_submission_bytes,
        chunk_bytes=settings.upload_chunk_bytes,
        session_hours=settings.upload_session_hours,
    )


def declare_upload(
    uows: UnitsOfWork,
    *,
    actor: Actor,
    submission_id: str,
    name: str,
    kind: ArtifactKind,
    media_type: str,
    size: int,
    sha256: str,
) -> UploadSession:
    """Open an upload session for a declared file (or the open one for the same file)."""
    with uows() as uow:
        settings = uow.services.settings
        up = service.start_upload(
            uow,
            actor=actor,
            submission_id=submission_id,
            name=name,
            kind=kind,
            media_type=media_type,
            size=size,
            sha256=sha256,
            limits=upload_limits(settings),
            master=master_key_for(settings),
        )
        uow.commit()
    return up


def put_chunk(
    uows: UnitsOfWork, *, actor: Actor, upload_id: str, index: int, data: bytes
) -> UploadSession:
    """Store chunk `index` of an upload; resending a chunk already received is harmless."""
    with uows() as uow:
        services = uow.services
        plan = service.plan_chunk(
            uow,
            actor=actor,
            upload_id=upload_id,
            index=index,
            length=len(data),
            master=master_key_for(services.settings),
        )
        uow.commit()
    store = services.blob_store
    part = service.write_chunk(store, plan, data)
    try:
        with uows() as uow:
            up, surplus = service.record_chunk(
                uow,
                actor=actor,
                upload_id=upload_id,
                index=index,
                part=part,
                session_hours=services.settings.upload_session_hours,
            )
            uow.commit()
    except BaseException:
        if part.written:
            store.delete(part.key)
        raise
    if surplus:
        store.delete(surplus)
    return up


def complete_upload(uows: UnitsOfWork, *, actor: Actor, upload_id: str) -> Artifact:
    """Check size and SHA-256 of everything received and store the artifact."""
    with uows() as uow:
        services = uow.services
        master = master_key_for(services.settings)
        plan = service.begin_completion(uow, actor=actor, upload_id=upload_id, master=master)
        uow.commit()
    store = services.blob_store
    try:
        stored = service.assemble(store, plan)
        with uows() as uow:
            art = service.finish_completion(
                uow, actor=actor, plan=plan, stored=stored, master=master
            )
            uow.commit()
    except BaseException as exc:
        message = str(exc) if isinstance(exc, AirlockError) else type(exc).__name__
        with uows() as uow:
            stale = service.fail_completion(uow, actor=actor, upload_id=upload_id, error=message)
            uow.commit()
        for key in [plan.storage_key, *stale]:
            with contextlib.suppress(Exception):
                store.delete(key)
        raise
    for key in plan.part_keys:
        with contextlib.suppress(Exception):  # `vault gc` removes what is left
            store.delete(key)
    return art
