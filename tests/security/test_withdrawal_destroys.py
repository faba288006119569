"""Attacks on withdrawal: evidence still served, confidential content in plain text, keys
wrapped by a master key that stays, accounts that keep working (issue 10, items 1-3)."""

from __future__ import annotations

import base64
import contextlib
import json

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select

from airlock.accounts import service as accounts
from airlock.bootstrap import Container
from airlock.core.audit import AuditEvent
from airlock.core.errors import AirlockError
from airlock.vault import crypto, keyring
from airlock.vault.keys import WrappedOrgKey, master_key_for, unwrap_org_key
from airlock.vault.models import OrgKey
from tests.factories.accounts import auth, token_for
from tests.factories.program import ALL_SCOPES, PASSWORD, example, make_program
from tests.factories.vault import upload
from tests.security.conftest import take_copies

ARTIFACT_MARKER = b"MARKER-ARTIFACT-5b1e0c7d"
EVIDENCE_MARKER = b"MARKER-EVIDENCE-9a4f22e1"
DOSSIER_MARKER = "MARKER-DOSSIER-c3d81f06"
# A pickle that would run os.system("echo MARKER…") if loaded: the argument string ends up in
# the scan evidence, which is derived from the firm's content.
ARG = b"echo " + EVIDENCE_MARKER
MARKED_PICKLE = b"\x80\x02cos\nsystem\nq\x00X" + len(ARG).to_bytes(4, "little") + ARG + b"\x85R."


def _plant(client, container: Container):
    prog = make_program(container)
    firm = auth(container, prog.actors["firm_a_admin"])
    sid = prog.ids["sub_a"]
    upload(client, firm, sid, ARTIFACT_MARKER * 5000, name="weights.bin", kind="weights")
    upload(client, firm, sid, MARKED_PICKLE, name="model.pkl", kind="weights")
    doc = example("full")
    doc["sections"]["A"]["summary"]["value"] = f"Summary with {DOSSIER_MARKER} (reviewer)"
    r = client.post(
        "/api/v1/submissions",
        headers=firm,
        json={
            "model_id": prog.ids["model_a"],
            "title": "marked",
            "dossier": doc,
            "carries": list(ALL_SCOPES),
        },
    )
    assert r.status_code == 201, r.text
    # Not vacuous: the firm reads its marker back.
    mine = client.get(f"/api/v1/submissions/{r.json()['id']}/dossier", headers=firm)
    assert DOSSIER_MARKER in mine.text
    container.queue.join(timeout=60)  # type: ignore[attr-defined]
    return prog, firm, sid


def _evidence_text(client, headers, sid) -> str:
    r = client.get(f"/api/v1/submissions/{sid}/results", headers=headers)
    assert r.status_code == 200, r.text
    return json.dumps(r.json())


def _withdraw(client, container, firm) -> None:
    r = client.post(
        "/api/v1/participation/withdraw", headers=firm, json={"confirm": True, "reason": "bye"}
    )
    assert r.status_code == 200, r.text
    container.queue.join(timeout=60)  # type: ignore[attr-defined]


def test_confidential_content_is_not_in_plain_text_in_the_database_or_the_store(
    client, container, db_url
):
    prog, _firm, sid = _plant(client, container)
    reviewer = auth(container, prog.actors["reviewer"])
    # Not vacuous: the assigned reviewer reads the evidence with the marker in it.
    assert EVIDENCE_MARKER.decode() in _evidence_text(client, reviewer, sid)
    copies = take_copies(container, db_url)
    everything = copies.everything()
    assert ARTIFACT_MARKER not in everything
    assert EVIDENCE_MARKER not in everything
    assert DOSSIER_MARKER.encode() not in everything


def test_organisation_keys_are_not_in_the_database(client, container, db_url):
    prog, _firm, _sid = _plant(client, container)
    org = prog.ids["org_a"]
    master = master_key_for(container.settings)
    with container.uow() as uow:
        row = uow.session.scalars(select(OrgKey).where(OrgKey.org_id == org)).one()
        wrapped = container.key_store.get(keyring.store_name(org, row.version), b"")
    assert wrapped and unwrap_org_key(
        master, WrappedOrgKey(org, row.version, row.master_key_id, wrapped)
    )
    copies = take_copies(container, db_url)
    assert wrapped not in copies.everything()
    # The master key opens nothing held in the database: no value unwraps as the firm's key.
    for value in copies.binaries():
        with contextlib.suppress(Exception):
            unwrap_org_key(master, WrappedOrgKey(org, row.version, row.master_key_id, value))
            raise AssertionError("a database value unwrapped as an organisation key")


