"""Keys outside the database: the folder store, AWS KMS (moto on loopback), moving keys that
were kept in the database, rotation (issue 10, item 1)."""

from __future__ import annotations

import os
import stat
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select, update

from airlock.adapters.keystore import FolderKeyStore, KmsKeyStore, key_store_from_url
from airlock.core.ports import KeyStoreError
from airlock.vault import keyring, service
from airlock.vault.keys import MasterKey, master_key_for
from airlock.vault.models import OrgKey
from tests.factories.accounts import auth
from tests.factories.program import make_program
from tests.factories.vault import upload
from tests.support.s3 import moto_s3_server


def test_the_folder_store_keeps_keys_private_and_deleting_removes_them(tmp_path: Path):
    store = key_store_from_url(f"file://{tmp_path / 'keys'}")
    assert isinstance(store, FolderKeyStore)
    assert store.put("org-a-v1", b"k" * 60) == b""
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "keys" / "org-a-v1").stat().st_mode) == 0o600
    assert store.get("org-a-v1", b"") == b"k" * 60
    store.delete("org-a-v1")
    store.delete("org-a-v1")  # safe to repeat
    assert store.get("org-a-v1", b"") is None
    assert os.listdir(tmp_path / "keys") == []
    with pytest.raises(KeyStoreError, match="not allowed"):
        store.put("../escape", b"x")


def test_an_unknown_key_store_scheme_is_refused_naming_the_setting():
    with pytest.raises(KeyStoreError, match="AIRLOCK_KEYSTORE_URL"):
        key_store_from_url("vault://somewhere")


def test_the_kms_store_encrypts_under_a_key_per_name_and_deleting_disables_it():
    # moto's server answers every AWS service on one port, KMS included.
    with moto_s3_server() as endpoint:
        store = key_store_from_url(
            f"kms://airlock-{uuid.uuid4().hex[:8]}?endpoint_url={endpoint}&region=us-east-1"
        )
        assert isinstance(store, KmsKeyStore)
        ref = store.put("org-a-v1", b"wrapped-org-key")
        assert ref and b"wrapped-org-key" not in ref
        assert store.get("org-a-v1", ref) == b"wrapped-org-key"
        # The reference is bound to its name (encryption context): another name does not open it.
        other = store.put("org-b-v1", b"other")
        with pytest.raises(KeyStoreError, match="does not open"):
            store.get("org-b-v1", ref)
        assert store.get("org-b-v1", other) == b"other"
        store.delete("org-a-v1")
        store.delete("org-a-v1")
        assert store.get("org-a-v1", ref) is None
        # The KMS key itself is disabled and scheduled for deletion (real KMS then refuses
        # every Decrypt; moto records the state without enforcing it).
        import boto3

        kms = boto3.client("kms", endpoint_url=endpoint, region_name="us-east-1")
        meta = kms.describe_key(KeyId=f"alias/{store.prefix}/org-a-v1")["KeyMetadata"]
        assert meta["KeyState"] == "PendingDeletion"


def test_a_vault_on_kms_stores_reads_and_shreds(client, container, monkeypatch):
    with moto_s3_server() as endpoint:
        container._key_store = KmsKeyStore(
            prefix=f"airlock-{uuid.uuid4().hex[:8]}", endpoint_url=endpoint, region="us-east-1"
        )
        prog = make_program(container)
        firm = auth(container, prog.actors["firm_a_admin"])
        data = b"weights" * 1000
        art = upload(client, firm, prog.ids["sub_a"], data, name="w.bin")
        r = client.get(f"/api/v1/artifacts/{art['id']}/content", headers=firm)
        assert r.status_code == 200 and r.content == data
        with container.uow() as uow:
            row = uow.session.scalars(
                select(OrgKey).where(OrgKey.org_id == prog.ids["org_a"])
            ).one()
            assert row.in_store and row.wrapped is None and row.store_ref
        r = client.post("/api/v1/participation/withdraw", headers=firm, json={"confirm": True})
        assert r.status_code == 200
        container.queue.join(timeout=60)  # type: ignore[attr-defined]
        name = keyring.store_name(prog.ids["org_a"], 1)
        assert container.key_store.get(name, row.store_ref) is None


def test_keys_kept_in_the_database_move_to_the_store_and_still_open(client, container):
    prog = make_program(container)
    firm = auth(container, prog.actors["firm_a_admin"])
    data = os.urandom(4096)
    art = upload(client, firm, prog.ids["sub_a"], data, name="c.json", kind="config")
    org = prog.ids["org_a"]
    master = master_key_for(container.settings)
    name = keyring.store_name(org, 1)
    # Put the key back as a database from before 0008 kept it.
    wrapped = container.key_store.get(name, b"")
    assert wrapped
    with container.uow() as uow:
        uow.session.execute(
            update(OrgKey).where(OrgKey.org_id == org).values(wrapped=wrapped, in_store=False)
        )
        uow.commit()
    container.key_store.delete(name)
    with container.uow() as uow:
        assert keyring.move_keys_to_store(uow) == 1
        uow.commit()
    with container.uow() as uow:
        row = uow.session.scalars(select(OrgKey).where(OrgKey.org_id == org)).one()
        assert row.in_store and row.wrapped is None
        assert keyring.move_keys_to_store(uow) == 0
        dl = service.open_download(
            uow, actor=prog.actors["firm_a_admin"], artifact_id=art["id"], master=master
        )
        assert b"".join(service.stream_download(container.blob_store, dl)) == data
    assert container.key_store.get(name, b"") == wrapped


def test_rotating_the_master_key_rewraps_keys_in_the_store(client, container):
    prog = make_program(container)
    firm = auth(container, prog.actors["firm_a_admin"])
    data = os.urandom(2048)
    art = upload(client, firm, prog.ids["sub_a"], data, name="c.json", kind="config")
    old = master_key_for(container.settings)
    new = MasterKey(os.urandom(32))
    name = keyring.store_name(prog.ids["org_a"], 1)
    before = container.key_store.get(name, b"")
    with container.uow() as uow:
        # both firms have a key: their confidential dossier fields are sealed
        assert keyring.rotate_master_key(uow, old=old, new=new) == 2
        uow.commit()
    assert container.key_store.get(name, b"") not in (None, before)
    with container.uow() as uow:
        dl = service.open_download(
            uow, actor=prog.actors["firm_a_admin"], artifact_id=art["id"], master=new
        )
        assert b"".join(service.stream_download(container.blob_store, dl)) == data
