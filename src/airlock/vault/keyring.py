"""Organisation keys: creating, unwrapping, rotating under a new master key, crypto-shredding."""

from __future__ import annotations

import contextlib

from sqlalchemy import select, text
from sqlalchemy.engine import Engine

from airlock.core import audit
from airlock.core.access import Actor, authorize
from airlock.core.db import utcnow
from airlock.core.errors import InvalidInput
from airlock.core.ports import BlobStore, KeyStore
from airlock.core.uow import UnitOfWork
from airlock.vault import crypto
from airlock.vault.keys import (
    KeyDestroyed,
    MasterKey,
    WrappedOrgKey,
    rewrap_org_keys,
    unwrap_org_key,
    wrap_org_key,
)
from airlock.vault.models import Artifact, OrgKey, UploadSession
from airlock.vault.rules import ArtifactState, KeyState, UploadState


def _keys_of(uow: UnitOfWork, org_id: str) -> list[OrgKey]:
    stmt = select(OrgKey).where(OrgKey.org_id == org_id).order_by(OrgKey.version)
    return list(uow.session.scalars(stmt))


def key_destroyed(org_id: str) -> KeyDestroyed:
    """The error every read of a withdrawn organisation's content gets."""
    return KeyDestroyed(
        f"the vault key of organisation {org_id} was destroyed on withdrawal; "
        "its artifacts can no longer be decrypted"
    )


# Unwrapped organisation keys, remembered for one session: sealing a dossier seals dozens of
# fields, and each would otherwise query the keys and read the key store again. The session's
# info dies with the unit of work; shredding forgets the organisation's entries at once.
_MEMO = "airlock.org_keys"


def _memo(uow: UnitOfWork) -> dict[tuple[str, int | None, str], tuple[int, bytes]]:
    memo: dict[tuple[str, int | None, str], tuple[int, bytes]]
    memo = uow.session.info.setdefault(_MEMO, {})
    return memo


def _forget(uow: UnitOfWork, org_id: str) -> None:
    memo = _memo(uow)
    for entry in [e for e in memo if e[0] == org_id]:
        del memo[entry]


def active_org_key_for(uow: UnitOfWork, *, org_id: str, master: MasterKey) -> tuple[int, bytes]:
    """The organisation's current key (made on first use); KeyDestroyed after a withdrawal."""
    remembered = _memo(uow).get((org_id, None, master.key_id))
    if remembered is not None:
        return remembered
    keys = _keys_of(uow, org_id)
    if any(k.state == KeyState.DESTROYED for k in keys):
        raise key_destroyed(org_id)
    if keys:
        found = keys[-1].version, _unwrap(uow, keys[-1], master)
        _memo(uow)[(org_id, None, master.key_id)] = found
        return found
    org_key = crypto.new_key()
    stored = wrap_org_key(master, org_key, org_id=org_id, version=1)
    ref = _store(uow).put(store_name(org_id, 1), stored.wrapped)
    uow.session.add(
        OrgKey(
            org_id=org_id,
            version=1,
            state=KeyState.ACTIVE,
            master_key_id=stored.master_key_id,
            wrapped=None,
            in_store=True,
            store_ref=ref,
            created_at=utcnow(),
        )
    )
    uow.flush()
    return 1, org_key


def store_name(org_id: str, version: int) -> str:
    """The name of an organisation key in the key store."""
    return f"org-{org_id}-v{version}"


def _store(uow: UnitOfWork) -> KeyStore:
    return uow.services.key_store


def _wrapped_of(uow: UnitOfWork, row: OrgKey) -> bytes | None:
    if row.state == KeyState.DESTROYED:
        return None
    if row.in_store:
        return _store(uow).get(store_name(row.org_id, row.version), row.store_ref or b"")
    return row.wrapped


def _unwrap(uow: UnitOfWork, row: OrgKey, master: MasterKey) -> bytes:
    wrapped = _wrapped_of(uow, row)
    if wrapped is None:
        raise key_destroyed(row.org_id)
    return unwrap_org_key(
        master, WrappedOrgKey(row.org_id, row.version, row.master_key_id, wrapped)
    )


