"""Uploads in chunks with resume, the manifest, need-to-know downloads and bad input."""

from __future__ import annotations

import hashlib
import os
from datetime import timedelta

from sqlalchemy import select, update

from airlock.core.audit import AuditEvent
from airlock.core.db import utcnow
from airlock.enrollment import service as enrollment
from airlock.vault.models import UploadSession
from tests.factories.accounts import auth
from tests.factories.program import make_program
from tests.factories.vault import VAULT_CHUNK, declare, send, upload

MiB = 1024 * 1024


def test_upload_interrupted_twice_resumes_and_downloads_bit_identical(client, container):
    prog = make_program(container)
    firm = auth(container, prog.actors["firm_a_admin"])
    sid = prog.ids["sub_a"]
    data = os.urandom(5 * VAULT_CHUNK + 123)
    up = declare(client, firm, sid, data).json()
    assert (up["chunks_total"], up["next_index"], up["next_offset"]) == (6, 0, 0)
    assert send(client, firm, up["id"], data, 0).status_code == 200
    assert send(client, firm, up["id"], data, 1).status_code == 200
    # Interruption 1: the client lost its state; declaring the same file again resumes.
    again = declare(client, firm, sid, data).json()
    assert again["id"] == up["id"] and again["next_index"] == 2
    assert again["next_offset"] == 2 * VAULT_CHUNK
    assert send(client, firm, up["id"], data, 2).status_code == 200
    # Interruption 2: the answer to chunk 3 was lost, so the client sends it again.
    assert send(client, firm, up["id"], data, 3).status_code == 200
    r = send(client, firm, up["id"], data, 3)
    assert r.status_code == 200 and r.json()["next_index"] == 4
    for i in (4, 5):
        assert send(client, firm, up["id"], data, i).status_code == 200
    status = client.get(f"/api/v1/uploads/{up['id']}", headers=firm).json()
    assert status["next_index"] is None and status["chunks_received"] == 6
    art = client.post(f"/api/v1/uploads/{up['id']}/complete", headers=firm).json()
    assert art["size"] == len(data) and art["sha256"] == hashlib.sha256(data).hexdigest()
    manifest = client.get(f"/api/v1/submissions/{sid}/artifacts", headers=firm).json()
    assert [(a["name"], a["size"], a["sha256"]) for a in manifest["artifacts"]] == [
        ("model.safetensors", len(data), art["sha256"])
    ]
    r = client.get(f"/api/v1/artifacts/{art['id']}/content", headers=firm)
    assert r.status_code == 200 and r.content == data
    assert r.headers["x-content-sha256"] == art["sha256"]
    # The sealed chunks became the artifact as they were (nothing copied at completion): the
    # six recorded ones remain, the surplus resend of chunk 3 was deleted.
    store = container.blob_store
    kept = sorted(store.keys(f"uploads/{up['id']}/"))
    assert [k.rsplit("/", 1)[1][:8] for k in kept] == [f"{i:08d}" for i in range(6)]
    assert list(store.keys("artifacts/")) == []


def test_chunks_in_any_order_and_the_hash_given_at_completion(client, container):
    prog = make_program(container)
    firm = auth(container, prog.actors["firm_a_admin"])
    sid = prog.ids["sub_a"]
    data = os.urandom(4 * VAULT_CHUNK + 7)
    digest = hashlib.sha256(data).hexdigest()
    # Declared without a hash: the client hashes while it sends.
    up = declare(client, firm, sid, data, sha256="").json()
    assert up["sha256"] == "" and up["missing"] == [[0, 5]]
    for i in (3, 1, 4):
        assert send(client, firm, up["id"], data, i).status_code == 200
    status = client.get(f"/api/v1/uploads/{up['id']}", headers=firm).json()
    assert status["missing"] == [[0, 1], [2, 3]] and status["chunks_received"] == 3
    assert (status["next_index"], status["next_offset"]) == (0, 0)
    # Resuming by name and size returns the same session with what it lacks.
    again = declare(client, firm, sid, data, sha256="").json()
    assert again["id"] == up["id"] and again["missing"] == [[0, 1], [2, 3]]
    r = client.post(f"/api/v1/uploads/{up['id']}/complete", headers=firm, json={"sha256": digest})
    assert r.status_code == 409 and "3 of 5 chunks received; send chunk 0" in r.json()["detail"]
    for i in (2, 0):
        assert send(client, firm, up["id"], data, i).status_code == 200
    r = client.post(f"/api/v1/uploads/{up['id']}/complete", headers=firm)
    assert r.status_code == 422 and "give the file's SHA-256" in r.json()["detail"]
    r = client.post(f"/api/v1/uploads/{up['id']}/complete", headers=firm, json={"sha256": digest})
    assert r.status_code == 201, r.text
    art = r.json()
    assert (art["size"], art["sha256"]) == (len(data), digest)
    r = client.get(f"/api/v1/artifacts/{art['id']}/content", headers=firm)
    assert r.status_code == 200 and r.content == data


