"""Triage and lifecycle through the API: ingest is idempotent, bad input is refused with a
message naming the problem and nothing written, each side makes only its own moves."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from airlock.core.transitions import Transition
from airlock.findings import ingest
from airlock.findings.models import Finding, FindingDecision, FindingEvidence, Signoff
from airlock.scanning.engine import ENGINE_NAME
from airlock.scanning.models import ScanRun
from tests.factories import vault as vault_factory
from tests.factories.accounts import auth
from tests.factories.findings import call, findings_of, move_finding, move_submission
from tests.factories.program import make_program
from tests.factories.scanning import EVIL_PICKLE, torch_style_checkpoint


def _counts(container):
    with container.uow() as uow:
        s = uow.session
        return tuple(
            s.scalar(select(func.count()).select_from(t))
            for t in (Finding, FindingEvidence, FindingDecision, Transition, Signoff)
        )


@pytest.fixture
def scanned(client, container):
    prog = make_program(container)
    firm = auth(container, prog.actors["firm_a_admin"])
    vault_factory.upload(
        client, firm, prog.ids["sub_a"], torch_style_checkpoint(EVIL_PICKLE), name="m.pt"
    )
    container.queue.join()
    return prog


def test_ingest_run_twice_adds_nothing_the_second_time(container, scanned):
    before = _counts(container)
    with container.uow() as uow:
        runs = list(uow.session.scalars(select(ScanRun.id)))
        for run_id in runs:
            assert ingest.ingest_run(uow, run_id=run_id) == []
        uow.commit()
    assert _counts(container) == before
    assert before[0] >= 1 and before[1] >= before[0]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"severity": "catastrophic"}, "severity: must be one of"),
        ({"severity": "high", "cvss_vector": "CVSS:4.0/AV:X"}, "cvss_vector: does not parse"),
        ({"severity": "high", "cvss_vector": "CVSS:3.1/AV:N"}, "CVSS 4.0"),
        ({"severity": "high", "atlas": ["AML.T9999"]}, "atlas: 'AML.T9999'"),
        ({"severity": "high", "owasp_llm": ["LLM01"]}, "like LLM01:2025"),
        ({"severity": "high", "owasp_llm": ["LLM01:2023"]}, "only the 2025 edition"),
        ({"severity": "high", "cwe": ["502"]}, "cwe: '502'"),
    ],
)
def test_a_bad_confirmation_is_refused_naming_the_field_and_writes_nothing(
    client, container, scanned, body, message
):
    rev = auth(container, scanned.actors["reviewer"])
    fid = findings_of(client, rev, scanned.ids["sub_a"])[0]["id"]
    before = _counts(container)
    out = call(client, "POST", f"/api/v1/findings/{fid}/confirm", rev, 422, json=body)
    assert message in out["detail"]
    assert _counts(container) == before


def test_reasons_are_required_and_illegal_moves_refused_with_nothing_written(
    client, container, scanned
):
    sid = scanned.ids["sub_a"]
    rev = auth(container, scanned.actors["reviewer"])
    firm = auth(container, scanned.actors["firm_a_admin"])
    coord = auth(container, scanned.actors["coordinator"])
    fid = findings_of(client, rev, sid)[0]["id"]
    before = _counts(container)
    out = call(client, "POST", f"/api/v1/findings/{fid}/false-positive", rev, 422, json={})
    assert "reason: required" in out["detail"]
    out = move_finding(client, rev, fid, "closed", status=409)
    assert "cannot go from draft" in out["detail"]
    move_finding(client, firm, fid, "acknowledged", status=404)  # a draft is not the firm's
    other = auth(container, scanned.actors["other_reviewer"])
    move_finding(client, other, fid, "notified", status=403)  # not assigned
    assert _counts(container) == before

    call(client, "POST", f"/api/v1/findings/{fid}/confirm", rev, json={"severity": "high"})
    move_finding(client, rev, fid, "notified")
    before = _counts(container)
    out = move_finding(client, firm, fid, "disputed", status=422)
    assert "reason: required" in out["detail"]
    move_finding(client, rev, fid, "acknowledged", status=403)  # the firm's move
    out = move_finding(client, rev, fid, "risk_accepted", reason="x", status=403)
    assert "may not do this (finding.accept_risk)" in out["detail"]
    out = move_finding(client, coord, fid, "risk_accepted", status=422)
    assert "reason: required" in out["detail"]
    assert _counts(container) == before
    move_finding(client, firm, fid, "disputed", reason="the global is never reached")
    move_finding(client, coord, fid, "risk_accepted", reason="internal model, no distribution")
    move_finding(client, rev, fid, "closed")


def test_bulk_false_positive_is_all_or_nothing(client, container, scanned):
    sid = scanned.ids["sub_a"]
    rev = auth(container, scanned.actors["reviewer"])
    ids = [f["id"] for f in findings_of(client, rev, sid)]
    call(client, "POST", f"/api/v1/findings/{ids[0]}/confirm", rev, json={"severity": "low"})
    extra = [*ids[1:], "0" * 32]
    before = _counts(container)
    out = call(
        client,
        "POST",
        "/api/v1/findings/false-positive",
        rev,
        404,
        json={"finding_ids": extra, "reason": "test fixture"},
    )
    assert out["detail"] == "not found"  # one body for every denied or missing object
    assert _counts(container) == before
    if ids[1:]:
        done = call(
            client,
            "POST",
            "/api/v1/findings/false-positive",
            rev,
            json={"finding_ids": ids[1:], "reason": "test fixture"},
        )
        assert {f["state"] for f in done["findings"]} == {"false_positive"}
    # Agency admins see each check's false-positive rate next to its state.
    admin = auth(container, scanned.actors["agency_admin"])
    body = call(client, "GET", "/api/v1/metrics/findings", admin)
    [check] = [c for c in body["checks"] if c["name"] == ENGINE_NAME]
    assert check["state"] == "enabled"
    assert (check["triaged"], check["false_positives"]) == (len(ids), len(ids) - 1)


def test_a_duplicate_points_at_another_finding_and_not_at_itself(client, container, scanned):
    sid = scanned.ids["sub_a"]
    rev = auth(container, scanned.actors["reviewer"])
    ids = [f["id"] for f in findings_of(client, rev, sid)]
    out = call(
        client,
        "POST",
        f"/api/v1/findings/{ids[0]}/duplicate",
        rev,
        422,
        json={"duplicate_of": ids[0]},
    )
    assert "cannot duplicate itself" in out["detail"]
    manual = call(
        client,
        "POST",
        "/api/v1/findings",
        rev,
        201,
        json={
            "submission_id": sid,
            "title": "Tokenizer config enables remote code",
            "description": "trust_remote_code in the shipped config",
            "severity": "medium",
            "cwe": ["CWE-94"],
        },
    )
    assert manual["state"] == "confirmed" and manual["manual"] and manual["check_name"] == "manual"
    assert manual["evidence"][0]["note"].startswith("trust_remote_code")
    dup = call(
        client,
        "POST",
        f"/api/v1/findings/{ids[0]}/duplicate",
        rev,
        json={"duplicate_of": manual["id"]},
    )
    assert dup["state"] == "duplicate"


def test_a_new_artifact_after_a_sign_off_reopens_it_and_says_why(client, container, scanned):
    sid = scanned.ids["sub_a"]
    rev = auth(container, scanned.actors["reviewer"])
    firm = auth(container, scanned.actors["firm_a_admin"])
    move_submission(client, rev, sid, "in_review")
    call(
        client,
        "POST",
        f"/api/v1/submissions/{sid}/signoffs",
        rev,
        201,
        json={"decision": "approve", "comment": "ok"},
    )
    out = call(
        client,
        "POST",
        f"/api/v1/submissions/{sid}/signoffs",
        rev,
        422,
        json={"decision": "request_changes", "comment": " "},
    )
    assert "comment: required" in out["detail"]
    status = call(client, "GET", f"/api/v1/submissions/{sid}/review-status", rev)
    assert status["missing_signoffs"] == ["coordinator"]
    vault_factory.upload(client, firm, sid, b"plain text notes", name="notes.txt", kind="other")
    container.queue.join()
    status = call(client, "GET", f"/api/v1/submissions/{sid}/review-status", rev)
    assert status["missing_signoffs"] == ["reviewer", "coordinator"]
    reopened = [s for s in status["signoffs"] if s["decision"] == "reopened"]
    assert len(reopened) == 1 and "notes.txt" in reopened[0]["comment"]


def test_the_sign_off_policy_is_data_an_agency_admin_edits(client, container, scanned):
    admin = auth(container, scanned.actors["agency_admin"])
    coord = auth(container, scanned.actors["coordinator"])
    call(client, "PUT", "/api/v1/signoff-policy", coord, 403, json={"required_roles": ["reviewer"]})
    out = call(
        client,
        "PUT",
        "/api/v1/signoff-policy",
        admin,
        422,
        json={"required_roles": ["developer_admin"]},
    )
    assert "'developer_admin' is not one of" in out["detail"]
    call(client, "PUT", "/api/v1/signoff-policy", admin, json={"required_roles": ["reviewer"]})
    assert call(client, "GET", "/api/v1/signoff-policy", coord)["required_roles"] == ["reviewer"]


def test_a_blocked_artifact_downloads_only_for_assigned_reviewers_confirming_its_finding(
    client, container
):
    from airlock.core.audit import AuditEvent

    prog = make_program(container)
    firm = auth(container, prog.actors["firm_a_admin"])
    rev = auth(container, prog.actors["reviewer"])
    data = torch_style_checkpoint(EVIL_PICKLE)  # zip entries carry the time: build once
    art = vault_factory.upload(client, firm, prog.ids["sub_a"], data, name="m.pt")
    container.queue.join()
    url = f"/api/v1/artifacts/{art['id']}/content"
    r = client.get(url, headers=firm)
    assert r.status_code == 403 and "blocked" in r.text  # not even the firm that uploaded it
    r = client.get(url, headers=auth(container, prog.actors["other_reviewer"]))
    assert r.status_code == 403
    r = client.get(url, headers=rev)
    assert r.status_code == 409, r.text
    blocking = [f for f in findings_of(client, rev, prog.ids["sub_a"]) if f["id"] in r.text]
    assert blocking, r.text  # the refusal names the finding
    fid = blocking[0]["id"]
    assert client.get(url + "?confirm_finding=" + "0" * 32, headers=rev).status_code == 409
    r = client.get(url + f"?confirm_finding={fid}", headers=rev)
    assert r.status_code == 200 and r.content == data
    with container.uow() as uow:
        rows = uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "artifact.downloaded_blocked")
        ).all()
        assert len(rows) == 1 and json.loads(rows[0].detail)["confirmed_finding"] == fid
        assert rows[0].actor_user_id == prog.actors["reviewer"].user_id


def test_evidence_attachments_are_encrypted_in_the_vault_and_read_on_need_to_know(
    client, container, scanned
):
    sid = scanned.ids["sub_a"]
    rev = auth(container, scanned.actors["reviewer"])
    fid = findings_of(client, rev, sid)[0]["id"]
    secret = b"proof of concept: the payload runs os.system on load\n" * 10
    out = call(
        client, "POST", f"/api/v1/findings/{fid}/attachments?name=poc.txt", rev, 201, content=secret
    )
    assert out["attachment_name"] == "poc.txt" and out["attachment_size"] == len(secret)
    with container.uow() as uow:
        row = uow.session.get(FindingEvidence, out["id"])
        stored = b"".join(container.blob_store.open(row.attachment_key))
    assert secret[:20] not in stored  # ciphertext at rest
    r = client.get(f"/api/v1/findings/{fid}/attachments/{out['id']}", headers=rev)
    assert r.status_code == 200 and r.content == secret
    coord = auth(container, scanned.actors["coordinator"])  # not assigned
    assert (
        client.get(f"/api/v1/findings/{fid}/attachments/{out['id']}", headers=coord).status_code
        == 403
    )
    before = _counts(container)
    for name, body, status in [
        ("../etc/passwd", b"x", 422),
        ("empty.txt", b"", 422),
        ("", b"x", 422),
    ]:
        r = client.post(
            f"/api/v1/findings/{fid}/attachments", params={"name": name}, content=body, headers=rev
        )
        assert r.status_code == status, r.text
        assert "name" in r.text or "empty" in r.text
    assert _counts(container) == before
    detail = call(client, "GET", f"/api/v1/findings/{fid}", rev)
    assert any(e["attachment_name"] == "poc.txt" for e in detail["evidence"])


def test_a_finding_made_concurrently_for_the_same_fingerprint_is_joined_not_duplicated(
    container, scanned
):
    from airlock.scanning.models import ScanResult

    with container.uow() as uow:
        existing = uow.session.scalars(
            select(Finding).where(Finding.check_name == ENGINE_NAME)
        ).first()
        results = list(
            uow.session.scalars(
                select(ScanResult).where(ScanResult.fingerprint == existing.fingerprint)
            )
        )
        # As if another worker committed the finding after this one looked and found none.
        again = ingest._create(uow.session, existing.submission_id, existing.fingerprint, results)
        assert again.id == existing.id
        uow.commit()
    with container.uow() as uow:
        n = uow.session.scalar(
            select(func.count())
            .select_from(Finding)
            .where(
                Finding.submission_id == existing.submission_id,
                Finding.fingerprint == existing.fingerprint,
            )
        )
    assert n == 1


def test_every_move_publishes_finding_moved_for_later_stages(client, container, scanned):
    from airlock.core import events, jobs

    seen = []
    name = "test.findings_moved_probe"
    jobs.handler(name)(lambda uow, payload: seen.append(dict(payload)))
    events.subscribe("finding.moved", name)
    try:
        rev = auth(container, scanned.actors["reviewer"])
        fid = findings_of(client, rev, scanned.ids["sub_a"])[0]["id"]
        call(client, "POST", f"/api/v1/findings/{fid}/confirm", rev, json={"severity": "high"})
        move_finding(client, rev, fid, "notified")
        container.queue.join()
    finally:
        events.unsubscribe("finding.moved", name)
    # two in-process workers may run the two jobs in either order
    assert sorted(seen, key=lambda p: p["to"]) == [
        {"finding_id": fid, "from": "draft", "to": "confirmed"},
        {"finding_id": fid, "from": "confirmed", "to": "notified"},
    ]