def _try_open_sealed(token: str, keys: list[bytes]) -> bytes | None:
    """Try every candidate key on a sealed token, with any associated data it could have."""
    _prefix, _version, body = token.split(":", 2)
    raw = base64.b64decode(body)
    for key in keys:
        with contextlib.suppress(Exception):
            return AESGCM(key).decrypt(raw[:12], raw[12:], None)
    return None


def test_after_withdrawal_copies_taken_before_recover_no_marker(client, container, db_url):
    prog, firm, sid = _plant(client, container)
    org = prog.ids["org_a"]
    master = master_key_for(container.settings)
    before = take_copies(container, db_url)
    sealed = [t for t in before.texts() if t.startswith("alk1:")]
    assert sealed, "the scan evidence should be stored sealed"

    _withdraw(client, container, firm)

    # The key store no longer holds the key: that was the one thing missing from the copies.
    with container.uow() as uow:
        rows = list(uow.session.scalars(select(OrgKey).where(OrgKey.org_id == org)))
    assert rows and all(r.state == "destroyed" for r in rows)
    assert all(
        container.key_store.get(keyring.store_name(org, r.version), b"") is None for r in rows
    )

    # Raw bytes of the copies: no marker.
    everything = before.everything()
    assert ARTIFACT_MARKER not in everything and EVIDENCE_MARKER not in everything
    assert DOSSIER_MARKER.encode() not in everything
    # Everything the copies hold, tried as keys: every binary and 32-byte value, and whatever
    # the master key unwraps from them for any organisation and version.
    candidates = [v for v in before.binaries() if len(v) == 32]
    for value in before.binaries():
        for r in rows:
            with contextlib.suppress(Exception):
                candidates.append(
                    unwrap_org_key(master, WrappedOrgKey(org, r.version, r.master_key_id, value))
                )
    candidates.append(master.secret)
    candidates = [c for c in candidates if len(c) == 32]
    assert all(_try_open_sealed(t, candidates) is None for t in sealed)
    # Data keys wrapped under any candidate: none unwraps, so no stored object decrypts.
    for value in before.binaries():
        for key in candidates:
            for art_row in [r for name, r in before.rows if name == "artifacts"]:
                with contextlib.suppress(Exception):
                    crypto.unwrap_data_key(key, value, artifact_id=art_row["id"])
                    raise AssertionError("a data key unwrapped from the copies")

    # And the live service serves none of it.
    reviewer = auth(container, prog.actors["reviewer"])
    served = _evidence_text(client, reviewer, sid)
    assert EVIDENCE_MARKER.decode() not in served and "withdrew" in served


def test_after_withdrawal_the_firms_accounts_sessions_tokens_and_invitations_stop_working(
    client, container
):
    prog = make_program(container)
    admin = prog.actors["firm_a_admin"]
    token = token_for(container, admin)
    headers = {"Authorization": f"Bearer {token}"}
    member_headers = auth(container, prog.actors["firm_a_member"])
    inv = client.post(
        "/api/v1/invitations",
        headers=headers,
        json={"email": "new@firm-a.test", "role": "developer_member"},
    )
    assert inv.status_code == 201, inv.text
    invite_token = inv.json()["accept_url"].rsplit("#", 1)[-1]
    with container.uow() as uow:
        user = accounts.authenticate(
            uow, email="admin@firm-a.test", password=PASSWORD, address="192.0.2.99"
        )
        cookie = accounts.open_session(uow, user_id=user.id, hours=1, method="password").cookie
        uow.commit()
    with container.uow() as uow:
        assert accounts.session_for_cookie(uow, cookie=cookie)

    _withdraw(client, container, headers)

    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert client.get("/api/v1/me", headers=member_headers).status_code == 401
    with container.uow() as uow, contextlib.suppress(AirlockError):
        accounts.session_for_cookie(uow, cookie=cookie)
        raise AssertionError("the web session still works after the withdrawal")
    r = client.post("/api/v1/auth/token", json={"email": "admin@firm-a.test", "password": PASSWORD})
    assert r.status_code in (401, 403), r.text
    r = client.post(
        "/api/v1/invitations/accept",
        json={"token": invite_token, "password": PASSWORD, "name": "New"},
    )
    assert 400 <= r.status_code < 500 and r.status_code != 201
    with container.uow() as uow:
        actions = set(uow.session.scalars(select(AuditEvent.action)))
    assert {"organisation.closed", "vault.organisation_key_destroyed"} <= actions
    # The other firm is untouched.
    other = auth(container, prog.actors["firm_b_admin"])
    assert client.get("/api/v1/me", headers=other).status_code == 200
