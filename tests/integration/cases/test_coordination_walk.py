"""The coordinated walk of a critical pickle finding: notifying it emails the firm through a
real SMTP server on loopback and sends a signed webhook the receiver verifies; the firm
acknowledges and replies in the finding's thread; the fix is verified and signed off; the
advisory is published with the firm's consent and exports as CSAF 2.0 that validates."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from airlock.bootstrap import build
from tests.conftest import make_settings
from tests.factories import vault as vault_factory
from tests.factories.accounts import auth
from tests.factories.findings import call, findings_of, move_finding, move_submission
from tests.factories.program import ALL_SCOPES, example, make_program
from tests.factories.scanning import BENIGN_PICKLE, EVIL_PICKLE, torch_style_checkpoint
from tests.integration.cases.test_advisories import assert_valid_csaf
from tests.support.receivers import smtp_server, webhook_receiver


@pytest.fixture
def smtp():
    with smtp_server() as server:
        yield server


@pytest.fixture
def wired(db_url: str, tmp_path: Path, smtp):
    port, _ = smtp
    c = build(
        make_settings(
            db_url,
            tmp_path / "data",
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_security="none",
            mail_from="airlock@agency.test",
        )
    )
    yield c
    c.close()


@pytest.fixture
def wired_client(wired):
    from airlock.web.app import create_app

    with TestClient(create_app(wired)) as tc:
        yield tc


def test_a_critical_finding_is_coordinated_to_a_published_csaf_advisory(wired_client, wired, smtp):
    client, container = wired_client, wired
    _, inbox = smtp
    prog = make_program(container)
    firm = auth(container, prog.actors["firm_a_admin"])
    rev = auth(container, prog.actors["reviewer"])
    coord = auth(container, prog.actors["coordinator"])
    sid = prog.ids["sub_a"]

    with webhook_receiver() as receiver:
        hook = call(client, "POST", "/api/v1/webhooks", firm, 201, json={"url": receiver.url})
        receiver.secret = hook["secret"]
        assert "secret" not in call(client, "GET", "/api/v1/webhooks", firm)["webhooks"][0]

        vault_factory.upload(
            client, firm, sid, torch_style_checkpoint(EVIL_PICKLE), name="model.pt"
        )
        container.queue.join()
        move_submission(client, rev, sid, "in_review")
        drafts = findings_of(client, rev, sid, check=None)
        fid = next(
            f["id"]
            for f in drafts
            if f["reported_verdict"] == "block" and f["reported_severity"] == "critical"
        )
        call(
            client,
            "POST",
            f"/api/v1/findings/{fid}/confirm",
            rev,
            json={"severity": "critical", "cwe": ["CWE-502"], "note": "os.system on load"},
        )
        others = [f["id"] for f in drafts if f["id"] != fid]
        if others:
            call(
                client,
                "POST",
                "/api/v1/findings/false-positive",
                rev,
                json={"finding_ids": others, "reason": "same payload"},
            )
        move_finding(client, rev, fid, "notified")
        container.queue.join()  # the case follows the finding, then mail and webhook go out
        container.queue.join()

        # An email reached the loopback SMTP server, naming the case and nothing confidential.
        mails = [m for m in inbox.messages if m[1] == ["admin@firm-a.test"]]
        assert len(mails) == 1
        subject = mails[0][2]["Subject"]
        assert subject.startswith("[Airlock] Case AIR-") and "pickle" not in subject.lower()
        # A signed webhook reached the loopback receiver and its signature verified.
        assert [r.verified for r in receiver.received] == [True]
        event = receiver.received[0].payload
        assert event["type"] == "finding.notified" and event["data"]["finding_id"] == fid

    [case] = call(client, "GET", "/api/v1/cases", firm)["cases"]
    view = call(client, "GET", f"/api/v1/cases/{case['id']}?tz=Europe/Paris", firm)
    assert view["reference"] in subject
    assert [f["finding_id"] for f in view["findings"]] == [fid]
    ack = next(d for d in view["deadlines"] if d["phase"] == "acknowledge")
    assert ack["due"]["zone"] == "Europe/Paris" and (
        "CET" in ack["due"]["shown"] or "CEST" in ack["due"]["shown"]
    )
    thread = next(t for t in view["threads"] if t["finding_id"] == fid)

    # The firm acknowledges and replies in the finding's thread.
    move_finding(client, firm, fid, "acknowledged")
    call(
        client,
        "POST",
        f"/api/v1/threads/{thread['id']}/messages",
        firm,
        201,
        json={"text": "We are replacing the pickle with safetensors."},
    )
    container.queue.join()
    said = call(client, "GET", f"/api/v1/threads/{thread['id']}/messages", rev)["messages"]
    assert [m["text"] for m in said] == ["We are replacing the pickle with safetensors."]
    view = call(client, "GET", f"/api/v1/cases/{case['id']}", coord)
    phases = {d["phase"]: d for d in view["deadlines"]}
    assert phases["acknowledge"]["met_at"] is not None and "fix" in phases

    # The fix: a new submission without the payload, rescanned, verified, signed off.
    move_finding(client, firm, fid, "fix_in_progress")
    fix = call(
        client,
        "POST",
        "/api/v1/submissions",
        firm,
        201,
        json={
            "model_id": prog.ids["model_a"],
            "title": "RC of a, fixed",
            "carries": ALL_SCOPES,
            "dossier": example("full"),
            "fixes_submission_id": sid,
        },
    )
    vault_factory.upload(
        client, firm, fix["id"], torch_style_checkpoint(BENIGN_PICKLE), name="model.pt"
    )
    container.queue.join()
    move_finding(client, firm, fid, "fix_submitted")
    move_finding(client, rev, fid, "fix_verified")
    for who in (rev, coord):
        call(
            client,
            "POST",
            f"/api/v1/submissions/{sid}/signoffs",
            who,
            201,
            json={"decision": "approve", "comment": "fixed"},
        )
    move_submission(client, rev, sid, "review_complete")
    container.queue.join()
    view = call(client, "GET", f"/api/v1/cases/{case['id']}", coord)
    assert {d["phase"]: d for d in view["deadlines"]}["fix"]["met_at"] is not None

    # The advisory: drafted, reviewed, approved; published once the firm consents.
    adv = call(
        client,
        "POST",
        f"/api/v1/cases/{case['id']}/advisories",
        coord,
        201,
        json={
            "title": "Code execution on load in Model a",
            "summary": "A pickle in the weights ran code.",
            "vulnerabilities": {
                fid: {"cwe": "CWE-502", "remediation": "Use safetensors.", "fixed": True}
            },
        },
    )
    for target in ("in_review", "approved"):
        call(
            client, "POST", f"/api/v1/advisories/{adv['id']}/moves", coord, json={"target": target}
        )
    refused = call(
        client,
        "POST",
        f"/api/v1/advisories/{adv['id']}/moves",
        coord,
        409,
        json={"target": "published"},
    )
    assert "consent" in refused["detail"]
    call(client, "POST", f"/api/v1/cases/{case['id']}/consent", firm)
    call(
        client, "POST", f"/api/v1/advisories/{adv['id']}/moves", coord, json={"target": "published"}
    )
    doc = call(client, "GET", f"/api/v1/advisories/{adv['id']}/export?format=csaf", coord)
    assert_valid_csaf(doc)
    assert doc["document"]["tracking"]["status"] == "final"
    assert doc["vulnerabilities"][0]["ids"][0]["text"] == fid
