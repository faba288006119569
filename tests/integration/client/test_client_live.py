"""The firm's whole flow, and the reviewer's, through `airlock.client` against a real
`airlock serve` on a loopback port (the browser tests' server fixture): register, draft,
validate and upload the dossier, upload artifacts resuming a chunked upload, submit, read scan
results, then the findings: the reviewer triages and notifies one, the firm lists its
findings, acknowledges it and replies in its thread, and the reviewer reads the reply."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

from airlock.client import AirlockAPIError, AirlockClient
from airlock.demo import DEMO_PASSWORD, example_dossier
from tests.e2e.conftest import Server, server  # noqa: F401  (the fixture)
from tests.factories.scanning import EVIL_PICKLE, torch_style_checkpoint

T = TypeVar("T")
CHUNK = 64 * 1024
# The server's in-process workers scan and raise findings after the request returns: wait
# for them (a bound on waiting, not an assertion about speed).
WAIT_S = 120.0


def eventually(probe: Callable[[], T | None], what: str) -> T:
    """Poll probe until it returns something, or fail naming what did not happen."""
    deadline = time.monotonic() + WAIT_S
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {WAIT_S:.0f} s")
        time.sleep(0.3)


@pytest.fixture
def server_env() -> dict[str, str]:
    return {"AIRLOCK_UPLOAD_CHUNK_BYTES": str(CHUNK)}


def test_firm_does_its_whole_flow_with_the_client(server: Server, tmp_path: Path) -> None:  # noqa: F811
    firm = AirlockClient(server.base)
    token = firm.login("admin@northwind.example", DEMO_PASSWORD)
    me_firm = firm.me()
    assert token.secret and me_firm.email == "admin@northwind.example"
    model = firm.register_model("Client-Test-7B", description="made by the client test")
    assert model.name in [m.name for m in firm.models()]

    doc = example_dossier("full")
    check = firm.validate_dossier(doc)
    assert check.valid and check.missing == [] and check.current_version == "1.1.0"
    bad = firm.validate_dossier(b'{"schema_version": "9"}')
    assert not bad.valid and bad.errors

    sub = firm.create_submission(
        model_id=model.id,
        title="Client-Test-7B rc1",
        version="rc1",
        carries=["architecture", "training_data_docs", "safeguards", "weights", "eval_endpoint"],
        dossier=example_dossier("minimal"),
    )
    assert sub.state == "draft" and sub.dossier_schema_version == "1.1.0"
    sub = firm.upload_dossier(sub.id, doc)
    assert firm.dossier(sub.id).dossier["sections"]["C"] == doc["sections"]["C"]
    with pytest.raises(AirlockAPIError) as refused:
        firm.update_submission(sub.id, dossier={"schema_version": "1.1.0", "sections": {"Z": {}}})
    assert refused.value.status == 422 and refused.value.errors

    # A weights file in four chunks: the first sent by hand, then the client resumes.
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(os.urandom(3 * CHUNK + 1000))
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    headers = {"Authorization": f"Bearer {token.secret}"}
    start = httpx.post(
        f"{server.base}/api/v1/submissions/{sub.id}/uploads",
        headers=headers,
        json={
            "name": weights.name,
            "kind": "weights",
            "size": weights.stat().st_size,
            "sha256": digest,
        },
    )
    assert start.status_code == 201, start.text
    upload_id = start.json()["id"]
    first = httpx.put(
        f"{server.base}/api/v1/uploads/{upload_id}/chunks/0",
        headers=headers,
        content=weights.read_bytes()[:CHUNK],
    )
    assert first.json()["chunks_received"] == 1
    seen: list[tuple[int, int]] = []
    artifact = firm.upload_artifact(
        sub.id, weights, kind="weights", progress=lambda sent, total: seen.append((sent, total))
    )
    total = weights.stat().st_size
    assert seen[0] == (CHUNK, total)  # resumed after the chunk already there
    assert seen[-1] == (total, total) and len(seen) == 4
    assert artifact.sha256 == digest and artifact.size == total
    # A checkpoint whose pickle would run a command when loaded: a finding to coordinate.
    checkpoint = tmp_path / "extra.pt"
    checkpoint.write_bytes(torch_style_checkpoint(EVIL_PICKLE))
    firm.upload_artifact(sub.id, checkpoint, kind="weights")
    manifest = firm.artifacts(sub.id)
    assert sorted(a.sha256 for a in manifest.artifacts) == sorted(
        [digest, hashlib.sha256(checkpoint.read_bytes()).hexdigest()]
    )

    submitted = firm.submit(sub.id)
    assert submitted.state == "submitted"
    assert [t.to_state for t in firm.history(sub.id)] == ["draft", "submitted"]
    bom = json.loads(firm.export_dossier(sub.id, format="cyclonedx", audience="agency"))
    assert bom["metadata"]["component"]["name"] == "Atlas-70B"
    public = firm.export_dossier(sub.id, format="eu-mdf", audience="public").decode()
    assert "model-review@northwind.example" not in public  # a reviewer-level field
    results = firm.scan_results(sub.id)
    assert sorted(a.name for a in results.artifacts) == sorted([checkpoint.name, weights.name])
    assert firm.findings(submission_id=sub.id) == []  # nothing notified to the firm yet

    coordinator = AirlockClient(server.base)
    coordinator.login("coordinator@agency.example", DEMO_PASSWORD)
    page = coordinator.queue(states=["submitted"], q="Client-Test")
    assert [i.id for i in page.items] == [sub.id]
    coordinator.transition(sub.id, "accepted")
    reviewer = AirlockClient(server.base)
    me = reviewer.login("reviewer@agency.example", DEMO_PASSWORD)
    assert me.secret
    reviewer_id = reviewer.me().user_id
    coordinator.assign(sub.id, reviewer_id)
    assert [a.user_id for a in coordinator.assignees(sub.id)] == [reviewer_id]
    mine = reviewer.queue(mine=True, q="Client-Test")
    assert [i.id for i in mine.items] == [sub.id]
    assert reviewer.dossier(sub.id).confidential
    assert reviewer.transition(sub.id, "in_review").state == "in_review"

    # The reviewer: scan results of the checkpoint, then its finding, confirmed and notified.
    scanned = eventually(
        lambda: next(
            (
                a
                for a in reviewer.scan_results(sub.id).artifacts
                if a.name == checkpoint.name and a.verdict
            ),
            None,
        ),
        "the checkpoint's scan",
    )
    assert scanned.verdict == "block" and scanned.results
    blocking = eventually(
        lambda: [
            f
            for f in reviewer.findings(submission_id=sub.id, states=["draft"])
            if f.reported_verdict == "block"
        ],
        "a draft finding from the blocking scan result",
    )
    fid = blocking[0].id
    detail = reviewer.finding(fid)
    assert detail.state == "draft" and detail.evidence
    confirmed = reviewer.confirm_finding(
        fid, severity="critical", cwe=["CWE-502"], note="os.system on load"
    )
    assert confirmed.state == "confirmed"
    for other in blocking[1:]:
        reviewer.mark_false_positive(other.id, reason="same payload")
    assert reviewer.notify(fid).state == "notified"

    # The firm: its findings, acknowledged, and a reply in the finding's thread.
    mine_now = firm.findings(submission_id=sub.id)
    assert [f.id for f in mine_now] == [fid]
    assert "acknowledged" in mine_now[0].allowed_moves
    assert firm.acknowledge(fid).state == "acknowledged"
    thread_id = eventually(
        lambda: firm.finding_thread(fid, sub.id), "the case thread about the finding"
    )
    sent = firm.reply(thread_id, "We are replacing the pickle with safetensors.")
    assert sent.author_user_id == me_firm.user_id
    said = reviewer.thread(thread_id)
    assert [m.text for m in said] == ["We are replacing the pickle with safetensors."]
    reviewer.reply(thread_id, "Thank you; we will verify the fix.")
    assert [m.text for m in firm.thread(thread_id)][-1] == "Thank you; we will verify the fix."
    with pytest.raises(AirlockAPIError) as not_theirs:
        firm.confirm_finding(fid, severity="low")
    assert not_theirs.value.status in (403, 404, 409)
    for c in (firm, coordinator, reviewer):
        c.close()