def test_a_completion_hash_that_differs_fails_the_upload(client, container):
    prog = make_program(container)
    firm = auth(container, prog.actors["firm_a_admin"])
    data = os.urandom(2 * VAULT_CHUNK)
    up = declare(client, firm, prog.ids["sub_a"], data, sha256="").json()
    for i in (1, 0):
        assert send(client, firm, up["id"], data, i).status_code == 200
    wrong = hashlib.sha256(b"something else").hexdigest()
    r = client.post(f"/api/v1/uploads/{up['id']}/complete", headers=firm, json={"sha256": wrong})
    assert r.status_code == 422 and "does not match" in r.json()["detail"]
    assert client.get(f"/api/v1/uploads/{up['id']}", headers=firm).json()["state"] == "failed"
    assert list(container.blob_store.keys(f"uploads/{up['id']}/")) == []


def test_stored_objects_hold_no_plaintext(client, container):
    prog = make_program(container)
    firm = auth(container, prog.actors["firm_a_admin"])
    data = b"TOP-SECRET-WEIGHTS " * 20000
    upload(client, firm, prog.ids["sub_a"], data)
    store = container.blob_store
    for key in store.keys(""):
        assert b"TOP-SECRET-WEIGHTS" not in b"".join(store.open(key))


def test_only_the_firm_and_assigned_reviewers_download_and_each_download_is_audited(
    client, container
):
    prog = make_program(container)
    firm = auth(container, prog.actors["firm_a_admin"])
    data = os.urandom(1000)
    art = upload(client, firm, prog.ids["sub_a"], data, name="config.json", kind="config")
    url = f"/api/v1/artifacts/{art['id']}/content"
    assert client.get(url, headers=auth(container, prog.actors["reviewer"])).content == data
    assert client.get(url, headers=auth(container, prog.actors["firm_a_member"])).content == data
    assert (
        client.get(url, headers=auth(container, prog.actors["other_reviewer"])).status_code == 403
    )
    assert client.get(url, headers=auth(container, prog.actors["coordinator"])).status_code == 403
    assert client.get(url, headers=auth(container, prog.actors["firm_b_admin"])).status_code == 404
    assert client.get(url, headers=auth(container, prog.actors["auditor"])).status_code == 403
    assert client.get(url).status_code == 401
    with container.uow() as uow:
        downloads = uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "artifact.downloaded")
        ).all()
    assert {d.actor_user_id for d in downloads} == {
        prog.actors["reviewer"].user_id,
        prog.actors["firm_a_member"].user_id,
    }


