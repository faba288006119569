"""Crypto-shredding on withdrawal, master key rotation, and garbage collection."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from airlock.core.audit import AuditEvent
from airlock.core.db import utcnow
from airlock.vault import gc, keyring, service
from airlock.vault.crypto import VaultIntegrityError, decrypt_stream, new_key
from airlock.vault.keys import MasterKey, master_key_for
from airlock.vault.models import Artifact, OrgKey, UploadSession
from tests.factories.accounts import auth
from tests.factories.program import make_program
from tests.factories.vault import declare, send, upload

SECRET = b"CONFIDENTIAL-WEIGHT-BYTES:" + b"0123456789abcdef" * 4


def wait_for(predicate, seconds=20.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def database_bytes(db_url: str) -> bytes:
    if not db_url.startswith("sqlite"):
        return b""
    path = Path(db_url.removeprefix("sqlite:///"))
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


def test_after_withdrawal_nothing_of_the_plaintext_can_be_recovered(client, container, db_url):
    prog = make_program(container)
    org = prog.ids["org_a"]
    firm = auth(container, prog.actors["firm_a_admin"])
    data = SECRET * 3000
    art = upload(client, firm, prog.ids["sub_a"], data)
    pending = declare(client, firm, prog.ids["sub_a"], data, name="pending.bin").json()
    assert send(client, firm, pending["id"], data, 0).status_code == 200
    with container.uow() as uow:
        row = uow.session.scalars(select(OrgKey).where(OrgKey.org_id == org)).one()
        # The key lives in the key store, not in the database.
        assert row.in_store and row.wrapped is None
        name = keyring.store_name(org, row.version)
        wrapped_before = container.key_store.get(name, row.store_ref or b"")
        assert wrapped_before
    if str(db_url).startswith("sqlite"):
        assert wrapped_before not in database_bytes(str(db_url))
    # What a thief with a copy of the store would keep: ciphertext only.
    store = container.blob_store
    stolen = {k: b"".join(store.open(k)) for k in store.keys("")}
    assert stolen and all(SECRET[:20] not in blob for blob in stolen.values())

    r = client.post(
        "/api/v1/participation/withdraw", headers=firm, json={"confirm": True, "reason": "leaving"}
    )
    assert r.status_code == 200, r.text

    def shredded() -> bool:
        with container.uow() as uow:
            # wrapped is None from the start (the key is in the key store): wait for the state
            return (
                uow.session.scalars(select(OrgKey).where(OrgKey.org_id == org)).one().state
                == "destroyed"
            )

    wait_for(shredded)

    # The database keeps no trace of the organisation key or any data key.
    with container.uow() as uow:
        key = uow.session.scalars(select(OrgKey).where(OrgKey.org_id == org)).one()
        assert key.state == "destroyed" and key.destroyed_at is not None
        a = uow.session.get(Artifact, art["id"])
        assert a.state == "destroyed" and a.wrapped_data_key is None
        up = uow.session.get(UploadSession, pending["id"])
        assert up.state == "expired" and up.wrapped_key is None
        event = uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "vault.organisation_key_destroyed")
        ).one()
        assert event.org_id == org and '"artifacts_destroyed":1' in event.detail
    raw = database_bytes(str(db_url))
    assert wrapped_before not in raw
    assert SECRET not in raw
    assert container.key_store.get(name, b"") is None

    # The stored objects are deleted after the key; the API refuses to decrypt anything.
    # (audit checkpoints, written by the periodic job, are the agency's and stay)
    wait_for(lambda: [k for k in store.keys("") if not k.startswith("audit-checkpoints/")] == [])
    r = client.get(f"/api/v1/artifacts/{art['id']}/content", headers=firm)
    assert r.status_code == 401  # the firm's accounts are closed on withdrawal
    coordinator = auth(container, prog.actors["coordinator"])
    r = client.get(f"/api/v1/artifacts/{art['id']}/content", headers=coordinator)
    assert r.status_code in (403, 404, 410)
    master = master_key_for(container.settings)
    with container.uow() as uow:
        with pytest.raises(Exception, match="destroyed on withdrawal"):
            keyring.org_key_for(uow, org_id=org, version=1, master=master)
        # and no new key is ever made for the firm
        with pytest.raises(Exception, match="destroyed on withdrawal"):
            keyring.active_org_key_for(uow, org_id=org, master=master)
        # No wrapped key of any kind is left to try the master key on.
        assert uow.session.scalars(select(OrgKey.wrapped).where(OrgKey.org_id == org)).all() == [
            None
        ]
        assert uow.session.scalars(
            select(Artifact.wrapped_data_key).where(Artifact.org_id == org)
        ).all() == [None]
    # Even with the master key and a stolen copy of the ciphertext, nothing decrypts: the
    # organisation key is gone, and a guessed one fails authentication on the first chunk.
    for key, blob in stolen.items():
        with pytest.raises(VaultIntegrityError):
            b"".join(decrypt_stream(new_key(), [blob], artifact_id=key.rsplit("/", 1)[-1]))


def test_master_key_rotation_rewraps_and_the_old_key_opens_nothing(client, container):
    prog = make_program(container)
    firm = auth(container, prog.actors["firm_a_admin"])
    data = os.urandom(3 * 1024)
    art = upload(client, firm, prog.ids["sub_a"], data, name="c.json", kind="config")
    old = master_key_for(container.settings)
    new = MasterKey(os.urandom(32))
    with container.uow() as uow:
        # both firms have a key: their confidential dossier fields are sealed
        assert keyring.rotate_master_key(uow, old=old, new=new) == 2
        uow.commit()
    with container.uow() as uow:
        dl = service.open_download(
            uow, actor=prog.actors["firm_a_admin"], artifact_id=art["id"], master=new
        )
        assert b"".join(service.stream_download(container.blob_store, dl)) == data
        with pytest.raises(VaultIntegrityError):
            service.open_download(
                uow, actor=prog.actors["firm_a_admin"], artifact_id=art["id"], master=old
            )
        events = uow.session.scalars(select(AuditEvent.action)).all()
        assert "vault.master_key_rotated" in events


def test_gc_removes_expired_sessions_and_orphans_but_keeps_live_uploads(client, container):
    prog = make_program(container)
    firm = auth(container, prog.actors["firm_a_admin"])
    sid = prog.ids["sub_a"]
    data = os.urandom(2 * 64 * 1024)
    kept = upload(client, firm, sid, data, name="kept.bin", kind="other")
    live = declare(client, firm, sid, data, name="live.bin").json()
    assert send(client, firm, live["id"], data, 0).status_code == 200
    stale = declare(client, firm, sid, data, name="stale.bin").json()
    assert send(client, firm, stale["id"], data, 0).status_code == 200
    with container.uow() as uow:
        uow.session.execute(
            update(UploadSession)
            .where(UploadSession.id == stale["id"])
            .values(expires_at=utcnow() - timedelta(hours=1))
        )
        uow.commit()
    store = container.blob_store
    store.put(f"artifacts/{prog.ids['org_a']}/deadbeef", [b"orphan from a killed completion"])
    with container.uow() as uow:
        report = gc.expire_uploads(uow)
        gc.sweep_objects(uow, store=store, report=report, incomplete_after_seconds=3600)
        gc.record(uow, report=report, actor_label="test")
        uow.commit()
    assert report.expired_uploads == [stale["id"]]
    assert f"artifacts/{prog.ids['org_a']}/deadbeef" in report.removed_objects
    assert any(k.startswith(f"uploads/{stale['id']}/") for k in report.removed_objects)
    remaining = list(store.keys())
    with container.uow() as uow:
        stored = uow.session.get(Artifact, kept["id"])
        assert stored is not None
        kept_objects = list(stored.segments or [stored.storage_key])
    # The stored artifact keeps every object it is made of: one object, or its sealed chunks.
    assert kept_objects and all(key in remaining for key in kept_objects)
    assert not any(key in report.removed_objects for key in kept_objects)
    assert any(k.startswith(f"uploads/{live['id']}/") for k in remaining)
    assert client.get(f"/api/v1/artifacts/{kept['id']}/content", headers=firm).content == data
