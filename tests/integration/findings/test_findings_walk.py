"""A critical pickle finding walked end to end through the API: scan, triage, notify, the
firm's fix, the rescan that shows it fixed, verification, sign-off and review complete."""

from __future__ import annotations

import pickletools

from sqlalchemy import select

from airlock.core.transitions import ObjectType, Transition
from airlock.findings.models import FindingDecision, FindingEvidence
from tests.factories import vault as vault_factory
from tests.factories.accounts import auth
from tests.factories.findings import call, findings_of, move_finding, move_submission
from tests.factories.program import ALL_SCOPES, example, make_program
from tests.factories.scanning import BENIGN_PICKLE, EVIL_PICKLE, torch_style_checkpoint

CVSS = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:P/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H"


def _fix_submission(client, container, firm, sid, model_id, payload):
    fix = call(
        client,
        "POST",
        "/api/v1/submissions",
        firm,
        201,
        json={
            "model_id": model_id,
            "title": "RC of a, fixed",
            "carries": ALL_SCOPES,
            "dossier": example("full"),
            "fixes_submission_id": sid,
        },
    )
    assert fix["fixes_submission_id"] == sid
    vault_factory.upload(client, firm, fix["id"], torch_style_checkpoint(payload), name="model.pt")
    container.queue.join()
    return fix["id"]


def test_a_critical_pickle_finding_walks_from_upload_to_a_verified_fix_and_sign_off(
    client, container
):
    prog = make_program(container)
    firm = auth(container, prog.actors["firm_a_admin"])
    rev = auth(container, prog.actors["reviewer"])
    coord = auth(container, prog.actors["coordinator"])
    sid = prog.ids["sub_a"]

    # The payload is read opcode by opcode (pickletools never executes it): os.system, REDUCE.
    ops = [(op.name, arg) for op, arg, _ in pickletools.genops(EVIL_PICKLE)]
    assert ("GLOBAL", "os system") in ops and ("REDUCE", None) in ops
    # The same booby-trapped checkpoint in three files: one finding with three evidence rows.
    for name in ("model.pt", "model-copy.pt", "shard-2.pt"):
        vault_factory.upload(client, firm, sid, torch_style_checkpoint(EVIL_PICKLE), name=name)
    container.queue.join()
    move_submission(client, rev, sid, "in_review")

    drafts = findings_of(client, rev, sid)
    blocking = [f for f in drafts if f["reported_verdict"] == "block"]
    assert blocking and all(f["state"] == "draft" for f in drafts)
    assert findings_of(client, firm, sid) == []  # nothing reaches the firm before notification
    finding = next(f for f in blocking if f["reported_severity"] == "critical")
    fid = finding["id"]
    detail = call(client, "GET", f"/api/v1/findings/{fid}", rev)
    assert len(detail["evidence"]) == 3
    assert {e["location"] for e in detail["evidence"]} == {
        "model.pt!archive/data.pkl",
        "model-copy.pt!archive/data.pkl",
        "shard-2.pt!archive/data.pkl",
    }

    # The untriaged block keeps the review from completing, and says so.
    out = move_submission(client, rev, sid, "review_complete", status=409)
    assert "not triaged" in out["detail"]

    confirmed = call(
        client,
        "POST",
        f"/api/v1/findings/{fid}/confirm",
        rev,
        json={
            "severity": "critical",
            "cvss_vector": CVSS,
            "atlas": ["AML.T0010.003"],
            "owasp_llm": ["LLM03:2025"],
            "cwe": ["CWE-502"],
            "note": "os.system on load",
        },
    )
    assert confirmed["state"] == "confirmed" and confirmed["severity"] == "critical"
    # Other drafts (of the same upload, and the dossier checks' discrepancies) are set aside
    # in one bulk decision.
    others = [f["id"] for f in findings_of(client, rev, sid, check=None) if f["id"] != fid]
    if others:
        call(
            client,
            "POST",
            "/api/v1/findings/false-positive",
            rev,
            json={"finding_ids": others, "reason": "same payload as the confirmed finding"},
        )
    move_finding(client, rev, fid, "notified")
    inbox = findings_of(client, firm, sid)
    assert [f["id"] for f in inbox] == [fid] and inbox[0]["state_label"] == "Sent to the firm"
    assert "acknowledged" in inbox[0]["allowed_moves"]

    move_finding(client, firm, fid, "acknowledged")
    move_finding(client, firm, fid, "fix_in_progress")
    out = move_finding(client, firm, fid, "fix_submitted", status=422)
    assert "fixes_submission_id" in out["detail"]

    # A fix that still carries the payload: the diff says so and verification is refused.
    bad = _fix_submission(client, container, firm, sid, prog.ids["model_a"], EVIL_PICKLE)
    diff = call(client, "GET", f"/api/v1/submissions/{sid}/fix-diff", rev)
    assert diff["fix_submission_id"] == bad and diff["scanned"]
    assert diff["still_present"] == 1 and diff["fixed"] == 0
    move_finding(client, firm, fid, "fix_submitted")
    out = move_finding(client, rev, fid, "fix_verified", status=409)
    assert "still_present" in out["detail"]
    move_finding(client, rev, fid, "fix_in_progress", status=403)  # the firm's move, not ours
    move_finding(client, firm, fid, "fix_in_progress")

    good = _fix_submission(client, container, firm, sid, prog.ids["model_a"], BENIGN_PICKLE)
    diff = call(client, "GET", f"/api/v1/submissions/{sid}/fix-diff", firm)
    assert diff["fix_submission_id"] == good
    row = next(r for r in diff["rows"] if r["finding_id"] == fid)
    assert row["status"] == "fixed" and diff["new"] == 0
    move_finding(client, firm, fid, "fix_submitted")
    move_finding(client, rev, fid, "fix_verified")

    # Sign-off by the default roles, then the review completes.
    out = move_submission(client, rev, sid, "review_complete", status=409)
    assert "sign-off still needed from: reviewer, coordinator" in out["detail"]
    call(
        client,
        "POST",
        f"/api/v1/submissions/{sid}/signoffs",
        rev,
        201,
        json={"decision": "approve", "comment": "fix verified"},
    )
    status = call(client, "GET", f"/api/v1/submissions/{sid}/review-status", coord)
    assert status["missing_signoffs"] == ["coordinator"] and not status["may_complete"]
    call(
        client,
        "POST",
        f"/api/v1/submissions/{sid}/signoffs",
        coord,
        201,
        json={"decision": "approve", "comment": ""},
    )
    move_submission(client, rev, sid, "review_complete")
    move_finding(client, rev, fid, "closed")

    history = call(client, "GET", f"/api/v1/findings/{fid}/history", firm)
    assert [h["to_state"] for h in history] == [
        "draft",
        "confirmed",
        "notified",
        "acknowledged",
        "fix_in_progress",
        "fix_submitted",
        "fix_in_progress",
        "fix_submitted",
        "fix_verified",
        "closed",
    ]
    with container.uow() as uow:
        [decision] = uow.session.scalars(
            select(FindingDecision).where(FindingDecision.finding_id == fid)
        ).all()
        assert decision.cvss_score is not None and decision.cvss_score >= 9.0
        assert decision.cwe == ["CWE-502"] and decision.owasp_llm == ["LLM03:2025"]
        n = uow.session.scalars(
            select(Transition).where(
                Transition.object_type == ObjectType.FINDING, Transition.object_id == fid
            )
        ).all()
        assert len(n) == len(history)
        assert (
            len(
                uow.session.scalars(
                    select(FindingEvidence).where(FindingEvidence.finding_id == fid)
                ).all()
            )
            == 3
        )