def test_bad_input_gets_a_4xx_naming_the_problem_and_nothing_becomes_visible(client, container):
    prog = make_program(container)
    firm = auth(container, prog.actors["firm_a_admin"])
    sid = prog.ids["sub_a"]
    data = os.urandom(3 * VAULT_CHUNK)
    up = declare(client, firm, sid, data).json()
    r = client.put(f"/api/v1/uploads/{up['id']}/chunks/3", headers=firm, content=b"x")
    assert r.status_code == 422 and "chunk 3 does not exist" in r.json()["detail"]
    r = client.put(f"/api/v1/uploads/{up['id']}/chunks/0", headers=firm, content=b"short")
    assert r.status_code == 422 and f"must be {VAULT_CHUNK} bytes (got 5)" in r.json()["detail"]
    assert send(client, firm, up["id"], data, 0).status_code == 200
    r = client.put(
        f"/api/v1/uploads/{up['id']}/chunks/0", headers=firm, content=os.urandom(VAULT_CHUNK)
    )
    assert r.status_code == 409 and "different content" in r.json()["detail"]
    r = client.post(f"/api/v1/uploads/{up['id']}/complete", headers=firm)
    assert r.status_code == 409 and "1 of 3 chunks received" in r.json()["detail"]
    r = client.post(f"/api/v1/uploads/{up['id']}/complete", headers=firm, json={"sha256": "f" * 64})
    assert r.status_code == 422 and "differs from the" in r.json()["detail"]

    # A final hash that does not match: the declared hash is of other bytes.
    other = os.urandom(len(data))
    bad = declare(client, firm, sid, other, name="other.bin").json()
    for i in range(3):
        assert send(client, firm, bad["id"], data, i).status_code == 200
    r = client.post(f"/api/v1/uploads/{bad['id']}/complete", headers=firm)
    assert r.status_code == 422 and "does not match" in r.json()["detail"]
    assert client.get(f"/api/v1/uploads/{bad['id']}", headers=firm).json()["state"] == "failed"

    r = declare(client, firm, sid, b"x" * 10, size=5 * MiB)
    assert r.status_code == 413 and "per file" in r.json()["detail"]
    r = declare(client, firm, sid, b"x", name="../escape.bin")
    assert r.status_code == 422 and "'..'" in r.json()["detail"]
    r = declare(client, firm, sid, b"x", name="/etc/passwd")
    assert r.status_code == 422
    r = declare(client, auth(container, prog.actors["firm_b_admin"]), sid, b"x")
    assert r.status_code == 404
    r = declare(client, firm, sid, b"x", sha256="abc")
    assert r.status_code == 422

    with container.uow() as uow:
        enrollment.change_scopes(
            uow, actor=prog.actors["firm_a_admin"], scopes=["architecture", "safeguards"]
        )
        uow.commit()
    r = declare(client, firm, sid, b"x", name="w2.safetensors", kind="weights")
    assert r.status_code == 422 and "needs the weights scope" in r.json()["detail"]
    r = declare(client, firm, sid, b"x", name="sample.jsonl", kind="dataset_sample")
    assert r.status_code == 422 and "training_data_docs" in r.json()["detail"]

    with container.uow() as uow:
        uow.session.execute(
            update(UploadSession)
            .where(UploadSession.id == up["id"])
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
        uow.commit()
    r = send(client, firm, up["id"], data, 1)
    assert r.status_code == 409 and "expired" in r.json()["detail"]
    manifest = client.get(f"/api/v1/submissions/{sid}/artifacts", headers=firm).json()
    assert manifest["artifacts"] == []
    assert list(container.blob_store.keys("artifacts/")) == []


def test_submission_limit_counts_stored_and_pending_files(client, container):
    prog = make_program(container)
    firm = auth(container, prog.actors["firm_a_admin"])
    sid = prog.ids["sub_a"]
    assert declare(client, firm, sid, b"a", name="a.bin", size=3 * MiB).status_code == 201
    r = declare(client, firm, sid, b"b", name="b.bin", size=3 * MiB + 1)
    assert r.status_code == 413 and "per submission" in r.json()["detail"]


def test_an_empty_file_round_trips(client, container):
    prog = make_program(container)
    firm = auth(container, prog.actors["firm_a_admin"])
    art = upload(client, firm, prog.ids["sub_a"], b"", name="empty.txt", kind="other")
    assert art["size"] == 0
    r = client.get(f"/api/v1/artifacts/{art['id']}/content", headers=firm)
    assert r.status_code == 200 and r.content == b""


def test_review_page_lists_the_manifest_and_links_downloads_only_for_the_assigned(
    client, container
):
    prog = make_program(container)
    firm = auth(container, prog.actors["firm_a_admin"])
    art = upload(
        client, firm, prog.ids["sub_a"], os.urandom(1000), name="config.json", kind="config"
    )
    link = f'href="/api/v1/artifacts/{art["id"]}/content"'
    pages = {}
    for role in ("reviewer", "other_reviewer"):
        h = {**auth(container, prog.actors[role]), "Accept": "text/html"}
        pages[role] = client.get(
            f"/review/submissions/{prog.ids['sub_a']}/artifacts", headers=h
        ).text
    assert "config.json" in pages["reviewer"] and link in pages["reviewer"]
    # staff not assigned see counts and verdicts, never names, sizes or hashes (least visibility)
    assert "config.json" not in pages["other_reviewer"] and link not in pages["other_reviewer"]
