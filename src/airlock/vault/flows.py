"""Vault workflows that span transactions: declaring, sending and completing an upload.

A flow owns its transactions through units of work from `uows` and never holds one across
bulk I/O: a chunk is sealed into the blob store outside any transaction and recorded in one
short one; a completion is reserved, its hash finished, then recorded (or its failure is). A
process killed in between leaves only unreferenced objects for `vault gc`. The API, the
pages, the CLI and jobs all call these.
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from collections.abc import Callable

from airlock.core.access import Actor
from airlock.core.errors import AirlockError, Conflict
from airlock.core.uow import UnitOfWork
from airlock.settings import Settings
from airlock.vault import digests, service
from airlock.vault.crypto import BytesLike
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


class _Targets:
    """Sessions this process has sent chunks to: what sealing needs, looked up once.

    What is kept never changes while a session lives (its size, chunk size, firm and key);
    whether it is still open is checked by the one transaction of every chunk.
    """

    def __init__(self, limit: int = 256) -> None:
        self._lock = threading.Lock()
        self._items: OrderedDict[str, service.ChunkTarget] = OrderedDict()
        self._limit = limit

    def get(self, upload_id: str) -> service.ChunkTarget | None:
        with self._lock:
            target = self._items.get(upload_id)
            if target is not None:
                self._items.move_to_end(upload_id)
            return target

    def put(self, target: service.ChunkTarget) -> None:
        with self._lock:
            self._items[target.upload_id] = target
            while len(self._items) > self._limit:
                self._items.popitem(last=False)

    def drop(self, upload_id: str) -> None:
        with self._lock:
            self._items.pop(upload_id, None)


_TARGETS = _Targets()


def _target(uows: UnitsOfWork, *, actor: Actor, upload_id: str) -> service.ChunkTarget:
    target = _TARGETS.get(upload_id)
    if target is not None:
        service.check_chunk_actor(actor, target)
        return target
    with uows() as uow:
        target = service.chunk_target(
            uow, actor=actor, upload_id=upload_id, master=master_key_for(uow.services.settings)
        )
        uow.commit()  # an expired session is marked so
    _TARGETS.put(target)
    return target


def chunk_size_of(uows: UnitsOfWork, *, actor: Actor, upload_id: str, index: int) -> int:
    """The exact size chunk `index` must have (so a route can receive it into one buffer)."""
    return _target(uows, actor=actor, upload_id=upload_id).expected_size(index)


def put_chunk(
    uows: UnitsOfWork,
    *,
    actor: Actor,
    upload_id: str,
    index: int,
    data: BytesLike,
    release: digests.Release | None = None,
) -> UploadSession:
    """Store chunk `index` of an upload; chunks come in any order, several at once, and
    resending one already received is harmless.

    The chunk is sealed and stored in one pass outside any transaction, then recorded in one
    short transaction; a resend must carry the same bytes (compared with what is stored) and
    its copy is deleted again. The file's hash takes the chunk in order (digests.py).
    `release` is called once data is no longer needed (so its buffer may be reused).
    """
    try:
        up = _put_chunk(uows, actor=actor, upload_id=upload_id, index=index, data=data)
    except BaseException:
        if release is not None:
            release()
        raise
    if release is None:
        digests.RUNNING.offer(upload_id, index, data)
    else:
        digests.RUNNING.offer(upload_id, index, data, release)
    return up


def _put_chunk(
    uows: UnitsOfWork, *, actor: Actor, upload_id: str, index: int, data: BytesLike
) -> UploadSession:
    target = _target(uows, actor=actor, upload_id=upload_id)
    services = uows().services  # a unit of work opens nothing until it is entered
    store = services.blob_store
    part = service.seal_chunk(store, target, index, data)
    try:
        with uows() as uow:
            up, earlier = service.record_chunk(
                uow,
                actor=actor,
                upload_id=upload_id,
                index=index,
                part=part,
                session_hours=services.settings.upload_session_hours,
            )
            uow.commit()
    except BaseException as exc:
        store.delete(part.key)
        if isinstance(exc, Conflict) and "upload session" in str(exc):
            _TARGETS.drop(upload_id)
            digests.RUNNING.forget(upload_id)
        raise
    if earlier is not None:
        store.delete(part.key)
        if not service.same_chunk(store, target, index, earlier, data):
            raise Conflict(
                f"chunk {index} was already received with different content; "
                "resend the same bytes or start a new upload"
            )
    return up


def complete_upload(
    uows: UnitsOfWork, *, actor: Actor, upload_id: str, sha256: str = ""
) -> Artifact:
    """Check size and SHA-256 of everything received and make the artifact visible.

    The chunks already stored become the artifact: nothing is copied. The file's hash was
    mostly computed as chunks arrived; only chunks this process did not hash are read back.
    """
    with uows() as uow:
        services = uow.services
        master = master_key_for(services.settings)
        plan = service.begin_completion(
            uow, actor=actor, upload_id=upload_id, master=master, sha256=sha256
        )
        uow.commit()
    _TARGETS.drop(upload_id)
    store = services.blob_store
    try:
        hashed, digest = digests.RUNNING.take(upload_id)
        stored = service.verify_received(store, plan, hashed=hashed, digest=digest)
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
        for key in stale:
            with contextlib.suppress(Exception):  # `vault gc` removes what is left
                store.delete(key)
        raise
    return art