def move_keys_to_store(uow: UnitOfWork, *, actor_label: str = "system") -> int:
    """Move wrapped organisation keys still in the database into the key store (once)."""
    rows = list(
        uow.session.scalars(
            select(OrgKey).where(OrgKey.in_store.is_(False), OrgKey.wrapped.is_not(None))
        )
    )
    if not rows:
        return 0
    _secure_delete(uow)
    for row in rows:
        assert row.wrapped is not None
        row.store_ref = _store(uow).put(store_name(row.org_id, row.version), row.wrapped)
        row.in_store, row.wrapped = True, None
    audit.append(
        uow.session,
        action="vault.keys_moved_to_store",
        actor_label=actor_label,
        object_type="key_store",
        object_id="organisation_keys",
        detail={"organisation_keys": len(rows)},
    )
    uow.flush()
    return len(rows)


def _secure_delete(uow: UnitOfWork) -> None:
    if uow.session.get_bind().dialect.name == "sqlite":
        # Zero freed space so erased keys do not linger in free pages; WAL truncated on commit.
        uow.session.execute(text("PRAGMA secure_delete = ON"))
        bind = uow.session.get_bind()
        uow.after_commit(_checkpoint_sqlite, bind if isinstance(bind, Engine) else bind.engine)


def org_key_for(uow: UnitOfWork, *, org_id: str, version: int, master: MasterKey) -> bytes:
    """The organisation key of one version, unwrapped; KeyDestroyed after a withdrawal."""
    remembered = _memo(uow).get((org_id, version, master.key_id))
    if remembered is not None:
        return remembered[1]
    row = uow.session.scalars(
        select(OrgKey).where(OrgKey.org_id == org_id, OrgKey.version == version)
    ).first()
    if row is None:
        raise key_destroyed(org_id)
    key = _unwrap(uow, row, master)
    _memo(uow)[(org_id, version, master.key_id)] = (version, key)
    return key


def upload_aad(upload_id: str) -> str:
    """What an upload session's key (and its chunks, with their index) is bound to."""
    return f"upload:{upload_id}"


def _unwrap_data_key(
    uow: UnitOfWork,
    *,
    org_id: str,
    version: int,
    wrapped: bytes | None,
    bound_to: str,
    master: MasterKey,
) -> bytes:
    if wrapped is None:
        raise key_destroyed(org_id)
    org_key = org_key_for(uow, org_id=org_id, version=version, master=master)
    return crypto.unwrap_data_key(org_key, wrapped, artifact_id=bound_to)


def artifact_data_key(uow: UnitOfWork, art: Artifact, *, master: MasterKey) -> bytes:
    """An artifact's data key, unwrapped; KeyDestroyed once its firm withdrew."""
    wrapped = None if art.state == ArtifactState.DESTROYED else art.wrapped_data_key
    return _unwrap_data_key(
        uow,
        org_id=art.org_id,
        version=art.key_version,
        wrapped=wrapped,
        bound_to=art.id,
        master=master,
    )


def upload_session_key(uow: UnitOfWork, up: UploadSession, *, master: MasterKey) -> bytes:
    """The key an upload session's chunks are staged under; KeyDestroyed once its firm withdrew."""
    return _unwrap_data_key(
        uow,
        org_id=up.org_id,
        version=up.key_version,
        wrapped=up.wrapped_key,
        bound_to=upload_aad(up.id),
        master=master,
    )


def rotate_master_key(
    uow: UnitOfWork, *, old: MasterKey, new: MasterKey, actor_label: str = "system"
) -> int:
    """Rewrap every live organisation key under the new master key; content is untouched."""
    rows: list[tuple[OrgKey, bytes]] = []
    for r in uow.session.scalars(select(OrgKey).with_for_update()):
        wrapped = _wrapped_of(uow, r)
        if wrapped is not None:
            rows.append((r, wrapped))
    stale = [r for r, _ in rows if r.master_key_id not in (old.key_id, new.key_id)]
    if stale:
        raise InvalidInput(
            f"{len(stale)} organisation key(s) are wrapped under master key "
            f"{stale[0].master_key_id}, which is neither the old nor the new key"
        )
    todo = [(r, w) for r, w in rows if r.master_key_id == old.key_id]
    rewrapped = rewrap_org_keys(
        [WrappedOrgKey(r.org_id, r.version, r.master_key_id, w) for r, w in todo],
        old=old,
        new=new,
    )
    now = utcnow()
    for (row, _), item in zip(todo, rewrapped, strict=True):
        if row.in_store:
            row.store_ref = _store(uow).put(store_name(row.org_id, row.version), item.wrapped)
        else:
            row.wrapped = item.wrapped
        row.master_key_id, row.rotated_at = item.master_key_id, now
    audit.append(
        uow.session,
        action="vault.master_key_rotated",
        actor_label=actor_label,
        object_type="master_key",
        object_id=new.key_id,
        detail={"from": old.key_id, "to": new.key_id, "organisation_keys": len(todo)},
    )
    return len(todo)


def shred_organisation(uow: UnitOfWork, *, org_id: str, actor: Actor | None) -> dict[str, int]:
    """Destroy a firm's organisation key, so none of its artifacts can ever be decrypted again."""
    if actor is not None:  # the withdrawal job runs as the system (None)
        authorize(actor, "participation.manage", org_id=org_id)
    _secure_delete(uow)
    _forget(uow, org_id)
    now = utcnow()
    versions = []
    for row in _keys_of(uow, org_id):
        if row.wrapped is not None or row.in_store or row.state != KeyState.DESTROYED:
            versions.append(row.version)
        # Deleted from the store before the commit: if the transaction then fails, the key is
        # gone and the retried job records it (destroying is the one safe direction).
        _store(uow).delete(store_name(org_id, row.version))
        row.wrapped, row.store_ref, row.in_store = None, None, False
        row.state, row.destroyed_at = KeyState.DESTROYED, row.destroyed_at or now
    if not versions and not _keys_of(uow, org_id):
        # Never had a key: record a destroyed placeholder so no key is ever made for it again.
        uow.session.add(
            OrgKey(
                org_id=org_id,
                version=0,
                state=KeyState.DESTROYED,
                wrapped=None,
                created_at=now,
                destroyed_at=now,
            )
        )
    artifacts = list(uow.session.scalars(select(Artifact).where(Artifact.org_id == org_id)))
    total = 0
    for art in artifacts:
        if art.state != ArtifactState.DESTROYED:
            total += art.size
        art.state, art.wrapped_data_key = ArtifactState.DESTROYED, None
        art.destroyed_at = art.destroyed_at or now
    uploads = list(uow.session.scalars(select(UploadSession).where(UploadSession.org_id == org_id)))
    for up in uploads:
        up.wrapped_key = None
        if up.state in (UploadState.OPEN, UploadState.COMPLETING):
            up.state, up.error, up.updated_at = UploadState.EXPIRED, "withdrawn", now
    report = {
        "key_versions_destroyed": len(versions),
        "artifacts_destroyed": len(artifacts),
        "bytes_destroyed": total,
        "uploads_cancelled": len(uploads),
    }
    audit.append(
        uow.session,
        action="vault.organisation_key_destroyed",
        actor=actor,
        actor_label="system",  # when no actor: withdrawal jobs
        object_type="organisation",
        object_id=org_id,
        org_id=org_id,
        detail={**report, "versions": versions, "destroyed_at": now.isoformat()},
    )
    uow.flush()
    return report


def objects_of_organisation(uow: UnitOfWork, *, org_id: str) -> list[str]:
    """Every stored object of a firm: its artifacts and the chunks of its uploads."""
    keys = list(uow.session.scalars(select(Artifact.storage_key).where(Artifact.org_id == org_id)))
    for parts in uow.session.scalars(
        select(UploadSession.parts).where(UploadSession.org_id == org_id)
    ):
        keys.extend(str(p["key"]) for p in parts or [] if p is not None and p.get("key"))
    return keys


def delete_objects(store: BlobStore, keys: list[str]) -> None:
    """Delete objects, best effort (what fails is left for `airlock vault gc`)."""
    for key in keys:
        with contextlib.suppress(Exception):
            store.delete(key)


def _checkpoint_sqlite(engine: Engine) -> None:
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cur.close()
    finally:
        raw.close()
